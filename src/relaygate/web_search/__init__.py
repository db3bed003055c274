"""Web search run by relaygate, on a search backend the operator controls.

A ``/responses`` call with the ``web_search`` tool, or a chat call with
``web_search_options``, on a model that can call tools: relaygate offers the model a
``web_search`` function, runs the searches it asks for here, feeds the results back and
hands the answer over with ``url_citation`` annotations (the loop itself is the router's:
``router/search/``). This package knows the search side only and imports neither plane:

* ``config``: a workspace's backend as the catalog holds it, and one query;
* ``backends``: the SearXNG, Brave and Tavily APIs, as requests to build and answers to read;
* ``results``: results normalised to ``{title, url, snippet}``, domain filter, context budget;
* ``searcher``: one search, bounded in time and size, through the upstream transport;
* ``cache``: a short per-query cache of results, per workspace;
* ``options``: the request's search options (context size, location, allowed domains);
* ``tool``: the function offered to the model and the tool messages it gets back;
* ``citations``: the citations of an answer, found as it streams.
"""

from __future__ import annotations

from .cache import ResultCache
from .config import BACKEND_KINDS, BackendKind, SearchBackend
from .searcher import SearchOutcome, WebSearcher

__all__ = ["BACKEND_KINDS", "BackendKind", "ResultCache", "SearchBackend", "SearchOutcome", "WebSearcher"]
