"""Redaction of secrets from an upstream's words before relaygate shows or stores them.

An upstream may quote the key it was sent: OpenAI's 401 quotes its first characters and
its last four (``Incorrect API key provided: sk-proj-abc*****wxyz``), a careless server
quotes the whole ``Authorization`` header. ``redact`` removes from a text:

* every part of 8 or more characters of each secret given (the whole key, or the start
  of it that a partial quote keeps); a secret shorter than that, where it occurs whole;
* every ``Bearer <token>``, whatever the token;
* every key-like token (``sk-...``, ``gsk_...``), masked quotes of one included.

Parts are found through the secret's 8-character windows: any common part of 8 or more
characters is covered by the windows it contains, so the union of the windows found in
the text is exactly what must go. A key is short, so this is a few dozen ``str.find``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
MIN_PART = 8
_MIN_SECRET = 4  # shorter "secrets" would blank ordinary words
_BEARER = re.compile(r"(?i)\bbearer\s+[^\s\"',;\\]+")
# sk-/gsk_ and 6+ key or mask characters, not ending in a sentence's full stop
_KEY_LIKE = re.compile(r"\b(?:sk|gsk)[-_](?=[A-Za-z0-9_*.…-]{6})[A-Za-z0-9_*.…-]*[A-Za-z0-9_*]")


def _secret_spans(text: str, secret: str) -> list[tuple[int, int]]:
    width = min(MIN_PART, len(secret))
    spans: list[tuple[int, int]] = []
    for window in dict.fromkeys(secret[i : i + width] for i in range(len(secret) - width + 1)):
        start = text.find(window)
        while start != -1:
            spans.append((start, start + width))
            start = text.find(window, start + 1)
    return spans


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _without_secrets(text: str, secrets: Iterable[str]) -> str:
    spans: list[tuple[int, int]] = []
    for secret in secrets:
        if len(secret) >= _MIN_SECRET:
            spans += _secret_spans(text, secret)
    if not spans:
        return text
    parts: list[str] = []
    done = 0
    for start, end in _merged(spans):
        parts += (text[done:start], REDACTED)
        done = end
    parts.append(text[done:])
    return "".join(parts)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without any 8+ character part of ``secrets``, bearer tokens or key-like tokens."""
    # Tokens first: a masked quote (``sk-proj-abc****wxyz``) goes whole, its tail included.
    text = _KEY_LIKE.sub(REDACTED, text)
    text = _BEARER.sub(f"Bearer {REDACTED}", text)
    return _without_secrets(text, secrets)


def redact_bytes(data: bytes, secrets: Iterable[str] = ()) -> bytes:
    """``redact`` over bytes, every other byte kept as it was (latin-1 maps bytes 1:1 to text)."""
    as_text = [secret.encode().decode("latin-1") for secret in secrets]
    return redact(data.decode("latin-1"), as_text).encode("latin-1")
