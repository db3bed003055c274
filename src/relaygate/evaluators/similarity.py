"""Similarity to the expected output through an embedding model of the workspace.

One embeddings call embeds the output and the expected output together; the score is
their cosine similarity (-1 to 1), and ``threshold`` (optional) is the pass mark.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .fields import Fields, is_number
from .score import Sample, Score


class EmbeddingAnswerError(ValueError):
    """The embedding model's answer does not hold two vectors of one length."""


def configure(params: Fields) -> dict[str, Any]:
    params.only(("type", "model", "threshold"))
    return {"model": params.text("model", max_length=260), "threshold": params.number("threshold", -1.0, 1.0)}


def request_body(config: Mapping[str, Any], sample: Sample) -> dict[str, Any]:
    return {
        "model": config["model"],
        "input": [sample.output, sample.expected or ""],
        "encoding_format": "float",
    }


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """The cosine similarity of two vectors; 0.0 when either has no length."""
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norms if norms else 0.0


def _vector(item: Any) -> list[float]:
    vector = item.get("embedding") if isinstance(item, dict) else None
    if not isinstance(vector, list) or not vector or not all(is_number(x) for x in vector):
        raise EmbeddingAnswerError("the embedding model's answer holds no vector of numbers")
    return vector


def read_answer(config: Mapping[str, Any], answer: Mapping[str, Any]) -> Score:
    data = answer.get("data")
    if not isinstance(data, list) or len(data) != 2:
        raise EmbeddingAnswerError("the embedding model's answer does not hold two embeddings")
    ordered = sorted(data, key=lambda item: item.get("index", 0) if isinstance(item, dict) else 0)
    output, expected = (_vector(item) for item in ordered)
    if len(output) != len(expected):
        raise EmbeddingAnswerError("the embedding model answered vectors of different lengths")
    similarity = cosine(output, expected)
    threshold = config.get("threshold")
    passed = None if threshold is None else similarity >= threshold
    return Score(similarity, passed, f"Cosine similarity {similarity:.4f}.")
