"""Counting tokens offline when the upstream reports none (the event is then `estimated`).

`bpe-openai` ships the o200k and cl100k encodings inside the package, so nothing is
downloaded at run time. Encodings load lazily (about 30 ms each) and only when an
upstream fails to report usage; calls that carry usage never touch this module.
The chat count follows OpenAI's published rule of thumb: 3 tokens of framing per
message, 1 per name, 3 to prime the reply.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

import bpe_openai

_DEFAULT_ENCODING = "o200k_base"
_PER_MESSAGE = 3
_PER_NAME = 1
_REPLY_PRIMING = 3


class _Encoding(Protocol):
    def encode_ordinary(self, text: str) -> list[int]: ...


@lru_cache(maxsize=8)
def _encoding(name: str) -> _Encoding:
    encoding: _Encoding = bpe_openai.get_encoding(name)
    return encoding


def encoding_name(model_id: str) -> str:
    """The model's own encoding when bpe-openai knows the model, else o200k (today's default)."""
    try:
        name: str = bpe_openai.encoding_name_for_model(model_id)
    except (KeyError, bpe_openai.UnsupportedModelError):
        return _DEFAULT_ENCODING
    return name if name in ("o200k_base", "cl100k_base") else _DEFAULT_ENCODING


def count_text(text: str, model_id: str) -> int:
    if not text:
        return 0
    return len(_encoding(encoding_name(model_id)).encode_ordinary(text))


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (part.get("text") for part in content if isinstance(part, dict))
        return "\n".join(part for part in parts if isinstance(part, str))
    return ""


def count_messages(messages: Any, model_id: str) -> int:
    if not isinstance(messages, list):
        return 0
    total = _REPLY_PRIMING
    for message in messages:
        if not isinstance(message, dict):
            continue
        total += _PER_MESSAGE + count_text(_content_text(message.get("content")), model_id)
        if isinstance(message.get("name"), str):
            total += _PER_NAME + count_text(message["name"], model_id)
    return total


def count_prompt(body: dict[str, Any], model_id: str) -> int:
    """Prompt tokens of a chat, completion, embedding or rerank request body."""
    if "messages" in body:
        return count_messages(body["messages"], model_id)
    if "query" in body and "documents" in body:
        return _count_rerank(body["query"], body["documents"], model_id)
    value = body.get("prompt", body.get("input"))
    if isinstance(value, str):
        return count_text(value, model_id)
    if isinstance(value, list):
        return sum(count_text(item, model_id) for item in value if isinstance(item, str))
    return 0


def _count_rerank(query: Any, documents: Any, model_id: str) -> int:
    """The query and every document (a string, or an object with ``text``)."""
    total = count_text(query, model_id) if isinstance(query, str) else 0
    for document in documents if isinstance(documents, list) else ():
        text = document.get("text") if isinstance(document, dict) else document
        if isinstance(text, str):
            total += count_text(text, model_id)
    return total
