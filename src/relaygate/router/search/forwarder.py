"""Calls that ask for web search, served by relaygate's own search loop.

``takes`` picks them out for the forwarder with a dict lookup or two: a ``/responses``
call with a ``web_search`` tool, or a chat call with ``web_search_options``, whose model
does not search itself. A model whose upstream serves ``/responses`` (``supports_responses_api``)
is taken to have its own search and is passed through, unless its workspace's backend says
``prefer_relaygate``. Everything else is as for any call: the routing plan, each round's
attempts, the usage event (with the searches, their cost and their time).

Refusals before anything is sent: a model (primary or fallback) without tool calling, a
workspace without a search backend, a request the loop cannot serve. The answer cache is
not used: results change, and a cached search answer would hide that.
"""

from __future__ import annotations

import time
from decimal import Decimal

import orjson

from relaygate.catalog import Catalog, RoutableModel
from relaygate.errors import InvalidRequest, RelaygateError, UpstreamUnavailable
from relaygate.router.adapters import UpstreamRequest
from relaygate.router.asgi import RawHeaders
from relaygate.router.call import PreparedCall
from relaygate.router.policy import RoutePolicy, RouteRecord
from relaygate.router.relay import Relay, Relayed, Reply, content_type
from relaygate.router.responses_api.serving import TRANSLATED_HEADER
from relaygate.router.upstream_answers import error_answer
from relaygate.types import Send
from relaygate.upstream.transport import Transport, TransportError
from relaygate.usage.pricing import to_nano
from relaygate.web_search.citations import Sources
from relaygate.web_search.config import SearchBackend
from relaygate.web_search.options import is_search_tool
from relaygate.web_search.searcher import WebSearcher

from .chat_output import ChatOutput
from .conversation import SearchRequest, chat_search, responses_search
from .loop import HeadersFor, SearchLoop, Tally
from .output import Channel, Ending, SearchOutput
from .responses_output import ResponsesOutput
from .rounds import OpenRound, Rounds

SEARCH_HEADER = (b"x-relaygate-web-search", b"relaygate")
_THOUSAND, _MILLION = Decimal(1000), Decimal(1_000_000)


def _cannot_search(model: RoutableModel, param: str) -> InvalidRequest:
    return InvalidRequest(
        f"Model '{model.router_id}' cannot use web search: relaygate runs the search by offering the model "
        "a web_search function to call, and this model's supports_tool_calling capability is off. If its "
        f"upstream can call tools, PATCH /v2/models/openai-like/{model.id} with supports_tool_calling: true; "
        "else choose a model that can.",
        param=param,
        code="capability_not_supported",
    )


def _no_backend(param: str) -> InvalidRequest:
    return InvalidRequest(
        "Web search needs a search backend and this workspace has none. An admin sets one with "
        "PUT /v2/search/backend (kind searxng, brave or tavily) or in Studio under Web search "
        "(/studio/search).",
        param=param,
        code="search_backend_not_configured",
    )


def search_cost_nano(backend: SearchBackend, model: RoutableModel, billed: int) -> int:
    """The searches' cost: the backend's price per 1000, else the model's per million."""
    if billed == 0:
        return 0
    if backend.price_per_1000 is not None:
        return to_nano(backend.price_per_1000 * billed / _THOUSAND)
    if model.search_cost is not None:
        return to_nano(model.search_cost * billed / _MILLION)
    return 0


