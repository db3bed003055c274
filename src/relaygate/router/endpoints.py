"""Which router endpoint serves which model types, and how its body is forwarded.

Kinds: ``json`` bodies take the fast path (``request.prepare``); ``multipart`` uploads are
streamed to the upstream with only their ``model`` field rewritten (``multipart.py``);
``responses`` is passed through or translated onto chat completions (``responses_api``).
An endpoint's ``answer`` says how an answer that is not JSON or chat SSE goes back
(``media.BINARY``: audio bytes streamed through).
"""

from __future__ import annotations

from dataclasses import dataclass

from relaygate.router.answers import Answer
from relaygate.router.media import BINARY

MODEL_TYPES = ("chat", "completion", "embedding", "image", "rerank", "moderation", "tts", "stt")


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    path: str  # upstream path, appended to the model's base URL
    model_types: frozenset[str]
    accepts_defaults: bool = False  # max_tokens / temperature defaults apply
    usage_in_stream: bool = False  # relaygate may ask for stream_options.include_usage
    kind: str = "json"  # json | multipart | responses
    requires: str | None = None  # a capability flag the model must have
    answer: Answer | None = None  # None: JSON or chat SSE, relayed by the forwarder
    checks_chat: bool = False  # a chat body: vision, tools and reasoning_effort are checked


_CHAT = frozenset({"chat"})

ENDPOINTS: dict[str, Endpoint] = {
    endpoint.path: endpoint
    for endpoint in (
        Endpoint("chat.completions", "/chat/completions", _CHAT, True, True, checks_chat=True),
        Endpoint("completions", "/completions", frozenset({"completion"}), True, True),
        Endpoint("embeddings", "/embeddings", frozenset({"embedding"})),
        Endpoint("images.generations", "/images/generations", frozenset({"image"})),
        Endpoint(
            "images.edits",
            "/images/edits",
            frozenset({"image"}),
            kind="multipart",
            requires="supports_image_edit",
        ),
        Endpoint("images.variations", "/images/variations", frozenset({"image"}), kind="multipart"),
        Endpoint("audio.speech", "/audio/speech", frozenset({"tts"}), answer=BINARY),
        Endpoint("audio.transcriptions", "/audio/transcriptions", frozenset({"stt"}), kind="multipart"),
        Endpoint("audio.translations", "/audio/translations", frozenset({"stt"}), kind="multipart"),
        Endpoint("moderations", "/moderations", frozenset({"moderation"})),
        Endpoint("rerank", "/rerank", frozenset({"rerank"})),
        Endpoint("responses", "/responses", _CHAT, True, kind="responses"),
    )
}
# The seeds' router docs list text-to-speech as POST /speech.
ENDPOINTS["/speech"] = ENDPOINTS["/audio/speech"]


def type_label(model_type: str) -> str:
    return {
        "chat": "a chat model",
        "completion": "a completion model",
        "embedding": "an embedding model",
        "image": "an image model",
        "rerank": "a rerank model",
        "moderation": "a moderation model",
        "tts": "a text-to-speech model",
        "stt": "a speech-to-text model",
    }.get(model_type, f"a {model_type} model")
