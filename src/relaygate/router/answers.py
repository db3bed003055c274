"""How an answer that is not plain OpenAI JSON or chat SSE goes back to the client.

The forwarder relays chat-style answers itself and accounts their usage. A call whose
answer needs something else carries an ``Answer``, which the forwarder asks at three
points:

* ``binary``: relay the upstream's bytes as they arrive, with its content type (audio);
* ``rewrite(model, body)``: a successful whole answer, after usage was taken from it,
  as the client should get it (a chat answer turned into a Responses answer);
* ``stream_relay(model, hide_usage)``: the relay an SSE answer goes through;
* ``error(body)``: an upstream's error answer (an OpenAI error body, checked) as the
  client gets it (a deployment's SDKs also read a top-level ``message``).

A call without an ``Answer`` (most calls) pays nothing for this.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from relaygate.catalog import RoutableModel
from relaygate.router.stream_relay import StreamRelay


class EventRelay(Protocol):
    """What the forwarder needs of a stream relay (``sse.StreamRelay`` is one).

    The forwarder cuts the upstream's bytes into events (``sse.SseDecoder``) and hands
    them over whole; the relay answers with the bytes the client gets.
    """

    usage: dict[str, Any] | None
    saw_done: bool
    events: int

    def on_events(self, events: list[bytes]) -> bytes: ...

    def on_end(self) -> bytes:
        """What the client still gets once the upstream's stream has ended."""
        ...


class Answer:
    """The default behaviour; subclasses change what they need."""

    binary = False

    def rewrite(self, model: RoutableModel, body: bytes) -> bytes:
        return body

    def stream_relay(self, model: RoutableModel, hide_usage: bool) -> EventRelay:
        return StreamRelay(model.model_id, model.router_id, hide_usage=hide_usage)

    def error(self, body: bytes) -> bytes:
        return body


PLAIN = Answer()  # OpenAI JSON or chat SSE, relayed as it came


class ChatAnswerRewrite(Answer):
    """A whole chat completion given back in another shape (``reshape``); a body that is not
    a JSON object is passed on as it came (the relay has checked a success answer already)."""

    def rewrite(self, model: RoutableModel, body: bytes) -> bytes:
        try:
            chat = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        if not isinstance(chat, dict):
            return body
        return orjson.dumps(self.reshape(model, chat))

    def reshape(self, model: RoutableModel, chat: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError
