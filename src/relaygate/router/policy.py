"""The attempt loop: which upstream to call, how often, how long to wait in between.

Any endpoint handler uses it the same way: it hands ``RoutePolicy.run`` a function that
opens one attempt against a candidate model (``OpenAttempt``) and gets back the upstream
response; the ``RouteRecord`` it passed in says what happened (attempts, the model that
answered, whether a fallback did, cache status) and renders the ``x-relaygate-*``
headers. Transport failures come out as OpenAI-shaped errors that carry those headers.

Without a plan (no routing fields) a call is one attempt: a breaker check, the model
type's timeout, the open. With a plan:

* candidates: the load balancer's pick (by weight, or in turn), its other models, then
  ``fallbacks``; an upstream whose circuit is open is skipped;
* each candidate gets ``retry.count`` more attempts after a status in ``on_codes``
  (never 400/401/403/404/501), a connection error or a timeout, waiting ``base * 2^n``
  seconds +-25% (at most the cap) or the upstream's ``Retry-After`` when that is shorter
  than the cap (a longer one moves on to the next candidate at once);
* the next candidate is tried after a failure status the client could not fix (429,
  408, 5xx but 501, or an ``on_codes`` status), a connection error or a timeout; any
  other answer goes back to the client as it came;
* a stream is retried or failed over only before its first byte reached the client: its
  first chunk is read within the attempt's timeout before the client sees anything.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from relaygate.catalog import Catalog, RoutableModel
from relaygate.errors import RelaygateError, ServiceUnavailable, UpstreamTimeout, UpstreamUnavailable
from relaygate.router.breaker import Breakers, is_upstream_failure
from relaygate.router.routing import RoutingPlan, parse_plan, pick_weighted
from relaygate.router.stream_guard import GuardedStream, StreamWatchdog, Watch
from relaygate.router.upstream_answers import bad_answer_error
from relaygate.settings import Settings
from relaygate.upstream.transport import TimedOut, TransportError, UpstreamResponse

log = logging.getLogger("relaygate.router")


class OpenAttempt(Protocol):
    """One attempt against one candidate model (``forward.Attempts``)."""

    def streams(self, model: RoutableModel) -> bool:
        """The answer of ``model`` is a stream: read its first event before it counts as an answer."""
        ...

    async def __call__(self, model: RoutableModel, total_timeout: float | None) -> UpstreamResponse:
        """The response (``total_timeout``: for a unary call; None for a stream). Raises
        TransportError when the upstream cannot be reached or does not answer in time."""
        ...


_FAILOVER_STATUSES = frozenset({408, 429})
# Attempts a routing story keeps (retries x candidates can be many); the count stays exact.
MAX_STORY = 32
_MAX_BALANCER_GROUPS = 10_000


def backoff_delay(retry: int, base: float, cap: float, draw: float) -> float:
    """Seconds before retry ``retry`` (0-based): base, 2 base, 4 base ... +-25%, at most ``cap``."""
    return min(cap, base * (2.0**retry) * (0.75 + 0.5 * draw))


# An upstream's advice on when to try again: read here before a retry, and kept on the error
# answers relayed to the client (forward.py), whose SDK waits that long before its own retry.
RETRY_HINTS = ("retry-after", "retry-after-ms")


def retry_after(headers: Sequence[tuple[str, str]], now: float | None = None) -> float | None:
    """The upstream's ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date), in seconds."""
    for key, value in headers:
        name = key.lower()
        if name not in RETRY_HINTS:
            continue
        try:
            number = float(value)
        except ValueError:
            if name == "retry-after-ms":
                continue
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                continue
            return max(0.0, when.timestamp() - (time.time() if now is None else now))
        if math.isfinite(number) and number >= 0:
            return number / 1000 if name == "retry-after-ms" else number
    return None


def _failure_code(exc: TransportError) -> str:
    """The routing story's word for an attempt that got no answer."""
    return "upstream_timeout" if isinstance(exc, TimedOut) else "upstream_unreachable"


def transport_failure(model: RoutableModel, exc: TransportError) -> RelaygateError:
    """The client learns which model failed and how; the upstream's address stays in our log."""
    log.warning("upstream of %s failed: %s", model.router_id, exc)
    bad_answer = bad_answer_error(model.router_id, exc)
    if bad_answer is not None:
        return bad_answer
    if isinstance(exc, TimedOut):
        return UpstreamTimeout(f"The upstream of model '{model.router_id}' did not answer in time.")
    return UpstreamUnavailable(f"The upstream of model '{model.router_id}' could not be reached.")


