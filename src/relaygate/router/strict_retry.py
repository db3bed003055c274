"""Asking again when an answer breaks the strict schemas relaygate checks for its model.

``strict_answer`` runs one attempt for a request with a ``StrictContract``: each successful
answer is read whole and checked against it (``strict_schemas.py``); a broken
one is asked for again, up to ``RELAYGATE_STRICT_RETRIES`` times (default 1). Each try
counts in ``x-relaygate-attempts``, and the tokens of the answers thrown away count in
the call's usage (they were paid for). When the last try breaks them too, the client gets
a 502 ``strict_schema_mismatch`` that says which schema and where, never the bad answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson

from relaygate.catalog import RoutableModel
from relaygate.errors import RelaygateError, UpstreamUnavailable
from relaygate.router.adapters import UpstreamRequest
from relaygate.router.policy import RouteRecord
from relaygate.router.strict_schemas import STRICT_HEADER
from relaygate.upstream.transport import UpstreamResponse, WholeBody

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


async def strict_answer(
    request: UpstreamRequest,
    open_once: Callable[[], Awaitable[UpstreamResponse]],
    retries: int,
    record: RouteRecord,
) -> UpstreamResponse:
    """The first answer of ``request``'s model that keeps its strict schemas (read whole),
    asking again up to ``retries`` times; a failure status goes back as it came. The usage
    of each answer thrown away is kept in ``record.discarded``: it was paid for."""
    contract, model = request.strict, request.model
    if contract is None:
        return await open_once()
    tries = 0
    while True:
        response = await open_once()
        if response.status != 200:
            return response
        try:
            body = await response.read()
        finally:
            await response.aclose()
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError:
            answer = None  # not ours to judge: the relay answers a 502 for it
        problem = contract.check(answer)
        if problem is None:
            return HeldAnswer(response.status, list(response.headers), body)
        tries += 1
        usage = answer.get("usage") if isinstance(answer, dict) else None
        if isinstance(usage, dict):
            record.discarded.append(usage)
        if tries > retries:
            raise _mismatch(record, model, tries, problem)
        log.info("answer of %s broke its strict schema (%s); asking again", model.router_id, problem)
        record.attempts += 1


def _mismatch(record: RouteRecord, model: RoutableModel, tries: int, problem: str) -> RelaygateError:
    times = "once" if tries == 1 else f"{tries} times"
    error = SchemaMismatch(
        f"The upstream of model '{model.router_id}' answered {times} without following the strict "
        f"schema: {problem}. relaygate checks strict schemas itself for this model because its "
        "upstream does not enforce them (supports_strict_tool is off).",
    )
    error.headers.update((name.decode(), value.decode()) for name, value in STRICT_HEADER)
    return record.tag(error)
