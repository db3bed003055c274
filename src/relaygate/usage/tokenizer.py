"""Counting tokens offline when the upstream reports none (the event is then `estimated`).

`bpe-openai` ships the o200k and cl100k encodings inside the package, so nothing is
downloaded at run time. It is imported only when a count is first needed: importing it
decodes its rank tables (about 0.4 s and 64 MB), and building an encoding costs about
0.25 s and 75 MB more (cl100k: 0.08 s, 35 MB), so a process whose upstreams all report
usage never pays for it. ``ensure_loaded(model_id)`` does that loading in a worker thread,
so the event loop keeps serving meanwhile; once it has returned, the counting functions
(plain, synchronous) never load anything. Called before it, they load what they need
themselves, on the caller's thread: the counts are the same, only the wait is not.

The chat count follows OpenAI's published rule of thumb: 3 tokens of framing per
message, 1 per name, 3 to prime the reply.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any, Protocol

_DEFAULT_ENCODING = "o200k_base"
_KNOWN_ENCODINGS = ("o200k_base", "cl100k_base")
_PER_MESSAGE = 3
_PER_NAME = 1
_REPLY_PRIMING = 3
# Model ids remembered with their encoding; past this many, a model's encoding is looked
# up again (under the lock, in the library's own table) on each count.
_REMEMBERED_MODELS = 1024


class _Encoding(Protocol):
    def encode_ordinary(self, text: str) -> list[int]: ...


class _Encodings:
    """The encodings built so far, by name and by the model ids that use them. Loading holds
    a lock, so two threads never build one encoding twice; a lookup of a model already seen
    takes no lock (one dict read)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_name: dict[str, _Encoding] = {}
        self._by_model: dict[str, _Encoding] = {}

    def loaded(self, model_id: str) -> _Encoding | None:
        return self._by_model.get(model_id)

    def load(self, model_id: str) -> _Encoding:
        found = self._by_model.get(model_id)
        if found is not None:
            return found
        with self._lock:
            import bpe_openai  # here, not at the top: the point of this module (see above)

            name = _encoding_name(bpe_openai, model_id)
            encoding = self._by_name.get(name)
            if encoding is None:
                encoding = self._by_name[name] = bpe_openai.get_encoding(name)
            if len(self._by_model) < _REMEMBERED_MODELS:
                self._by_model[model_id] = encoding
            return encoding


def _encoding_name(library: Any, model_id: str) -> str:
    """The model's own encoding when bpe-openai knows the model, else o200k (today's default)."""
    try:
        name: str = library.encoding_name_for_model(model_id)
    except (KeyError, library.UnsupportedModelError):
        return _DEFAULT_ENCODING
    return name if name in _KNOWN_ENCODINGS else _DEFAULT_ENCODING


# The process's one cache of the library's encodings (what importing it holds is
# process-wide anyway, in ``sys.modules``).
_ENCODINGS = _Encodings()


def is_loaded(model_id: str) -> bool:
    """Whether counting for ``model_id`` is ready: no loading left, on any thread."""
    return _ENCODINGS.loaded(model_id) is not None


async def ensure_loaded(model_id: str) -> None:
    """Makes counting for ``model_id`` ready without holding up the event loop: the library
    and the model's encoding are loaded in a worker thread the first time (concurrent
    callers wait for the same load), and at once afterwards. A caller cancelled meanwhile
    leaves the load running to its end, for the next one."""
    if _ENCODINGS.loaded(model_id) is None:
        await asyncio.to_thread(_ENCODINGS.load, model_id)


def count_text(text: str, model_id: str) -> int:
    if not text:
        return 0
    return len(_ENCODINGS.load(model_id).encode_ordinary(text))


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


def count_prompt(body: Mapping[str, Any], model_id: str) -> int:
    """Prompt tokens of a chat, completion, embedding or rerank request body."""
    if "messages" in body:
        return count_messages(body["messages"], model_id)
    if "query" in body and "documents" in body:
        return _count_rerank(body["query"], body["documents"], model_id)
    value = body.get("prompt", body.get("input"))
    if isinstance(value, str):
        return count_text(value, model_id)
    if isinstance(value, list):
        if any(isinstance(item, dict) for item in value):  # Responses input items: messages
            return count_messages(value, model_id)
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
