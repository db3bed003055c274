"""Which router endpoint serves which model types, and how its body is forwarded."""

from __future__ import annotations

from dataclasses import dataclass

MODEL_TYPES = ("chat", "completion", "embedding", "image", "rerank", "moderation", "tts", "stt")


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    path: str  # upstream path, appended to the model's base URL
    model_types: frozenset[str]
    accepts_defaults: bool = False  # max_tokens / temperature defaults apply
    usage_in_stream: bool = False  # relaygate may ask for stream_options.include_usage


JSON_ENDPOINTS: dict[str, Endpoint] = {
    endpoint.path: endpoint
    for endpoint in (
        Endpoint("chat.completions", "/chat/completions", frozenset({"chat"}), True, True),
        Endpoint("completions", "/completions", frozenset({"completion"}), True, True),
        Endpoint("embeddings", "/embeddings", frozenset({"embedding"})),
    )
}


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