@dataclass(slots=True)
class RouteRecord:
    """What happened to one call; the response headers and the usage event read it."""

    model: RoutableModel  # the request's model until another one answers
    attempts: int = 0
    fallback: bool = False
    cache: str = "bypass"  # hit | miss | bypass
    cache_key: str | None = None  # set when the request asked for the cache
    cache_ttl: int = 0
    discarded: list[dict[str, Any]] = field(default_factory=list)  # usage of answers asked for again
    limit_headers: list[tuple[bytes, bytes]] = field(default_factory=list)  # x-ratelimit-* of the call's key
    # A routed call's attempts, as plain tuples (the usage event's ``attempt_log``):
    # (router_model, upstream_model, status, error_code, ms, kind); None for a plain call,
    # whose one attempt the event itself tells.
    story: list[tuple[str, str, int, str | None, float, str]] | None = None

    def note(self, model: RoutableModel, status: int, error: str | None, began: float, kind: str) -> None:
        """One attempt of a routed call in its story (bounded: ``MAX_STORY``)."""
        story = self.story
        if story is None:
            self.story = story = []
        if len(story) < MAX_STORY:
            elapsed = round((time.perf_counter() - began) * 1000, 3) if began else 0.0
            story.append((model.router_id, model.model_id, status, error, elapsed, kind))

    def header_pairs(self) -> list[tuple[str, str]]:
        return [
            ("x-relaygate-model", self.model.router_id),
            ("x-relaygate-provider", self.model.provider),
            ("x-relaygate-attempts", str(self.attempts)),
            ("x-relaygate-fallback", "true" if self.fallback else "false"),
            ("x-relaygate-cache", self.cache),
        ]

    def headers(self, request_id: str) -> list[tuple[bytes, bytes]]:
        # Built directly as bytes: this runs once per answer on the hot path.
        model = self.model
        return [
            (b"x-request-id", request_id.encode()),
            (b"x-relaygate-model", model.router_id.encode()),
            (b"x-relaygate-provider", model.provider.encode()),
            (b"x-relaygate-attempts", b"1" if self.attempts == 1 else str(self.attempts).encode()),
            (b"x-relaygate-fallback", b"true" if self.fallback else b"false"),
            (b"x-relaygate-cache", b"bypass" if self.cache == "bypass" else self.cache.encode()),
            *self.limit_headers,
        ]

    def tag(self, error: RelaygateError) -> RelaygateError:
        """Put the headers on an error response too: every answer says what happened."""
        error.headers.update(self.header_pairs())
        error.headers.update((name.decode(), value.decode()) for name, value in self.limit_headers)
        return error


@dataclass(slots=True)
class _Failed:
    model: RoutableModel
    response: UpstreamResponse | None = None  # a failure answer, relayed if nothing better comes
    error: TransportError | None = None

    async def discard(self) -> None:
        if self.response is not None:
            await self.response.aclose()


async def _abandon(stream: GuardedStream | None, watch: Watch) -> None:
    if stream is not None:
        await stream.aclose()
    else:
        watch.close()


