"""Deterministic text, token counts and JSON helpers shared by the fake's handlers.

Tokens are whitespace-separated words: a prompt of "say hi now" costs 3 prompt tokens, and the answer
"Hello from fake upstream" costs 4 completion tokens and streams as "Hello", " from", " fake",
" upstream".
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

DEFAULT_REPLY = "Hello from fake upstream"
CREATED = 1_700_000_000
FINGERPRINT = "fp_fake_upstream"
LOGPROB = -0.125


@dataclass(frozen=True)
class Call:
    """What a handler needs: the parsed request and the server's fixed settings."""

    body: dict[str, Any]
    files: dict[str, bytes]
    reply: str | Callable[[dict[str, Any]], str]
    created: int
    base_url: str
    serial: int
    never_ending: bool = False
    method: str = "POST"
    path: str = ""

    @property
    def reply_text(self) -> str:
        """The answer text: the configured string, or the configured function of the request body."""
        return self.reply if isinstance(self.reply, str) else self.reply(self.body)

    @property
    def model(self) -> str:
        return str(self.body.get("model") or "")

    def make_id(self, prefix: str, sep: str = "-") -> str:
        """Deterministic ids: `chatcmpl-fake000001`, `resp_fake000002`, ..."""
        return f"{prefix}{sep}fake{self.serial:06d}"


def word_count(text: str) -> int:
    return len(text.split())


def content_text(content: Any) -> str:
    """The text of a message `content`: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text", "") for part in content if isinstance(part, dict)]
        return " ".join(t for t in texts if isinstance(t, str))
    return ""


def messages_word_count(messages: Iterable[Any]) -> int:
    return sum(word_count(content_text(m.get("content"))) for m in messages if isinstance(m, dict))


def pieces(text: str) -> list[str]:
    """The answer as streamed tokens: the first word bare, every later word with its leading space."""
    words = text.split()
    return words[:1] + [" " + w for w in words[1:]]


def endless_pieces(text: str) -> Iterator[str]:
    """The answer's tokens, then its words again and again (for never-ending streams)."""
    words = text.split() or ["tick"]
    return itertools.chain(pieces(text), itertools.cycle(" " + w for w in words))


def truncate(text: str, limit: Any) -> tuple[str, bool]:
    """At most `limit` words of `text`, and whether anything was cut."""
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        return text, False
    parts = pieces(text)
    if len(parts) <= limit:
        return text, False
    return "".join(parts[:limit]), True


def fill_schema(schema: Any) -> Any:
    """A value valid for a simple JSON schema: strings "x" (or the first enum), numbers 1, booleans true."""
    if not isinstance(schema, dict):
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if schema.get(combinator):
            return fill_schema(schema[combinator][0])
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return _fill_kind(kind, schema)


def _fill_kind(kind: str, schema: dict[str, Any]) -> Any:
    if kind == "object":
        props: dict[str, Any] = schema.get("properties") or {}
        names = schema.get("required") or list(props)
        return {name: fill_schema(props.get(name, {"type": "string"})) for name in names}
    if kind == "array":
        return [fill_schema(schema.get("items", {"type": "string"}))]
    scalars: dict[str, Any] = {"string": "x", "number": 1, "integer": 1, "boolean": True, "null": None}
    return scalars.get(kind, "x")


def pretty(obj: Any) -> bytes:
    """JSON as OpenAI sends non-streaming bodies: indented by two spaces."""
    return json.dumps(obj, indent=2).encode()


def sse(obj: Any, event: str | None = None) -> bytes:
    """One SSE event carrying compact JSON, optionally with an `event:` line (Responses API)."""
    data = b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"
    return (b"event: " + event.encode() + b"\n" + data) if event else data


SSE_DONE = b"data: [DONE]\n\n"


def logprob_entry(token: str, top: int) -> dict[str, Any]:
    """A chat `logprobs.content` entry with a fixed log probability and `top` alternatives."""
    alternatives = [{"token": token, "logprob": LOGPROB, "bytes": list(token.encode())}]
    alternatives += [
        {"token": f"alt{i}", "logprob": -2.0 - i, "bytes": list(f"alt{i}".encode())} for i in range(1, top)
    ]
    return {
        "token": token,
        "logprob": LOGPROB,
        "bytes": list(token.encode()),
        "top_logprobs": alternatives[:top],
    }


def slices(text: str, size: int) -> Iterator[str]:
    """`text` in pieces of `size` characters (how streamed tool arguments arrive)."""
    for start in range(0, len(text), size):
        yield text[start : start + size]
