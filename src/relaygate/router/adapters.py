"""Endpoint adapters: what to send *this* model for a prepared call, and how to read its answer.

The policy may try several models for one call (retries, fallbacks, a load balancer);
each gets the request built for it, from the call's untouched body: its own id, its own
defaults, its own capability checks, its own path (a Responses call goes to
``/responses`` on a model that has it and is translated onto ``/chat/completions`` for
one that does not). One adapter per endpoint kind (``endpoints.EndpointKind``):

* ``json``: the body with the model's id and defaults; a chat stream asks for its usage;
* ``binary``: the same, with an answer of bytes streamed through (audio);
* ``upload``: a multipart body streamed on, only its ``model`` field rewritten;
* ``responses``: passed through or translated (``responses_api``);
* ``deployment``: a deployment's invoke, a chat request answered in the SDKs' shape
  (``deployments/invoke_answer.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from relaygate.catalog import RoutableModel
from relaygate.router.answers import PLAIN, Answer
from relaygate.router.asgi import RawHeaders
from relaygate.router.capabilities import check_chat, check_model_type
from relaygate.router.guards import encode_body
from relaygate.router.strict_schemas import STRICT_HEADER, StrictContract, strict_contract, unstream

if TYPE_CHECKING:
    from relaygate.deployments.rendering import DeploymentUse
    from relaygate.router.call import PreparedCall
    from relaygate.router.multipart import Upload


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """One model's request for a call: where it goes, what it carries, how its answer reads."""

    model: RoutableModel
    path: str  # appended to the model's base URL
    payload: bytes  # the JSON body (an upload streams ``upload`` instead)
    streams: bool  # the answer is read as it arrives (SSE, or bytes for ``binary``)
    answer: Answer = PLAIN
    hide_usage: bool = False  # relaygate asked for the stream's usage chunk: the client did not
    notes: RawHeaders = field(default_factory=list)  # response headers: parameters removed, translated
    strict: StrictContract | None = None  # strict schemas relaygate checks itself (strict_schemas.py)
    upload: Upload | None = None

    @property
    def sse(self) -> bool:
        """The client asked for a stream and the upstream is asked for one too."""
        return self.streams and not self.answer.binary


class Adapter(Protocol):
    def request_for(self, model: RoutableModel, call: PreparedCall) -> UpstreamRequest:
        """What to send ``model`` for ``call``; a 400 when ``model`` cannot serve it."""
        ...


def apply_defaults(body: dict[str, Any], model: RoutableModel, max_field: str = "max_tokens") -> None:
    """Fill in the model's defaults the request left out."""
    if model.max_tokens is not None and not any(
        name in body for name in (max_field, "max_tokens", "max_completion_tokens")
    ):
        body[max_field] = model.max_tokens
    if model.temperature is not None and "temperature" not in body:
        body["temperature"] = model.temperature


def ask_for_usage(body: dict[str, Any]) -> bool:
    """Ask a stream for its usage chunk (``stream_options.include_usage``); True when the
    client had not, so the relay hides that chunk from it."""
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage") is True:
        return False
    body["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    return True


def deployment_notes(use: DeploymentUse | None) -> RawHeaders:
    """The response headers naming the deployment, version and variant that served a call
    (a key and a variant name are checked ``[A-Za-z0-9_.-]`` text when stored)."""
    if use is None:
        return []
    return [
        (b"x-relaygate-deployment", use.key.encode()),
        (b"x-relaygate-deployment-version", str(use.version).encode()),
        (b"x-relaygate-variant", use.variant.encode()),
    ]


def chat_request(
    model: RoutableModel, body: dict[str, Any], stream: bool, path: str, answer: Answer, notes: RawHeaders
) -> UpstreamRequest:
    """A chat body (``body``, a copy the caller owns) as ``model``'s request: strict schemas
    taken out to be checked here when the model does not enforce them, its capabilities
    checked, its defaults filled, its stream asked for usage."""
    strict = strict_contract(model, body)  # before check_chat: emulated strict tools pass it
    notes = [*notes, *check_chat(model, body)]
    apply_defaults(body, model)
    body["model"] = model.model_id
    hide_usage = stream and ask_for_usage(body) and answer is PLAIN
    if strict is not None:
        notes += STRICT_HEADER
        unstream(body)  # a stream is replayed once the whole answer was checked
    return UpstreamRequest(
        model, path, encode_body(body), stream and strict is None, answer, hide_usage, notes, strict
    )


class JsonAdapter:
    """JSON bodies: chat and text completions, embeddings, images, moderations, rerank, speech."""

    def __init__(self, answer: Answer = PLAIN) -> None:
        self._answer = answer

    def request_for(self, model: RoutableModel, call: PreparedCall) -> UpstreamRequest:
        endpoint = call.endpoint
        check_model_type(model, endpoint)
        body = dict(call.body)
        if endpoint.checks_chat:
            notes = deployment_notes(call.deployment)
            return chat_request(model, body, call.stream, endpoint.path, self._answer, notes)
        if endpoint.accepts_defaults:
            apply_defaults(body, model)
        body["model"] = model.model_id
        hide_usage = call.stream and endpoint.usage_in_stream and ask_for_usage(body)
        streams = call.stream or self._answer.binary
        return UpstreamRequest(model, endpoint.path, encode_body(body), streams, self._answer, hide_usage)


class UploadAdapter:
    """Multipart uploads (image edits and variations, transcriptions, translations)."""

    def request_for(self, model: RoutableModel, call: PreparedCall) -> UpstreamRequest:
        check_model_type(model, call.endpoint)
        return UpstreamRequest(model, call.endpoint.path, b"", call.stream, upload=call.upload)
