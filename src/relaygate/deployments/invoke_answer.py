"""A deployment invoke's answer, built by the router's own machinery.

``/v2/deployments/invoke`` and ``/stream`` forward a chat request like any router call;
the answering model's chat completion comes back through ``InvokeAnswer`` (a
``router.answers.Answer``): whole, rewritten into the SDKs' shape (``invoke_shapes.py``);
streamed, through ``InvokeStream``. So the relay, the cache, retries and fallbacks work
as for any call.
"""

from __future__ import annotations

from typing import Any

from relaygate.catalog import RoutableModel
from relaygate.errors import RelaygateError, with_top_level_message
from relaygate.router.adapters import UpstreamRequest, chat_request, deployment_notes
from relaygate.router.answers import ChatAnswerRewrite, EventRelay
from relaygate.router.call import PreparedCall
from relaygate.router.capabilities import check_model_type

from .invoke_shapes import whole_answer
from .invoke_stream import InvokeStream
from .rendering import DeploymentUse, InvokeShape


class InvokeAnswer(ChatAnswerRewrite):
    """The answering model's chat completion, whole or streamed, as the invoke answer."""

    def __init__(self, use: DeploymentUse, shape: InvokeShape) -> None:
        self._use = use
        self._shape = shape

    def reshape(self, model: RoutableModel, chat: dict[str, Any]) -> dict[str, Any]:
        return whole_answer(self._shape, self._use, model, chat)

    def stream_relay(self, model: RoutableModel, hide_usage: bool) -> EventRelay:
        return InvokeStream(self._shape, self._use, model)

    def error(self, body: bytes) -> bytes:
        """The upstream's OpenAI error with its message at the top level too, as relaygate's
        own errors on these paths have it (the Python SDK requires it on a 401)."""
        return with_top_level_message(body, bare_string=True)


class InvokeAdapter:
    """The router adapter of a deployment invoke (``EndpointKind`` "deployment"): the chat
    request of each candidate model, answered through ``InvokeAnswer``."""

    def request_for(self, model: RoutableModel, call: PreparedCall) -> UpstreamRequest:
        check_model_type(model, call.endpoint)
        use = call.deployment
        if use is None or use.invoke is None:
            raise RelaygateError("a deployment invoke was prepared without its deployment")
        answer = InvokeAnswer(use, use.invoke)
        return chat_request(
            model, dict(call.body), call.stream, call.endpoint.path, answer, deployment_notes(use)
        )
