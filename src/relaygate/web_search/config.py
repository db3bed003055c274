"""A workspace's search backend as the data plane holds it, and one query to it.

The control plane stores the backend (``/v2/search/backend``, ``store/search_backends.py``);
the catalog decrypts its key once per rebuild and keeps a ``SearchBackend`` per workspace, so
a call that searches reads it with one dict lookup. ``SearchQuery`` is what the search
loop asks of it: the text, how many results, the allowed domains and the user's location.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, Literal, get_args

BackendKind = Literal["searxng", "brave", "tavily"]
BACKEND_KINDS: Final[tuple[BackendKind, ...]] = get_args(BackendKind)

# Where the hosted APIs live; a SearXNG is the operator's own and has no default. Each can be
# set per backend (a proxy in front of Brave, or a test server speaking its API).
DEFAULT_BASE_URLS: Final[dict[BackendKind, str]] = {
    "brave": "https://api.search.brave.com/res/v1",
    "tavily": "https://api.tavily.com",
}
KEY_REQUIRED: Final[frozenset[BackendKind]] = frozenset({"brave", "tavily"})


def backend_kind(value: str) -> BackendKind | None:
    """``value`` as a backend kind, None when relaygate knows no such backend."""
    return next((kind for kind in BACKEND_KINDS if kind == value), None)


DEFAULT_MAX_SEARCHES = 3
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_CACHE_TTL_S = 300


@dataclass(frozen=True, slots=True)
class SearchBackend:
    """One workspace's backend, key decrypted (never printed: ``repr=False``)."""

    id: str
    workspace_id: str
    kind: BackendKind
    base_url: str  # without a trailing slash
    api_key: str = field(repr=False)  # "" for a SearXNG without one
    max_searches: int = DEFAULT_MAX_SEARCHES  # per call; then one last round without the tool
    timeout_s: float = DEFAULT_TIMEOUT_S  # one search, connect to last byte
    cache_ttl_s: int = DEFAULT_CACHE_TTL_S  # 0: no cache
    price_per_1000: Decimal | None = None  # USD per 1000 searches; else the model's price
    prefer_relaygate: bool = False  # search here even for models whose upstream has its own


@dataclass(frozen=True, slots=True)
class Location:
    """The user's approximate location (OpenAI's ``user_location``), each part optional."""

    country: str | None = None  # ISO 3166 two-letter code
    region: str | None = None
    city: str | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str
    count: int  # results wanted (the backend may give fewer)
    allowed_domains: tuple[str, ...] = ()
    location: Location | None = None
