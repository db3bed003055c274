"""``/chat/completions`` with ``web_search_options`` through the official SDK: the same loop,
the answer's ``url_citation`` annotations in chat's shape, whole and streamed."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from .search_apis import RESULTS, FakeSearchApi
from .searching_model import FakeSearchingModel
from support.server import Workspace

MESSAGES: Any = [{"role": "user", "content": "what is relaygate?"}]


def _spans(content: str, annotations: list[Any]) -> list[tuple[str, str]]:
    return [
        (content[a["url_citation"]["start_index"] : a["url_citation"]["end_index"]], a["url_citation"]["url"])
        for a in annotations
    ]


def test_web_search_options_search_and_cite(
    searching: tuple[Workspace, str], search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace, model = searching
    raw = workspace.client().chat.completions.with_raw_response.create(
        model=model,
        messages=MESSAGES,
        web_search_options={
            "search_context_size": "high",
            "user_location": {"type": "approximate", "approximate": {"country": "FR"}},
        },
    )
    completion = raw.parse()
    assert raw.headers["x-relaygate-web-search"] == "relaygate"
    message = completion.choices[0].message
    assert message.content is not None
    assert completion.model == model
    assert [(a.type, a.url_citation.title) for a in message.annotations or ()] == [
        ("url_citation", r["title"]) for r in RESULTS[:2]
    ]
    annotations = [a.model_dump() for a in message.annotations or ()]
    assert _spans(message.content, annotations) == [
        (f"[{r['title']}]({r['url']})", r["url"]) for r in RESULTS[:2]
    ]
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 5 + len(message.content.split())
    [given] = [
        json.loads(m["content"]) for m in searching_model.requests[-1]["messages"] if m["role"] == "tool"
    ]
    assert len(given["results"]) == len(RESULTS)  # high: up to ten
    assert "web_search_options" not in searching_model.requests[0]
    assert len(search_api.requests) == 1


def test_a_streamed_chat_call_streams_the_answer_with_its_annotations_before_the_end(
    searching: tuple[Workspace, str],
) -> None:
    workspace, model = searching
    chunks = list(
        workspace.client().chat.completions.create(
            model=model,
            messages=MESSAGES,
            web_search_options={},
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content.count(" ") > 3  # many deltas, the final round's words
    with_annotations = [
        i
        for i, c in enumerate(chunks)
        if c.choices and (c.choices[0].delta.model_extra or {}).get("annotations")
    ]
    finish = [i for i, c in enumerate(chunks) if c.choices and c.choices[0].finish_reason]
    assert len(with_annotations) == 1
    assert finish == [with_annotations[0] + 1]
    annotations = (chunks[with_annotations[0]].choices[0].delta.model_extra or {})["annotations"]
    assert _spans(content, annotations) == [(f"[{r['title']}]({r['url']})", r["url"]) for r in RESULTS[:2]]
    assert chunks[-1].usage is not None
    assert not chunks[-1].choices
    assert chunks[-1].usage.total_tokens > 0


@pytest.mark.parametrize(
    ("cite", "spans"),
    [
        ("bare", [r["url"] for r in RESULTS[:2]]),
        ("ref", ["[1]", "[2]"]),
    ],
)
def test_bare_urls_and_ref_numbers_are_citations_too(
    searching: tuple[Workspace, str], searching_model: FakeSearchingModel, cite: str, spans: list[str]
) -> None:
    workspace, model = searching
    searching_model.reset(cite=cite)
    message = (
        workspace.client()
        .chat.completions.create(model=model, messages=MESSAGES, web_search_options={})
        .choices[0]
        .message
    )
    assert message.content is not None
    annotations = [a.model_dump() for a in message.annotations or ()]
    assert _spans(message.content, annotations) == [
        (span, r["url"]) for span, r in zip(spans, RESULTS, strict=False)
    ]


def test_text_written_before_a_search_stays_in_the_content(
    searching: tuple[Workspace, str], searching_model: FakeSearchingModel
) -> None:
    workspace, model = searching
    searching_model.reset(preamble="Let me look that up.")
    message = (
        workspace.client()
        .chat.completions.create(model=model, messages=MESSAGES, web_search_options={})
        .choices[0]
        .message
    )
    assert message.content is not None
    assert message.content.startswith("Let me look that up.\n\nHere is what I found:")
    annotations = [a.model_dump() for a in message.annotations or ()]
    assert [span for span, _ in _spans(message.content, annotations)] == [
        f"[{r['title']}]({r['url']})" for r in RESULTS[:2]
    ]
    # The model saw its own words with its search call.
    assistant = [m for m in searching_model.requests[-1]["messages"] if m["role"] == "assistant"]
    assert assistant[0]["content"] == "Let me look that up."


def test_several_choices_cannot_search(searching: tuple[Workspace, str]) -> None:
    workspace, model = searching
    with pytest.raises(openai.BadRequestError) as refused:
        workspace.client().chat.completions.create(model=model, messages=MESSAGES, web_search_options={}, n=2)
    assert refused.value.param == "n"


def test_a_function_named_web_search_clashes_with_the_search(searching: tuple[Workspace, str]) -> None:
    workspace, model = searching
    tools: Any = [{"type": "function", "function": {"name": "web_search", "parameters": {"type": "object"}}}]
    with pytest.raises(openai.BadRequestError) as refused:
        workspace.client().chat.completions.create(
            model=model, messages=MESSAGES, web_search_options={}, tools=tools
        )
    assert (refused.value.param, refused.value.code) == ("tools", "tool_name_conflict")
