"""Citations of search results in an answer: what counts, where exactly, found whole or as it streams."""

from __future__ import annotations

import random

import pytest

from relaygate.web_search.citations import Citation, CitationFinder, Sources, find_citations
from relaygate.web_search.tool import Source

SOURCES = [
    Source(1, "Relaygate news", "https://news.example.com/relaygate"),
    Source(2, "Foo (bar)", "https://en.wikipedia.org/wiki/Foo_(bar)"),
    Source(3, "Docs", "https://docs.example.com/"),
]


def _sources() -> Sources:
    sources = Sources()
    sources.add(SOURCES)
    return sources


def _spans(text: str, citations: list[Citation]) -> list[str]:
    return [text[c.start_index : c.end_index] for c in citations]


def test_a_markdown_link_to_a_result_is_cited_over_its_whole_span() -> None:
    text = "Read [the news](https://news.example.com/relaygate) today."
    [citation] = find_citations(text, _sources())
    assert _spans(text, [citation]) == ["[the news](https://news.example.com/relaygate)"]
    assert (citation.title, citation.url) == ("Relaygate news", "https://news.example.com/relaygate")


def test_bare_urls_lose_trailing_punctuation_and_keep_balanced_parentheses() -> None:
    text = "See https://news.example.com/relaygate. And (https://en.wikipedia.org/wiki/Foo_(bar)), too."
    citations = find_citations(text, _sources())
    assert _spans(text, citations) == [
        "https://news.example.com/relaygate",
        "https://en.wikipedia.org/wiki/Foo_(bar)",
    ]


def test_ref_numbers_cite_the_result_of_that_number_only() -> None:
    text = "Two sources [1][3], and [7] which no search returned, and [2](https://elsewhere.example)."
    citations = find_citations(text, _sources())
    assert _spans(text, citations) == ["[1]", "[3]"]
    assert [c.url for c in citations] == ["https://news.example.com/relaygate", "https://docs.example.com/"]


def test_links_to_pages_no_search_returned_are_not_citations() -> None:
    assert (
        find_citations("Try [this](https://made-up.example/page) or https://other.example", _sources()) == []
    )


def test_urls_match_across_case_trailing_slash_and_fragment() -> None:
    text = "At https://DOCS.example.com#top and https://news.example.com/relaygate/."
    assert [c.url for c in find_citations(text, _sources())] == [
        "https://docs.example.com/",
        "https://news.example.com/relaygate",
    ]


def test_offsets_count_characters_not_bytes() -> None:
    text = "Ünïcödé ✓ [news](https://news.example.com/relaygate)"
    [citation] = find_citations(text, _sources())
    assert text[citation.start_index : citation.end_index] == "[news](https://news.example.com/relaygate)"


def test_annotation_shapes_of_both_apis() -> None:
    citation = Citation("https://a.example", "A", 1, 5)
    assert citation.annotation() == {
        "type": "url_citation",
        "start_index": 1,
        "end_index": 5,
        "title": "A",
        "url": "https://a.example",
    }
    assert citation.chat_annotation() == {
        "type": "url_citation",
        "url_citation": {"start_index": 1, "end_index": 5, "title": "A", "url": "https://a.example"},
    }


ANSWER = (
    "Per [the news](https://news.example.com/relaygate) and https://docs.example.com/, relaygate "
    "searches [1]. "
    "More at https://en.wikipedia.org/wiki/Foo_(bar). [2](https://news.example.com/relaygate) too [3]"
)


@pytest.mark.parametrize("seed", range(25))
def test_a_streamed_text_gives_the_citations_of_the_whole_text(seed: int) -> None:
    pieces, rest, draw = [], ANSWER, random.Random(seed)
    while rest:
        cut = draw.randint(1, 9)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    finder, text, found = CitationFinder(_sources()), "", []
    for piece in pieces:
        text += piece
        settled = finder.scan(text)
        assert all(c.end_index <= len(text) for c in settled)
        found += settled
    found += finder.scan(text, final=True)
    assert found == find_citations(ANSWER, _sources())
    assert len(found) == 6


PIECES = (
    "[x](https://news.example.com/relaygate)",
    "https://docs.example.com/",
    "[1]",
    "[2]",
    "[9]",
    "(https://en.wikipedia.org/wiki/Foo_(bar))",
    "[t](https://docs.example.com/)",
    "**https://docs.example.com**",
    "https://x.org",
    "ttps://docs.example.com/",
    *" .[]()h\n",
    "](",
    "text",
    "word " * 60,
)


def test_any_text_streamed_in_any_pieces_gives_the_citations_of_the_whole_text() -> None:
    for seed in range(400):
        draw = random.Random(seed)
        whole = "".join(draw.choice(PIECES) for _ in range(draw.randint(1, 40)))
        finder, text, found = CitationFinder(_sources()), "", []
        while len(text) < len(whole):
            text = whole[: len(text) + draw.randint(1, 7)]
            found += finder.scan(text)
        found += finder.scan(text, final=True)
        assert found == find_citations(whole, _sources()), whole


def test_a_bare_url_at_the_end_of_a_growing_text_waits_for_what_follows() -> None:
    finder = CitationFinder(_sources())
    assert finder.scan("see https://docs.example.com") == []  # it may still grow
    assert finder.scan("see https://docs.example.com/more") == []
    assert finder.scan("see https://docs.example.com/more ok", final=True) == []  # another page
    finder = CitationFinder(_sources())
    assert finder.scan("see https://docs.example.com") == []
    assert len(finder.scan("see https://docs.example.com now")) == 1


def test_sources_number_on_across_searches() -> None:
    sources = Sources()
    assert sources.next_ref == 1
    sources.add(SOURCES[:2])
    assert sources.next_ref == 3
    assert sources.by_ref(2) == SOURCES[1]
    assert sources.by_url("https://news.example.com/relaygate/") == SOURCES[0]
