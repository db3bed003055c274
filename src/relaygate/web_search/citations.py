"""Where an answer cites the search results it was given: ``url_citation`` annotations.

The model is asked to cite results as markdown links (``tool.py``); models also write bare
URLs, or ``[n]`` with a result's ``ref`` number. All three are found, and each becomes a
citation of the result it names, spanning exactly the characters that cite it (the whole
``[label](url)``, the URL, or ``[n]``), with the result's own title and URL. A link to a
URL that no search returned is no citation: relaygate only vouches for what it fetched.

Offsets count characters (code points) of the message's text, as Python indexes a string.
``CitationFinder`` works on text that grows (a streamed answer): each ``scan`` reports the
citations that can no longer change and holds back what may still become one (a bare URL
at the very end, or before a parenthesis not closed yet; a ``[`` whose rest of the text is
the beginning of a markdown link), so the citations of a text streamed in any pieces are
those of the whole text, found once each. Settled text is not scanned again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from .tool import Source

_LONGEST_LABEL = 301  # "[" and a link's label
_URL_CHARS = r"(?:[^\s()<>\[\]\"'`]|\([^\s()<>\[\]]*\))"
_CITATION = re.compile(
    rf"\[(?P<label>[^\[\]\n]{{1,{_LONGEST_LABEL - 1}}})\]\((?P<link>https?://{_URL_CHARS}{{1,2048}})\)"
    r"|\[(?P<ref>\d{1,3})\](?!\()"
    rf"|(?P<bare>https?://{_URL_CHARS}{{1,2048}})"
)
_UNCLOSED = re.compile(r"\([^\s()<>\[\]]*")  # a parenthesis a URL may still close
# The beginning of a markdown link: "[label", "[label]", "[label](", "[label](htt", "[label](https://x.org/a".
_LINK_START = re.compile(
    rf"\[[^\[\]\n]{{0,{_LONGEST_LABEL - 1}}}"
    rf"(?:\](?:\((?:h(?:t(?:t(?:p(?:s?(?::(?:/(?:/{_URL_CHARS}*(?:\([^\s()<>\[\]]*)?)?)?)?)?)?)?)?)?)?)?"
)
_TRAILING = ".,;:!?*_~"
# A markdown link is never longer than this: a "[" further back starts none still growing.
_LONGEST = 2400


@dataclass(frozen=True, slots=True)
class Citation:
    url: str
    title: str
    start_index: int
    end_index: int

    def annotation(self) -> dict[str, object]:
        """The Responses API's ``url_citation`` annotation."""
        return {
            "type": "url_citation",
            "start_index": self.start_index,
            "end_index": self.end_index,
            "title": self.title,
            "url": self.url,
        }

    def chat_annotation(self) -> dict[str, object]:
        """Chat completions' form: the same fields under ``url_citation``."""
        return {
            "type": "url_citation",
            "url_citation": {
                "start_index": self.start_index,
                "end_index": self.end_index,
                "title": self.title,
                "url": self.url,
            },
        }


def url_key(url: str) -> str:
    """A URL as compared: scheme and host in lower case, no fragment, no trailing slash."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


class Sources:
    """The results given to the model so far in one call, by ref and by URL (grows per search)."""

    def __init__(self) -> None:
        self._by_ref: dict[int, Source] = {}
        self._by_url: dict[str, Source] = {}

    @property
    def next_ref(self) -> int:
        return len(self._by_ref) + 1

    def add(self, sources: Iterable[Source]) -> None:
        for source in sources:
            self._by_ref[source.ref] = source
            self._by_url.setdefault(url_key(source.url), source)

    def by_ref(self, ref: int) -> Source | None:
        return self._by_ref.get(ref)

    def by_url(self, url: str) -> Source | None:
        return self._by_url.get(url_key(url))


def _cited(match: re.Match[str], sources: Sources) -> Citation | None:
    start, end = match.span()
    if match["link"] is not None:
        source = sources.by_url(match["link"])
    elif match["ref"] is not None:
        source = sources.by_ref(int(match["ref"]))
    else:
        url = match["bare"].rstrip(_TRAILING)
        end = start + len(url)
        source = sources.by_url(url)
    return Citation(source.url, source.title, start, end) if source is not None else None


def _link_prefix(text: str, floor: int) -> int | None:
    """Where a markdown link begins that the text's end may still complete, if any: the last
    ``[`` (not before ``floor``) whose rest of the text is the beginning of a link."""
    opening = text.rfind("[", max(floor, len(text) - _LONGEST), len(text))
    return opening if opening != -1 and _LINK_START.fullmatch(text, opening) is not None else None


def _may_grow(match: re.Match[str], text: str) -> bool:
    """A bare URL at the very end, or followed by a parenthesis not closed yet, may grow."""
    end = match.end()
    return match["bare"] is not None and (end == len(text) or _UNCLOSED.fullmatch(text, end) is not None)


class CitationFinder:
    """The citations of one message's text, found as the text grows."""

    def __init__(self, sources: Sources) -> None:
        self._sources = sources
        self._settled = 0  # text before this offset holds no citation still to report

    def scan(self, text: str, *, final: bool = False) -> list[Citation]:
        """Citations settled in ``text`` since the last scan; ``final``: the text is complete."""
        hold = None if final else _link_prefix(text, self._settled)
        found: list[Citation] = []
        for match in _CITATION.finditer(text, self._settled, len(text) if hold is None else hold):
            if not final and _may_grow(match, text):
                self._settled = match.start()
                return found
            citation = _cited(match, self._sources)
            if citation is not None:
                found.append(citation)
            self._settled = match.end()
        if final:
            self._settled = len(text)
        elif hold is not None:
            self._settled = hold
        else:  # no citation starts before the end but a bare URL's "https://" not complete yet
            self._settled = max(self._settled, len(text) - len("https://"))
        return found


def find_citations(text: str, sources: Sources) -> list[Citation]:
    """Every citation of a complete text."""
    return CitationFinder(sources).scan(text, final=True)
