"""Which router endpoint serves which model types, and which adapter builds its requests.

``kind`` names the endpoint's adapter (``adapters.py``): ``json`` bodies are sent with the
model's id and defaults; ``binary`` is a JSON body whose answer is bytes streamed through
(audio); ``upload`` is a multipart body streamed with only its ``model`` field rewritten
(``multipart.py``); ``responses`` is passed through or translated onto chat completions,
model by model (``responses_api``); ``deployment`` is a deployment's invoke, a chat request
answered in the hosted product's SDK shape (``deployments/invoke_app.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EndpointKind = Literal["json", "binary", "upload", "responses", "deployment"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    path: str  # upstream path, appended to the model's base URL
    model_types: frozenset[str]
    accepts_defaults: bool = False  # max_tokens / temperature defaults apply
    usage_in_stream: bool = False  # relaygate may ask for stream_options.include_usage
    kind: EndpointKind = "json"
    requires: str | None = None  # a capability flag the model must have
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
            kind="upload",
            requires="supports_image_edit",
        ),
        Endpoint("images.variations", "/images/variations", frozenset({"image"}), kind="upload"),
        Endpoint("audio.speech", "/audio/speech", frozenset({"tts"}), kind="binary"),
        Endpoint("audio.transcriptions", "/audio/transcriptions", frozenset({"stt"}), kind="upload"),
        Endpoint("audio.translations", "/audio/translations", frozenset({"stt"}), kind="upload"),
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
