"""The chat request one datapoint makes of one target, and what its evaluators are shown (pure).

* A model target gets the datapoint's ``messages``; a datapoint without them cannot be
  asked of a bare model (its ``inputs`` only fill a deployment's template).
* A deployment target at its current version is the router's ``deployment/<key>`` with
  the datapoint's ``inputs`` and ``messages``: the router renders it, and the usage event
  names the deployment and its version.
* A deployment pinned to a version is rendered here from that version's content (the
  router serves only current versions): the same rendering (``through_deployment``: the
  template, then the datapoint's messages, the version's parameters under the run's, its
  model) with the version's routing fields; the usage event names the model it called.

The experiment's ``parameters`` win over a deployment's, as a client's own do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relaygate.deployments.config import Release
from relaygate.deployments.rendering import MODEL_PREFIX, through_deployment

from .definition import Target


class NoMessages(ValueError):
    """A model target was given a datapoint without messages."""


NO_MESSAGES = (
    "The datapoint has no messages, and a model target needs the conversation to send "
    "(a datapoint's inputs only fill a deployment's template)."
)


def request_body(
    target: Target,
    datapoint: Mapping[str, Any],
    parameters: Mapping[str, Any] | None,
    attribution: Mapping[str, Any],
    pinned: Release | None,
) -> dict[str, Any]:
    """The streamed chat completion the datapoint asks of the target (``pinned``: the
    deployment's pinned version, else None)."""
    messages = list(datapoint.get("messages") or ())
    inputs = datapoint.get("inputs") or {}
    body: dict[str, Any] = {
        **(parameters or {}),
        **attribution,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if target.model is not None:
        if not messages:
            raise NoMessages(NO_MESSAGES)
        body["model"] = target.model
        return body
    if inputs:
        body["inputs"] = dict(inputs)
    if pinned is None:
        body["model"] = f"{MODEL_PREFIX}{target.deployment}"
        return body
    through_deployment(pinned, body)
    for name, value in pinned.routing.items():
        body.setdefault(name, value)
    return body


def _text(content: Any) -> Any:
    if isinstance(content, list):
        texts = [
            part.get("text") for part in content if isinstance(part, dict) and part.get("type") == "text"
        ]
        return "\n".join(text for text in texts if isinstance(text, str))
    return content


def evaluation_input(datapoint: Mapping[str, Any]) -> Any:
    """What an evaluator sees as the input (a judge's ``{{input}}``): the last user message's
    text for a conversation, the inputs for a template's variables, both when both are set."""
    messages = datapoint.get("messages") or []
    inputs = datapoint.get("inputs")
    if messages and inputs:
        return {"inputs": inputs, "messages": messages}
    if inputs:
        return inputs
    users = [message for message in messages if isinstance(message, dict) and message.get("role") == "user"]
    return _text(users[-1].get("content")) if users else (messages or None)
