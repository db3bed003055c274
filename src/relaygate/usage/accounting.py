"""The one place a call's usage event is built: when the call is over, however it ended.

What the router knows at the end comes in three parts: the prepared call (who, which
model was asked for, the body), the policy's outcome (the model that answered, attempts,
fallback, cache, the usage of strict answers thrown away) and what the relay sent (status,
the answer's usage, the stream's text, timings). ``account`` turns them into one
``UsageEvent``: token counts from the answer's ``usage``, estimated offline only when the
upstream reported none (``extract.py``), and the cost from the answering model's prices.
No other module sets fields on an event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from relaygate.usage.events import UsageEvent
from relaygate.usage.extract import needs_estimate, settle_usage, take_answer, take_discarded
from relaygate.usage.pricing import price_event

if TYPE_CHECKING:
    from relaygate.catalog import RoutableModel
    from relaygate.deployments.rendering import DeploymentUse
    from relaygate.errors import RelaygateError
    from relaygate.limits.limiter import Ticket
    from relaygate.router.call import PreparedCall
    from relaygate.router.policy import RouteRecord
    from relaygate.router.relay import Relayed
    from relaygate.usage.body_log import BodyLog

CLIENT_GONE = (499, "client_disconnected")
ASKED_MODEL_CHARS = 260  # usage_events.router_model's width: a longer unknown name is cut
ERROR_MESSAGE_CHARS = 512  # usage_events.error_message's width
# A deployment call's documents are kept with its event up to this much JSON; the rest is
# left out and a note says how many were.
MAX_DOCUMENT_BYTES = 64 * 1024


@dataclass(slots=True)
class CallEnd:
    """What the router knows of a call once it is over (``account`` reads it)."""

    workspace_id: str
    api_key_id: str | None
    endpoint: str
    request_id: str
    call: PreparedCall | None = None  # None: refused before its body was understood
    record: RouteRecord | None = None  # the policy's outcome, once forwarding began
    relayed: Relayed | None = None
    error: RelaygateError | None = None  # the error the client got instead of an answer
    error_body: str | None = None  # that error as body logging keeps it
    gone: bool = False  # the client hung up
    ticket: Ticket | None = None  # what the limits reserved for the call, settled once it is accounted
    request_body: str | None = None  # only with body logging on
    body_log: BodyLog | None = None  # the call's workspace logs bodies (decided once per call)
    asked_model: str | None = None  # refused as unknown or disabled: the name the client asked for
    trace_parent: str | None = None  # only with tracing on
    latency_ms: float = 0.0

    @property
    def model(self) -> RoutableModel | None:
        """The model that answered, else the one asked for."""
        if self.record is not None:
            return self.record.model
        return self.call.model if self.call is not None else None

    def estimating_model(self) -> str | None:
        """The upstream model id whose tokens must be counted offline (None: no count needed),
        so the caller can load the tokenizer off the event loop before ``account``."""
        model, relayed = self.model, self.relayed
        if model is None or relayed is None or self.call is None or not _succeeded(self):
            return None
        return model.model_id if needs_estimate(self.endpoint, relayed.usage, relayed.cache_hit) else None


def _succeeded(end: CallEnd) -> bool:
    """The upstream answered and the client got (some of) it: what it consumed counts, even
    when the client hung up part-way (the tokens streamed so far were paid for)."""
    relayed = end.relayed
    return relayed is not None and 0 < relayed.status < 400 and end.error is None


def account(end: CallEnd) -> UsageEvent:
    """The call's usage event, complete and priced."""
    event = UsageEvent(end.workspace_id, end.api_key_id, end.endpoint, end.request_id, id=end.request_id)
    event.latency_ms = end.latency_ms
    event.request_body, event.trace_parent = end.request_body, end.trace_parent
    call, record, relayed, model = end.call, end.record, end.relayed, end.model
    if call is not None:
        _attribute(event, call)
    if model is not None:
        event.router_model, event.upstream_model = model.router_id, model.model_id
    elif end.asked_model is not None:  # no upstream model: the error code says unknown or disabled
        event.router_model = end.asked_model[:ASKED_MODEL_CHARS]
    if record is not None:
        event.attempts, event.fallback_used = record.attempts, record.fallback
        event.attempt_log = record.story
        # A fallback or a load balancer's pick answered: the model asked for is kept too.
        if call is not None and record.model.router_id != call.model.router_id:
            event.requested_model = call.model.router_id
    if relayed is not None:
        _take_relayed(event, relayed)
        if model is not None and call is not None and _succeeded(end) and not relayed.cache_hit:
            settle_usage(event, model, call.body, answer=relayed.answer, stream=relayed.text)
    if end.error is not None:
        event.status, event.error_code = end.error.status, end.error.code
        event.error_message = str(end.error)[:ERROR_MESSAGE_CHARS]
        event.response_body = end.error_body or event.response_body
    elif end.gone and (relayed is None or not relayed.answered):
        event.status, event.error_code = CLIENT_GONE
    if record is not None and record.discarded:
        take_discarded(event, record.discarded)
    if model is not None and not event.cache_hit:  # a cached answer cost nothing this time
        price_event(event, model)
    event.cost_nano += event.search_cost_nano  # web searches relaygate ran are part of the cost
    return event


def _attribute(event: UsageEvent, call: PreparedCall) -> None:
    event.stream = call.stream
    who = call.attribution
    event.identity, event.identity_id, event.name = who.identity, who.identity_id, who.name
    event.thread_id, event.request_metadata = who.thread_id, who.metadata
    event.thread_tags = list(who.thread_tags) if who.thread_tags is not None else None
    if call.deployment is not None:
        _deployment(event, call.deployment)


def _deployment(event: UsageEvent, use: DeploymentUse) -> None:
    event.deployment_key, event.deployment_version, event.variant = use.key, use.version, use.variant
    if use.documents is not None:
        event.documents = bounded_documents(use.documents)


def bounded_documents(documents: tuple[Mapping[str, Any], ...]) -> list[Any]:
    """The documents whole, in order, while their JSON fits ``MAX_DOCUMENT_BYTES``; a note
    in place of those left out, so a stored event says it is not the whole list."""
    kept: list[Any] = []
    size = 0
    for index, document in enumerate(documents):
        size += len(orjson.dumps(document)) + 1
        if size > MAX_DOCUMENT_BYTES:
            left = len(documents) - index
            kept.append(
                {"note": f"{left} of {len(documents)} documents left out: over {MAX_DOCUMENT_BYTES} bytes"}
            )
            break
        kept.append(document)
    return kept


def _take_relayed(event: UsageEvent, relayed: Relayed) -> None:
    event.status, event.error_code = relayed.status, relayed.error_code
    event.ttfb_ms, event.overhead_ms = relayed.ttfb_ms, relayed.overhead_ms
    event.cache_hit, event.response_body = relayed.cache_hit, relayed.body
    event.searches, event.search_cost_nano = relayed.searches, relayed.search_cost_nano
    event.search_ms = relayed.search_ms
    if relayed.answer is not None:  # a whole answer: its usage, images, audio seconds
        take_answer(event, relayed.answer)
    elif relayed.usage is not None:  # a stream's usage chunk
        event.apply_usage(relayed.usage)
