"""Search results as the model gets them: ``{title, url, snippet}``, cleaned, filtered, bounded.

Every backend's answer is reduced to ``SearchResult``s here, whatever its wire shape:
markup taken out of titles and snippets (Brave marks matches with ``<strong>``), whitespace
collapsed, results without an http(s) URL dropped, duplicates (the same URL twice) dropped.
``allowed_domains`` keeps a result only when its host is one of the domains or under one
(``example.com`` allows ``docs.example.com``), as OpenAI's filter does. ``search_context_size``
decides how much of it reaches the model: how many results and how long each snippet.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

ContextSize = Literal["low", "medium", "high"]
CONTEXT_SIZES: tuple[ContextSize, ...] = ("low", "medium", "high")

_TAG = re.compile(r"<[^>]{0,200}>")
_SPACE = re.compile(r"\s+")
MAX_TITLE_CHARS = 300
MAX_URL_CHARS = 2048


@dataclass(frozen=True, slots=True)
class ContextBudget:
    """How much of a search goes to the model: ``results`` at most, each snippet cut at ``snippet_chars``."""

    results: int
    snippet_chars: int


# OpenAI's default is "medium"; the figures keep a search's tool message near 0.5k, 1.5k, 5k tokens.
CONTEXT_BUDGETS: Mapping[ContextSize, ContextBudget] = {
    "low": ContextBudget(results=3, snippet_chars=300),
    "medium": ContextBudget(results=5, snippet_chars=600),
    "high": ContextBudget(results=10, snippet_chars=1200),
}


@dataclass(frozen=True, slots=True)
class SearchResult:
    title: str
    url: str
    snippet: str


def plain_text(value: Any, limit: int) -> str:
    """A backend's text field as plain text: tags removed, entities decoded, spaces collapsed, cut."""
    if not isinstance(value, str):
        return ""
    text = _SPACE.sub(" ", html.unescape(_TAG.sub("", value))).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def web_url(value: Any) -> str | None:
    """``value`` when it is an absolute http(s) URL of reasonable length, else None."""
    if not isinstance(value, str) or len(value) > MAX_URL_CHARS:
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        return None
    return url


def normalise(
    items: Iterable[Mapping[str, Any]], *, title: str, url: str, snippet: str, snippet_chars: int
) -> list[SearchResult]:
    """Raw result objects -> results: ``title``, ``url`` and ``snippet`` name the backend's fields."""
    results: list[SearchResult] = []
    seen: set[str] = set()
    for item in items:
        address = web_url(item.get(url))
        if address is None or address in seen:
            continue
        seen.add(address)
        name = plain_text(item.get(title), MAX_TITLE_CHARS) or (urlsplit(address).hostname or address)
        results.append(SearchResult(name, address, plain_text(item.get(snippet), snippet_chars)))
    return results


def clean_domain(domain: str) -> str:
    """``https://Docs.Example.com/x`` or ``.example.com`` -> ``docs.example.com`` / ``example.com``."""
    text = domain.strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    return text.split("/", 1)[0].strip(".")


def in_domains(url: str, domains: tuple[str, ...]) -> bool:
    """The URL's host is one of ``domains`` or a subdomain of one (no domains: every URL)."""
    if not domains:
        return True
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def select(
    results: Iterable[SearchResult], domains: tuple[str, ...], budget: ContextBudget
) -> list[SearchResult]:
    """The results the model gets: in the allowed domains, at most ``budget.results`` of them."""
    kept = [result for result in results if in_domains(result.url, domains)]
    return kept[: budget.results]