class SearchForwarder:
    def __init__(
        self,
        transport: Transport,
        policy: RoutePolicy,
        relay: Relay,
        catalog: Catalog,
        searcher: WebSearcher,
        max_sse_event_bytes: int,
    ) -> None:
        self._transport = transport
        self._policy = policy
        self._relay = relay
        self._catalog = catalog
        self._searcher = searcher
        self._max_event_bytes = max_sse_event_bytes

    def takes(self, call: PreparedCall) -> bool:
        """The call asks for web search and relaygate runs it."""
        body = call.body
        if call.endpoint.kind == "responses":
            tools = body.get("tools")
            if not isinstance(tools, list) or not any(is_search_tool(tool) for tool in tools):
                return False
        elif body.get("web_search_options") is None or call.endpoint.name != "chat.completions":
            return False
        model = call.model
        if not model.supports("supports_responses_api"):
            return True
        backend = self._catalog.search_backend(model.workspace_id)
        return backend is not None and backend.prefer_relaygate

    async def forward(
        self,
        call: PreparedCall,
        send: Send,
        record: RouteRecord,
        relayed: Relayed,
        request_id: str,
        started: float,
    ) -> None:
        responses = call.endpoint.kind == "responses"
        param = "tools" if responses else "web_search_options"
        plan = self._policy.plan(call.routing, call.model, call.allowed_models)
        for model in (call.model, *(plan.alternatives(call.model) if plan is not None else ())):
            if not model.supports("supports_tool_calling"):
                raise _cannot_search(model, param)
        backend = self._catalog.search_backend(call.model.workspace_id)
        if backend is None:
            raise _no_backend(param)
        request = responses_search(call.body) if responses else chat_search(call.body)
        rounds = Rounds(self._transport, self._policy, call, plan)
        rounds.requests(request.conversation.body(True, True))  # a candidate that cannot serve it: 400 now
        channel, sources = Channel(send, call.stream), Sources()
        output = self._output(call, request, channel, sources)
        loop = SearchLoop(
            rounds,
            request.conversation,
            request.options,
            backend,
            self._searcher,
            output,
            sources,
            self._max_event_bytes,
            request.bound(backend.max_searches),
        )

        def headers_for(record: RouteRecord, upstream: UpstreamRequest) -> RawHeaders:
            extra = [TRANSLATED_HEADER, SEARCH_HEADER] if responses else [SEARCH_HEADER]
            return [*record.headers(request_id), *upstream.notes, *extra]

        try:
            ended = await self._run(loop, output, channel, record, relayed, headers_for, started)
            if ended is not None:
                await self._refused(ended, send, headers_for(record, ended.request), relayed, started)
        finally:
            self._account(loop.tally, backend, record, relayed, output, channel, started)

    def _output(
        self, call: PreparedCall, request: SearchRequest, channel: Channel, sources: Sources
    ) -> SearchOutput:
        router_id = call.model.router_id
        if call.endpoint.kind == "responses":
            return ResponsesOutput(dict(call.body), router_id, channel, sources, request.with_sources)
        return ChatOutput(router_id, channel, sources, request.include_usage)

    async def _run(
        self,
        loop: SearchLoop,
        output: SearchOutput,
        channel: Channel,
        record: RouteRecord,
        relayed: Relayed,
        headers_for: HeadersFor,
        started: float,
    ) -> OpenRound | None:
        """The loop to its end; the round whose refusal is still to be relayed, if any."""
        try:
            result = await loop.run(record, headers_for)
            if isinstance(result, Ending):
                overhead = f"{_overhead_ms(loop.tally, started):.3f}".encode()
                headers = [*headers_for(record, result.request), (b"x-relaygate-overhead-ms", overhead)]
                await output.finish(result, headers)
                relayed.status, relayed.answered = 200, True
                return None
            if not channel.started:
                return result
            error = await _upstream_error(result)
        except RelaygateError as failure:
            if not channel.started:
                raise
            error = failure
        relayed.status, relayed.error_code = error.status, error.code
        await output.fail(error)
        return None

    async def _refused(
        self, opened: OpenRound, send: Send, headers: RawHeaders, relayed: Relayed, started: float
    ) -> None:
        """The upstream refused a round before the answer began: the client gets its error."""
        reply = Reply(opened.request, opened.response, send, headers, relayed)
        await self._relay.relay(reply, False, started, opened.started)

    def _account(
        self,
        tally: Tally,
        backend: SearchBackend,
        record: RouteRecord,
        relayed: Relayed,
        output: SearchOutput,
        channel: Channel,
        started: float,
    ) -> None:
        """What the usage event needs of the call: tokens of every round, the searches, timings."""
        if tally.usage is not None:
            relayed.usage = tally.usage
        relayed.answer = output.answer
        relayed.text = output.sent if output.answer is None else None
        relayed.searches = tally.searches
        relayed.search_cost_nano = search_cost_nano(backend, record.model, tally.billed)
        relayed.search_ms = tally.search_ms
        if relayed.overhead_ms is None:
            relayed.overhead_ms = _overhead_ms(tally, started)
        if channel.started_at is not None:
            relayed.ttfb_ms = (channel.started_at - started) * 1000
        if output.sent.seen:
            self._relay.keep_stream(relayed, output.sent)


def _overhead_ms(tally: Tally, started: float) -> float:
    """relaygate's own time: the call's, but its rounds' upstream time and its searches'."""
    return max(0.0, (time.perf_counter() - started) * 1000 - tally.upstream_ms - tally.search_ms)


async def _upstream_error(opened: OpenRound) -> RelaygateError:
    """A round the upstream refused after the answer had begun, as the error the stream ends with."""
    response, model = opened.response, opened.request.model
    try:
        body = await response.read()
    except TransportError:
        body = b""
    finally:
        await response.aclose()
    secret = model.authorization.removeprefix("Bearer ")
    shown, _ = error_answer(model.router_id, response.status, content_type(response, b""), body, secret)
    error = orjson.loads(shown).get("error")
    said = error.get("message") if isinstance(error, dict) else error
    return UpstreamUnavailable(
        f"The upstream of model '{model.router_id}' answered HTTP {response.status} to a later round: {said}",
        code="upstream_error",
    )
