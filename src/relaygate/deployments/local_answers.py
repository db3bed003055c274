"""What a deployment answers without calling a model: ``get_config`` and a mock response.

``/v2/deployments/get_config`` answers the request the call would send, rendered
(``{id, provider, model, version, messages, parameters, type, tools}`` plus relaygate's
``deployment``); ``invoke_options.mock_response`` answers an invoke or a stream with
that text in the usual shapes, made by the same code a model's answer goes through.
Neither is a model call: neither is recorded in usage. Errors on these paths carry a
top-level ``message`` (the Python SDK requires it on a 401) next to the usual ``error``.
"""

from __future__ import annotations

from typing import Any

import orjson

from relaygate.errors import RelaygateError
from relaygate.router.cache import replay_as_stream
from relaygate.sse import split_events

from .ids import new_ulid
from .invocation import Rendered
from .invoke_shapes import whole_answer
from .invoke_stream import InvokeStream
from .rendering import DeploymentUse, InvokeShape
from .sdk_shapes import function_tools, model_parameters, sdk_provider, version_label

_CALL_FIELDS = ("model", "messages", "stream")
_NO_TOKENS = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


def error_body(error: RelaygateError) -> bytes:
    return orjson.dumps({"message": error.message, **error.body()})


def config_answer(rendered: Rendered) -> dict[str, Any]:
    """get_config's answer: the rendered request of the variant that serves the call."""
    release, variant, model = rendered.release, rendered.variant, rendered.model
    parameters = {name: value for name, value in rendered.body.items() if name not in _CALL_FIELDS}
    return {
        "id": new_ulid(),
        "provider": sdk_provider(model.provider),
        "model": model.router_id,
        "version": version_label(release.version),
        "messages": rendered.body["messages"],
        "parameters": model_parameters(parameters),
        "type": "chat",
        "tools": function_tools(parameters.get("tools")),
        "deployment": {"key": release.key, "version": release.version, "variant": variant.name},
    }


def _mock_completion(shape: InvokeShape, text: str) -> dict[str, Any]:
    return {
        "id": shape.id,
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": _NO_TOKENS,
    }


def mock_answer(shape: InvokeShape, use: DeploymentUse, rendered: Rendered, text: str) -> bytes:
    """An invoke's answer saying ``text``, as a model's would read (no tokens used)."""
    return orjson.dumps(whole_answer(shape, use, rendered.model, _mock_completion(shape, text)))


def mock_stream(shape: InvokeShape, use: DeploymentUse, rendered: Rendered, text: str) -> bytes:
    """A stream's events saying ``text``, through the relay a model's stream goes through."""
    chat = replay_as_stream(orjson.dumps(_mock_completion(shape, text)), include_usage=True) or b""
    relay = InvokeStream(shape, use, rendered.model)
    return relay.on_events(split_events(chat)) + relay.on_end()
