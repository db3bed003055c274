"""The answers of a searching call as each API streams them, in process: events in order, numbered,
annotations as soon as their citation is whole; and the search cost's arithmetic."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import orjson

from relaygate.errors import UpstreamUnavailable
from relaygate.router.adapters import UpstreamRequest
from relaygate.router.search.chat_output import ChatOutput
from relaygate.router.search.forwarder import search_cost_nano
from relaygate.router.search.output import Channel, Ending, SearchCall, SearchOutput
from relaygate.router.search.responses_output import ResponsesOutput
from relaygate.router.search.turn import ToolCall, Turn, add_usage
from relaygate.sse import event_object, split_events
from relaygate.web_search.citations import Sources
from relaygate.web_search.config import SearchBackend
from relaygate.web_search.tool import Source

from support.models import routable_model

MODEL = routable_model()
SOURCE = Source(1, "A page", "https://a.example/page")
USAGE = {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}


class Sent:
    """An ASGI ``send`` that keeps what it is given."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, message: Any) -> None:
        self.messages.append(message)

    @property
    def events(self) -> list[dict[str, Any]]:
        body = b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")
        return [found for event in split_events(body) if (found := event_object(event)) is not None]


async def _play(output: SearchOutput, sources: Sources, *, fail: bool = False) -> None:
    """A call that says a few words, searches once, then answers citing the result in two pieces."""
    await output.start([])
    await output.text("Looking.")
    search = SearchCall("ws_1", ToolCall("call_1", "web_search", '{"query": "q"}'), "q")
    await output.searching([search])
    sources.add([SOURCE])
    search.sources, search.status = [SOURCE], "completed"
    await output.searched(search)
    if fail:
        await output.fail(UpstreamUnavailable("gone", code="upstream_error"))
        return
    for piece in ("See [A page](https://a.exa", "mple/page) now."):
        await output.text(piece)
    request = UpstreamRequest(MODEL, "/chat/completions", b"{}", True)
    await output.finish(Ending(Turn(finish_reason="stop"), request, USAGE, limit_reached=True), [])


def _responses(sent: Sent, sources: Sources, stream: bool = True) -> ResponsesOutput:
    return ResponsesOutput(
        {"tools": [{"type": "web_search"}]}, MODEL.router_id, Channel(sent, stream), sources, True
    )


def test_a_streamed_responses_answer_has_its_events_in_order_and_numbered() -> None:
    sent, sources = Sent(), Sources()
    asyncio.run(_play(_responses(sent, sources), sources))
    events = sent.events
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    assert [event["type"] for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",  # the message with the words before the search
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",  # the search
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
        "response.output_item.done",
        "response.output_item.added",  # the answer
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.annotation.added",  # as soon as the link is whole
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    final = events[-1]["response"]
    assert [item["type"] for item in final["output"]] == ["message", "web_search_call", "message"]
    assert [event.get("output_index") for event in events[2:-1]] == [0] * 6 + [1] * 5 + [2] * 8
    answer = final["output"][2]["content"][0]
    [annotation] = answer["annotations"]
    assert (
        answer["text"][annotation["start_index"] : annotation["end_index"]]
        == "[A page](https://a.example/page)"
    )
    assert final["output"][1]["action"] == {
        "type": "search",
        "query": "q",
        "sources": [{"type": "url", "url": "https://a.example/page"}],
    }
    assert final["usage"]["input_tokens"] == 10
    assert final["metadata"] == {"web_search": "limit_reached"}
    assert sent.messages[0]["type"] == "http.response.start"
    assert sent.messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


def test_a_whole_responses_answer_is_the_streams_final_response() -> None:
    streamed, whole = Sent(), Sent()
    for sent, stream in ((streamed, True), (whole, False)):
        sources = Sources()
        asyncio.run(_play(_responses(sent, sources, stream), sources))
    [start, body] = whole.messages
    assert (start["type"], start["status"]) == ("http.response.start", 200)
    answer = orjson.loads(body["body"])
    final = streamed.events[-1]["response"]
    for key in ("output", "usage", "metadata", "status"):
        assert _without_ids(answer[key]) == _without_ids(final[key])


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def test_a_responses_stream_that_fails_after_it_began_ends_with_an_error_and_a_failed_response() -> None:
    sent, sources = Sent(), Sources()
    asyncio.run(_play(_responses(sent, sources), sources, fail=True))
    error, failed = sent.events[-2:]
    assert (error["type"], error["code"], error["message"]) == ("error", "upstream_error", "gone")
    assert failed["type"] == "response.failed"
    assert failed["response"]["error"] == {"code": "upstream_error", "message": "gone"}


def test_a_streamed_chat_answer_keeps_the_words_before_the_search_and_annotates_before_the_end() -> None:
    sent, sources = Sent(), Sources()
    asyncio.run(_play(ChatOutput(MODEL.router_id, Channel(sent, True), sources, include_usage=True), sources))
    events = sent.events
    deltas = [event["choices"][0]["delta"] for event in events if event["choices"]]
    content = "".join(delta.get("content") or "" for delta in deltas)
    assert content == "Looking.\n\nSee [A page](https://a.example/page) now."
    [annotations] = [delta["annotations"] for delta in deltas if "annotations" in delta]
    span = annotations[0]["url_citation"]
    assert content[span["start_index"] : span["end_index"]] == "[A page](https://a.example/page)"
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert events[-2]["metadata"] == {"web_search": "limit_reached"}
    assert events[-1] == {**events[-1], "choices": [], "usage": USAGE}
    body = b"".join(m.get("body", b"") for m in sent.messages if m["type"] == "http.response.body")
    assert body.count(b": web search\n\n") == 1
    assert body.endswith(b"data: [DONE]\n\n")


def test_usage_of_rounds_adds_up() -> None:
    one = {"prompt_tokens": 3, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 1}}
    two = {
        "prompt_tokens": 5,
        "completion_tokens": 1,
        "total_tokens": 6,
        "completion_tokens_details": {"reasoning_tokens": 1},
    }
    assert add_usage(add_usage(None, one), two) == {
        "prompt_tokens": 8,
        "completion_tokens": 3,
        "total_tokens": 11,
        "prompt_tokens_details": {"cached_tokens": 1},
        "completion_tokens_details": {"reasoning_tokens": 1},
    }
    assert add_usage(None, None) is None


def test_searches_cost_the_backends_price_else_the_models() -> None:
    backend = SearchBackend("b", "w1", "searxng", "https://s.example", "", price_per_1000=Decimal("5"))
    assert search_cost_nano(backend, MODEL, 3) == 15_000_000
    unpriced = SearchBackend("b", "w1", "searxng", "https://s.example", "")
    priced_model = routable_model(search_cost=Decimal(10000))
    assert search_cost_nano(unpriced, priced_model, 2) == 20_000_000
    assert search_cost_nano(unpriced, MODEL, 2) == 0
    assert search_cost_nano(backend, MODEL, 0) == 0
