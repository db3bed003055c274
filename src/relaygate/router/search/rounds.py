"""One round of a searching call: a chat call upstream through the usual policy.

Each round is the call's own chat request with the conversation so far: it goes through
``Requests`` (each candidate model's body: its id, defaults, capability checks, strict
schemas), the policy (retries, fallbacks, timeouts, breakers) and ``Attempts`` exactly as
a plain call's single round does. What the round's attempts did is added to the call's
``RouteRecord``: its attempts, the model that answered, a fallback taken, answers thrown
away. The answer is read whole or as a stream (``turn.py``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from relaygate.router.adapters import UpstreamRequest
from relaygate.router.call import PreparedCall
from relaygate.router.endpoints import ENDPOINTS
from relaygate.router.forward import Attempts, Requests
from relaygate.router.policy import RoutePolicy, RouteRecord, transport_failure
from relaygate.router.relay import content_type
from relaygate.router.routing import RoutingPlan
from relaygate.upstream.transport import Transport, TransportError, UpstreamResponse

from .turn import TextSink, Turn, streamed_turn, whole_turn

CHAT = ENDPOINTS["/chat/completions"]


@dataclass(slots=True)
class OpenRound:
    """A round whose upstream answered: its request, the response (not read yet), when it began."""

    request: UpstreamRequest
    response: UpstreamResponse
    started: float

    @property
    def failed(self) -> bool:
        return self.response.status >= 400

    async def turn(
        self, max_event_bytes: int, on_text: TextSink, before: Callable[[], Awaitable[None]] | None = None
    ) -> Turn:
        """The round's answer, read to its end (the response is closed after, whatever
        happens); ``before``: what to do first (the client's response starts)."""
        model, response = self.request.model, self.response
        try:
            if before is not None:
                await before()
            if self.request.streams and b"event-stream" in content_type(response, b""):
                return await streamed_turn(model, response, max_event_bytes, on_text)
            try:
                body = await response.read()
            except TransportError as exc:
                raise transport_failure(model, exc) from None
            turn = whole_turn(model, response, body)
            if turn.text:
                await on_text(turn.text)
            return turn
        finally:
            await response.aclose()


class Rounds:
    """Opens the rounds of one call: same plan, same candidates, a new conversation each time."""

    def __init__(
        self, transport: Transport, policy: RoutePolicy, call: PreparedCall, plan: RoutingPlan | None
    ) -> None:
        self._transport = transport
        self._policy = policy
        self._call = call
        self._plan = plan

    def requests(self, body: Mapping[str, Any]) -> Requests:
        """Every candidate's request for a round with ``body`` (a 400 when one cannot serve it)."""
        round_call = dataclasses.replace(self._call, endpoint=CHAT, body=body)
        requests = Requests(round_call)
        requests.for_model(self._call.model)
        if self._plan is not None:
            for model in self._plan.alternatives(self._call.model):
                requests.for_model(model)
        return requests

    async def open(self, body: Mapping[str, Any], record: RouteRecord) -> OpenRound:
        requests = self.requests(body)
        this_round = RouteRecord(self._call.model, limit_headers=record.limit_headers)
        started = time.perf_counter()
        try:
            attempts = Attempts(self._transport, requests, this_round, self._policy.strict_retries)
            response = await self._policy.run(self._plan, this_round, attempts)
        finally:
            record.attempts += this_round.attempts
            record.model, record.fallback = this_round.model, record.fallback or this_round.fallback
            record.discarded.extend(this_round.discarded)
        return OpenRound(requests.for_model(this_round.model), response, started)
