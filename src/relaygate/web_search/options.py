"""What a request asks of the search: the Responses ``web_search`` tool or chat's ``web_search_options``.

Both carry ``search_context_size`` (how much of the results reaches the model) and
``user_location`` (passed to backends that take one); the Responses tool also carries
``filters.allowed_domains``. Read once per call into ``SearchOptions``; a malformed value
is a 400 naming the parameter, as OpenAI answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from relaygate.errors import InvalidRequest

from .config import Location, SearchQuery
from .results import CONTEXT_BUDGETS, CONTEXT_SIZES, ContextBudget, ContextSize, clean_domain

# The Responses API's built-in search tool, under each of its names.
SEARCH_TOOL_TYPES = frozenset(
    {"web_search", "web_search_preview", "web_search_2025_08_26", "web_search_preview_2025_03_11"}
)
SOURCES_INCLUDE = "web_search_call.action.sources"
MAX_ALLOWED_DOMAINS = 100
_LOCATION_FIELDS = ("country", "region", "city", "timezone")


@dataclass(frozen=True, slots=True)
class SearchOptions:
    context: ContextSize = "medium"
    allowed_domains: tuple[str, ...] = ()
    location: Location | None = None

    @property
    def budget(self) -> ContextBudget:
        return CONTEXT_BUDGETS[self.context]

    def query(self, text: str) -> SearchQuery:
        # With allowed domains the results are filtered here too: ask for more to keep enough.
        count = self.budget.results * (2 if self.allowed_domains else 1)
        return SearchQuery(text, count, self.allowed_domains, self.location)


def is_search_tool(tool: Any) -> bool:
    return isinstance(tool, dict) and tool.get("type") in SEARCH_TOOL_TYPES


def _context(value: Any, param: str) -> ContextSize:
    if value is None:
        return "medium"
    for size in CONTEXT_SIZES:
        if value == size:
            return size
    raise InvalidRequest(f"'{param}' must be one of {', '.join(CONTEXT_SIZES)}.", param=param)


def _text(value: Any, param: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 128:
        raise InvalidRequest(f"'{param}' must be a string of at most 128 characters.", param=param)
    return value.strip() or None


def _location(value: Any, param: str) -> Location | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"'{param}' must be an object.", param=param)
    parts = {name: _text(value.get(name), f"{param}.{name}") for name in _LOCATION_FIELDS}
    return Location(**parts) if any(parts.values()) else None


def _domains(filters: Any, param: str) -> tuple[str, ...]:
    if filters is None:
        return ()
    domains = filters.get("allowed_domains") if isinstance(filters, Mapping) else filters
    if domains is None:
        return ()
    where = f"{param}.allowed_domains"
    if not isinstance(domains, list) or len(domains) > MAX_ALLOWED_DOMAINS:
        raise InvalidRequest(
            f"'{where}' must be an array of at most {MAX_ALLOWED_DOMAINS} domains.", param=where
        )
    cleaned = []
    for domain in domains:
        name = clean_domain(domain) if isinstance(domain, str) else ""
        if not name:
            raise InvalidRequest(f"'{where}' holds an entry that is not a domain name.", param=where)
        cleaned.append(name)
    return tuple(dict.fromkeys(cleaned))


def responses_options(tool: Mapping[str, Any]) -> SearchOptions:
    """The options of a Responses ``web_search`` tool."""
    return SearchOptions(
        _context(tool.get("search_context_size"), "tools.search_context_size"),
        _domains(tool.get("filters"), "tools.filters"),
        _location(tool.get("user_location"), "tools.user_location"),
    )


def chat_options(options: Any) -> SearchOptions:
    """Chat's ``web_search_options`` (``{}`` asks for the defaults)."""
    param = "web_search_options"
    if not isinstance(options, Mapping):
        raise InvalidRequest(f"'{param}' must be an object.", param=param)
    location = options.get("user_location")
    approximate = location.get("approximate") if isinstance(location, Mapping) else location
    return SearchOptions(
        _context(options.get("search_context_size"), f"{param}.search_context_size"),
        (),
        _location(approximate, f"{param}.user_location.approximate"),
    )
