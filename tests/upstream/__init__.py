"""A real, deterministic OpenAI-compatible upstream server for relaygate's tests.

Example::

with FakeUpstream(api_key="sk-up-test", models=["gpt-test"]) as up:
    up.script("/chat/completions", [Fault(status=429, headers={"retry-after": "0.01"})])
    ...  # point relaygate (or the openai SDK) at up.url
    assert up.requests[-1].json["model"] == "gpt-test"
"""

from __future__ import annotations

from .faults import Fault, error_body
from .media import PNG_1X1, TRANSCRIPT, embedding_vector
from .server import DEFAULT_MODELS, FakeUpstream
from .state import RecordedRequest
from .text import CREATED, DEFAULT_REPLY

__all__ = [
    "CREATED",
    "DEFAULT_MODELS",
    "DEFAULT_REPLY",
    "PNG_1X1",
    "TRANSCRIPT",
    "FakeUpstream",
    "Fault",
    "RecordedRequest",
    "embedding_vector",
    "error_body",
]
