"""Counting a rerank request's tokens when the upstream reports none."""

from __future__ import annotations

from relaygate.usage.tokenizer import count_prompt, count_text


def test_rerank_counts_the_query_and_every_document() -> None:
    model = "rerank-english"
    body = {"query": "cat", "documents": ["the cat sat", {"text": "a dog"}, {"image": "x"}, 7]}
    expected = sum(count_text(text, model) for text in ("cat", "the cat sat", "a dog"))
    assert count_prompt(body, model) == expected > 0
