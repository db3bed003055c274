"""Asking again when an answer breaks the strict schemas relaygate checks for its model.

``StrictAttempts`` wraps the forwarder's ``OpenAttempt``: each successful answer is read
whole and checked against the call's ``StrictContract`` (``strict_schemas.py``); a broken
one is asked for again, up to ``RELAYGATE_STRICT_RETRIES`` times (default 1). Each try
counts in ``x-relaygate-attempts``, and the tokens of the answers thrown away count in
the call's usage (they were paid for). When the last try breaks them too, the client gets
a 502 ``strict_schema_mismatch`` that says which schema and where, never the bad answer.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from relaygate.catalog import RoutableModel
from relaygate.errors import RelaygateError, UpstreamUnavailable
from relaygate.router.policy import OpenAttempt, RouteRecord
from relaygate.router.strict_schemas import STRICT_HEADER, StrictContract
from relaygate.upstream.transport import UpstreamResponse, WholeBody
from relaygate.usage.events import UsageEvent
from relaygate.usage.pricing import price_event

log = logging.getLogger("relaygate.router")


class SchemaMismatch(UpstreamUnavailable):
    default_code = "strict_schema_mismatch"


class HeldAnswer(WholeBody):
    """An upstream answer already read whole, handed on as an ``UpstreamResponse``."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self._headers = headers
        self._body = body

    @property
    def headers(self) -> list[tuple[str, str]]:
        return self._headers

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self._headers if key.lower() == wanted), None)


def _usage(answer: Any) -> dict[str, Any] | None:
    usage = answer.get("usage") if isinstance(answer, dict) else None
    return usage if isinstance(usage, dict) else None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


class StrictAttempts:
    """An ``OpenAttempt`` that hands on only answers that keep the call's strict schemas."""

    def __init__(
        self, contract: StrictContract, open_attempt: OpenAttempt, retries: int, record: RouteRecord
    ) -> None:
        self._contract = contract
        self._open = open_attempt
        self._retries = retries
        self._record = record
        self.discarded: list[dict[str, Any]] = []  # the usage of the answers asked for again

    async def __call__(self, model: RoutableModel, total_timeout: float | None) -> UpstreamResponse:
        tries = 0
        while True:
            response = await self._open(model, total_timeout)
            if response.status != 200:
                return response
            try:
                body = await response.read()
            finally:
                await response.aclose()
            try:
                answer = orjson.loads(body)
            except orjson.JSONDecodeError:
                answer = None  # not ours to judge: the forwarder answers a 502 for it
            problem = self._contract.check(answer)
            if problem is None:
                return HeldAnswer(response.status, list(response.headers), body)
            tries += 1
            if (usage := _usage(answer)) is not None:
                self.discarded.append(usage)
            if tries > self._retries:
                raise self._mismatch(model, tries, problem)
            log.info("answer of %s broke its strict schema (%s); asking again", model.router_id, problem)
            self._record.attempts += 1

    def _mismatch(self, model: RoutableModel, tries: int, problem: str) -> RelaygateError:
        times = "once" if tries == 1 else f"{tries} times"
        error = SchemaMismatch(
            f"The upstream of model '{model.router_id}' answered {times} without following the strict "
            f"schema: {problem}. relaygate checks strict schemas itself for this model because its "
            "upstream does not enforce them (supports_strict_tool is off).",
        )
        error.headers.update((name.decode(), value.decode()) for name, value in STRICT_HEADER)
        return self._record.tag(error)

    def account(self, event: UsageEvent, model: RoutableModel) -> None:
        """Add the tokens of the answers thrown away to the call's usage, and price it again."""
        if not self.discarded:
            return
        for usage in self.discarded:
            prompt, completion = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
            event.prompt_tokens += prompt
            event.completion_tokens += completion
            event.total_tokens += _count(usage.get("total_tokens")) or prompt + completion
        price_event(event, model)