class RoutePolicy:
    def __init__(
        self, settings: Settings, breakers: Breakers, catalog: Catalog, watchdog: StreamWatchdog
    ) -> None:
        self.breakers = breakers
        self._watchdog = watchdog
        self._catalog = catalog
        self._base = settings.retry_backoff_base_s
        self._cap = settings.retry_backoff_cap_s
        self._idle = settings.stream_idle_timeout_s
        self._default_timeout = settings.request_timeout_s
        self._timeouts = dict(settings.call_timeouts_s)
        self.strict_retries = settings.strict_retries  # asking again for a strict answer (strict_retry.py)
        self._random = random.Random()
        self._turns: dict[tuple[str, tuple[str, ...]], int] = {}

    def plan(
        self, routing: Mapping[str, Any], model: RoutableModel, allowed: frozenset[str] | None = None
    ) -> RoutingPlan | None:
        """The call's routing plan (400 on a bad field); None, at once, for a plain call.
        ``allowed``: the caller key's allow-list, if it has one."""
        if not routing:
            return None
        return parse_plan(routing, model, self._catalog, allowed)

    def model_named(self, workspace_id: str, router_id: str) -> RoutableModel | None:
        return self._catalog.model(workspace_id, router_id)

    async def run(
        self, plan: RoutingPlan | None, record: RouteRecord, open_attempt: OpenAttempt
    ) -> UpstreamResponse:
        if plan is not None:
            return await self._routed(plan, record, open_attempt)
        # A plain call: one attempt, inline, so it pays two dict lookups and no extra frames.
        model = record.model
        if not self.breakers.allow(model):
            raise self._circuit_open(record, [model])
        record.attempts = 1
        limit = self._timeouts.get(model.model_type, self._default_timeout)
        try:
            if open_attempt.streams(model):
                response = await self._attempt(model, open_attempt, limit, prefetch=False)
            else:
                response = await open_attempt(model, limit)
        except TransportError as exc:
            self.breakers.failed(model)
            raise record.tag(transport_failure(model, exc)) from None
        self.breakers.observe(model, response.status)
        return response

    # -- one attempt ----------------------------------------------------------------

    def timeout_for(self, model: RoutableModel, plan: RoutingPlan | None = None) -> float:
        if plan is not None and plan.call_timeout is not None:
            return plan.call_timeout
        return self._timeouts.get(model.model_type, self._default_timeout)

    async def _attempt(
        self, model: RoutableModel, open_attempt: OpenAttempt, limit: float, *, prefetch: bool
    ) -> UpstreamResponse:
        if not open_attempt.streams(model):
            return await open_attempt(model, limit)  # the transport enforces the total timeout
        watch = self._watchdog.watch(limit, self._idle)
        guarded: GuardedStream | None = None
        try:
            guarded = GuardedStream(await open_attempt(model, None), watch)
            if prefetch and guarded.status < 400:
                await guarded.prefetch()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            ours = task is not None and watch.timed_out(task)
            await _abandon(guarded, watch)
            if ours:
                raise TimedOut(f"no answer within the call timeout of {limit:g} s") from None
            raise
        except BaseException:
            await _abandon(guarded, watch)
            raise
        return guarded

    # -- the loop -------------------------------------------------------------------

    def candidates(self, plan: RoutingPlan, primary: RoutableModel) -> list[RoutableModel]:
        balancer = plan.load_balancer
        if balancer is None:
            ordered = [primary, *plan.fallbacks]
        else:
            first = self._pick(balancer.kind, balancer.models, balancer.weights)
            others = (model for index, model in enumerate(balancer.models) if index != first)
            ordered = [balancer.models[first], *others, *plan.fallbacks]
        seen: set[str] = set()
        unique = []
        for model in ordered:
            if model.id not in seen:
                seen.add(model.id)
                unique.append(model)
        return unique

    def _pick(self, kind: str, models: Sequence[RoutableModel], weights: Sequence[float]) -> int:
        if kind == "weight_based":
            return pick_weighted(weights, self._random.random())
        group = (models[0].workspace_id, tuple(model.id for model in models))
        if group not in self._turns and len(self._turns) >= _MAX_BALANCER_GROUPS:
            self._turns.clear()
        turn = self._turns.get(group, 0)
        self._turns[group] = turn + 1
        return turn % len(models)

    async def _routed(
        self, plan: RoutingPlan, record: RouteRecord, open_attempt: OpenAttempt
    ) -> UpstreamResponse:
        candidates = self.candidates(plan, record.model)
        last: _Failed | None = None
        blocked: list[RoutableModel] = []
        for index, model in enumerate(candidates):
            if not self.breakers.allow(model):
                blocked.append(model)
                record.note(model, 0, "circuit_open", 0.0, "skipped")
                continue
            if last is not None:
                await last.discard()
            kind = "fallback" if index else "first"
            outcome = await self._try_candidate(plan, record, model, open_attempt, kind)
            if isinstance(outcome, _Failed):
                last = outcome
                continue
            record.model, record.fallback = model, index > 0
            return outcome
        if last is None:
            raise self._circuit_open(record, blocked)
        record.model, record.fallback = last.model, last.model is not candidates[0]
        if last.response is not None:
            return last.response
        if last.error is None:  # an attempt ends in a response or an error
            raise RuntimeError(f"an attempt on {last.model.router_id} ended with neither answer nor error")
        raise record.tag(transport_failure(last.model, last.error))

    async def _try_candidate(
        self,
        plan: RoutingPlan,
        record: RouteRecord,
        model: RoutableModel,
        open_attempt: OpenAttempt,
        kind: str,
    ) -> UpstreamResponse | _Failed:
        timeout = self.timeout_for(model, plan)
        retry = 0
        while True:
            record.attempts += 1
            delay: float | None = None
            began = time.perf_counter()
            try:
                response = await self._attempt(model, open_attempt, timeout, prefetch=True)
            except TransportError as exc:
                log.info("attempt %d at %s failed: %s", record.attempts, model.router_id, exc)
                self.breakers.failed(model)
                record.note(model, 0, _failure_code(exc), began, "retry" if retry else kind)
                failed = _Failed(model, error=exc)
                if retry < plan.retries:
                    delay = backoff_delay(retry, self._base, self._cap, self._random.random())
            else:
                self.breakers.observe(model, response.status)
                record.note(model, response.status, None, began, "retry" if retry else kind)
                if response.status < 400 or not self._fails_over(plan, response.status):
                    return response
                failed = _Failed(model, response=response)
                if retry < plan.retries and response.status in plan.retry_codes:
                    delay = self._retry_delay(retry, response)
            if delay is None:
                return failed
            await failed.discard()
            await asyncio.sleep(delay)
            retry += 1

    def _fails_over(self, plan: RoutingPlan, status: int) -> bool:
        return status in plan.retry_codes or status in _FAILOVER_STATUSES or is_upstream_failure(status)

    def _retry_delay(self, retry: int, response: UpstreamResponse) -> float | None:
        """Backoff, or the upstream's Retry-After when shorter than the cap (None: do not wait)."""
        wait = retry_after(response.headers)
        if wait is None:
            return backoff_delay(retry, self._base, self._cap, self._random.random())
        return wait if wait <= self._cap else None

    def _circuit_open(self, record: RouteRecord, blocked: Sequence[RoutableModel]) -> RelaygateError:
        wait = min(self.breakers.retry_in(model) for model in blocked)
        names = ", ".join(f"'{model.router_id}'" for model in blocked)
        error = ServiceUnavailable(
            f"The upstream of {names} failed repeatedly and is paused for up to "
            f"{self.breakers.cooldown:g} s (circuit breaker open). Retry later or add fallbacks.",
            code="circuit_open",
            headers={"retry-after": str(max(1, math.ceil(wait)))},
        )
        return record.tag(error)
