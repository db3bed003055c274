"""``POST /responses``: pass-through to upstreams that have it, translation onto chat otherwise.

``protocol`` holds the wire shapes, ``translate`` the request and whole-answer mapping,
``stream`` the streamed-answer mapping and ``serving`` the choice between the two modes.
"""

from __future__ import annotations

from .serving import ResponsesAdapter

__all__ = ["ResponsesAdapter"]
