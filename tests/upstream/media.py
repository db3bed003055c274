"""Embeddings, images, audio, moderations and rerank: deterministic answers in OpenAI's shapes.

- Embeddings: `dimensions` (default 8) float32 values derived from sha256 of each input, unit length;
  `encoding_format: base64` is the same vector as little-endian float32 bytes.
- Images: a 1x1 PNG, as `url` (served by the fake at `/v1/fake-files/image-N.png`) or `b64_json`.
- Speech: `256 * words(input)` deterministic bytes, streamed, with the content type of `response_format`.
- Transcriptions and translations: the text `TRANSCRIPT`, in every `response_format`, or as SSE
  `transcript.text.delta` / `transcript.text.done` events when `stream=true`.
- Moderations: flagged for `violence` when the input contains "kill".
- Rerank: relevance is the share of query words found in the document.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Iterator
from typing import Any

from .delivery import Reply, error_reply, json_reply, sse_reply
from .text import Call, content_text, pieces, sse, word_count

PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
TRANSCRIPT = "Hello from fake upstream transcription."
DEFAULT_DIMENSIONS = 8
SPEECH_BYTES_PER_WORD = 256
AUDIO_TYPES = {
    "mp3": ("audio/mpeg", b"ID3"),
    "opus": ("audio/ogg", b"OggS"),
    "aac": ("audio/aac", b"\xff\xf1"),
    "flac": ("audio/flac", b"fLaC"),
    "wav": ("audio/wav", b"RIFF"),
    "pcm": ("audio/pcm", b""),
}
MODERATION_CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
    "violence/graphic",
)  # fmt: skip


def _positive_int(value: Any, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    return default


# --- embeddings ---------------------------------------------------------------------------------


def embedding_vector(item: Any, dimensions: int) -> list[float]:
    """The unit-length float32 vector the fake returns for one input (string or token list)."""
    seed = repr(item).encode()
    raw = b""
    block = 0
    while len(raw) < dimensions:
        raw += hashlib.sha256(seed + block.to_bytes(4, "little")).digest()
        block += 1
    values = [b / 127.5 - 1.0 for b in raw[:dimensions]]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    packed = struct.pack(f"<{dimensions}f", *(v / norm for v in values))
    return list(struct.unpack(f"<{dimensions}f", packed))


def _embedding_inputs(value: Any) -> list[Any] | None:
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str | list) for v in value):
        return list(value)
    return None


def embeddings(call: Call) -> Reply:
    inputs = _embedding_inputs(call.body.get("input"))
    if inputs is None:
        return error_reply(400, "'$.input' is invalid. Please check the API reference.", param="input")
    dimensions = _positive_int(call.body.get("dimensions"), DEFAULT_DIMENSIONS)
    as_base64 = call.body.get("encoding_format") == "base64"
    data = []
    for index, item in enumerate(inputs):
        vector = embedding_vector(item, dimensions)
        encoded: Any = (
            base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode() if as_base64 else vector
        )
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(word_count(i) if isinstance(i, str) else len(i) for i in inputs)
    return json_reply(
        {
            "object": "list",
            "data": data,
            "model": call.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


# --- images -------------------------------------------------------------------------------------


def images(call: Call) -> Reply:
    """Generations (JSON), edits and variations (multipart fields arrive as strings)."""
    n = _positive_int(call.body.get("n"), 1)
    prompt = call.body.get("prompt")
    data: list[dict[str, Any]] = []
    for index in range(n):
        if call.body.get("response_format") == "b64_json":
            item: dict[str, Any] = {"b64_json": base64.b64encode(PNG_1X1).decode()}
        else:
            item = {"url": f"{call.base_url}/fake-files/image-{index}.png"}
        if isinstance(prompt, str):
            item["revised_prompt"] = prompt
        data.append(item)
    return json_reply({"created": call.created, "data": data})


def image_generation(call: Call) -> Reply:
    if not isinstance(call.body.get("prompt"), str):
        return error_reply(400, "Missing required parameter: 'prompt'.", param="prompt")
    return images(call)


def image_upload(call: Call) -> Reply:
    if "image" not in call.files and "image[]" not in call.files:
        return error_reply(400, "Missing required parameter: 'image'.", param="image")
    return images(call)


def image_file() -> Reply:
    return Reply(content_type="image/png", chunks=[PNG_1X1])


# --- audio --------------------------------------------------------------------------------------


def speech(call: Call) -> Reply:
    text = call.body.get("input")
    if not isinstance(text, str) or not text:
        return error_reply(400, "Missing required parameter: 'input'.", param="input")
    content_type, magic = AUDIO_TYPES.get(str(call.body.get("response_format") or "mp3"), AUDIO_TYPES["mp3"])
    size = SPEECH_BYTES_PER_WORD * max(1, word_count(text))
    filler = hashlib.sha256(text.encode()).digest() * (size // 32 + 1)
    audio = (magic + filler)[:size]
    return Reply(
        content_type=content_type, chunks=[audio[i : i + 1024] for i in range(0, size, 1024)], stream=True
    )


def _timestamp(seconds: float, comma: bool) -> str:
    whole = int(seconds)
    millis = round((seconds - whole) * 1000)
    stamp = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{millis:03d}"
    return stamp.replace(".", ",") if comma else stamp


def _audio_usage(call: Call, audio: bytes) -> dict[str, Any]:
    if "gpt" in call.model:
        audio_tokens = max(1, len(audio) // 100)
        output = word_count(TRANSCRIPT)
        return {
            "type": "tokens",
            "input_tokens": audio_tokens,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
            "output_tokens": output,
            "total_tokens": audio_tokens + output,
        }
    return {"type": "duration", "seconds": 1}


def _verbose(call: Call, task: str, usage: dict[str, Any]) -> dict[str, Any]:
    segment = {
        "id": 0, "seek": 0, "start": 0.0, "end": 1.0, "text": TRANSCRIPT,
        "tokens": list(range(word_count(TRANSCRIPT))), "temperature": 0.0, "avg_logprob": -0.125,
        "compression_ratio": 1.0, "no_speech_prob": 0.0,
    }  # fmt: skip
    result: dict[str, Any] = {
        "task": task, "language": "english", "duration": 1.0, "text": TRANSCRIPT, "segments": [segment],
        "usage": usage,
    }  # fmt: skip
    if "word" in call.body.get("timestamp_granularities[]", ""):
        step = 1.0 / word_count(TRANSCRIPT)
        words = TRANSCRIPT.split()
        result["words"] = [
            {"word": w, "start": round(i * step, 3), "end": round((i + 1) * step, 3)}
            for i, w in enumerate(words)
        ]
    return result


def transcription(call: Call, task: str = "transcribe") -> Reply:
    audio = call.files.get("file")
    if audio is None:
        return error_reply(400, "Missing required parameter: 'file'.", param="file")
    usage = _audio_usage(call, audio)
    if str(call.body.get("stream", "")).lower() == "true":
        return sse_reply(_transcript_events(usage))
    fmt = call.body.get("response_format") or "json"
    text_type = "text/plain; charset=utf-8"
    if fmt == "text":
        return Reply(content_type=text_type, chunks=[TRANSCRIPT.encode() + b"\n"])
    if fmt == "srt":
        srt = f"1\n{_timestamp(0, True)} --> {_timestamp(1, True)}\n{TRANSCRIPT}\n\n"
        return Reply(content_type=text_type, chunks=[srt.encode()])
    if fmt == "vtt":
        vtt = f"WEBVTT\n\n{_timestamp(0, False)} --> {_timestamp(1, False)}\n{TRANSCRIPT}\n\n"
        return Reply(content_type="text/vtt; charset=utf-8", chunks=[vtt.encode()])
    if fmt == "verbose_json":
        return json_reply(_verbose(call, task, usage))
    return json_reply({"text": TRANSCRIPT, "usage": usage})


def translation(call: Call) -> Reply:
    return transcription(call, task="translate")


def _transcript_events(usage: dict[str, Any]) -> Iterator[bytes]:
    for token in pieces(TRANSCRIPT):
        yield sse({"type": "transcript.text.delta", "delta": token})
    yield sse({"type": "transcript.text.done", "text": TRANSCRIPT, "usage": usage})


# --- moderations and rerank ---------------------------------------------------------------------


def _moderation_inputs(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        if all(isinstance(v, str) for v in value):
            return list(value)
        return [content_text(value)]
    return None


def moderation(call: Call) -> Reply:
    inputs = _moderation_inputs(call.body.get("input"))
    if inputs is None:
        return error_reply(400, "Missing required parameter: 'input'.", param="input")
    results = []
    for text in inputs:
        violent = "kill" in text.lower()
        categories = {c: (violent and c == "violence") for c in MODERATION_CATEGORIES}
        scores = {c: (0.99 if flagged else 0.0001) for c, flagged in categories.items()}
        applied = {c: ["text"] for c in MODERATION_CATEGORIES}
        results.append(
            {
                "flagged": violent,
                "categories": categories,
                "category_scores": scores,
                "category_applied_input_types": applied,
            }
        )
    model = call.model or "omni-moderation-latest"
    return json_reply({"id": call.make_id("modr"), "model": model, "results": results})


def _document_text(document: Any) -> str | None:
    if isinstance(document, str):
        return document
    if isinstance(document, dict) and isinstance(document.get("text"), str):
        return str(document["text"])
    return None


def rerank(call: Call) -> Reply:
    query = call.body.get("query")
    documents = call.body.get("documents")
    if not isinstance(query, str) or not query:
        return error_reply(400, "Missing required parameter: 'query'.", param="query")
    texts = [_document_text(d) for d in documents] if isinstance(documents, list) and documents else []
    if not texts or any(t is None for t in texts):
        return error_reply(400, "'documents' must be a non-empty list of strings.", param="documents")
    query_words = {w.lower() for w in query.split()}
    scored = []
    for index, text in enumerate(t or "" for t in texts):
        overlap = len(query_words & {w.lower() for w in text.split()})
        scored.append((-overlap / len(query_words), index, text))
    scored.sort()
    top_n = _positive_int(call.body.get("top_n"), len(scored))
    results = []
    for negative, index, text in scored[:top_n]:
        result: dict[str, Any] = {"index": index, "relevance_score": abs(negative)}
        if call.body.get("return_documents") is True:
            result["document"] = {"text": text}
        results.append(result)
    tokens = word_count(query) + sum(word_count(t or "") for t in texts)
    return json_reply({"id": call.make_id("rerank"), "results": results, "usage": {"total_tokens": tokens}})
