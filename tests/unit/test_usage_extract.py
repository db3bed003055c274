"""``usage.extract``: what an answer or a stream says it consumed, and offline estimates."""

from __future__ import annotations

from typing import Any

from relaygate.sse import encode_event
from relaygate.usage.events import UsageEvent
from relaygate.usage.extract import StreamText, needs_estimate, settle_usage, take_answer

from support.models import routable_model

MODEL = routable_model()


def _event(endpoint: str = "chat.completions", status: int = 200) -> UsageEvent:
    event = UsageEvent("w1", "k1", endpoint, "req_1")
    event.status = status
    return event


def test_images_and_audio_seconds_come_from_the_answer() -> None:
    images = _event("images.generations")
    take_answer(images, {"data": [{"url": "a"}, {"url": "b"}]})
    assert images.images == 2
    transcription = _event("audio.transcriptions")
    take_answer(transcription, {"text": "hi", "duration": 3.5})
    assert transcription.audio_seconds == 3.5
    metered = _event("audio.transcriptions")
    take_answer(metered, {"text": "hi", "usage": {"type": "duration", "seconds": 7}})
    assert metered.audio_seconds == 7.0


def test_a_whole_answer_without_usage_counts_text_reasoning_refusals_and_tool_calls() -> None:
    answer: dict[str, Any] = {
        "choices": [
            "not a choice",
            {"message": "not a message"},
            {
                "message": {
                    "content": "Hello",
                    "reasoning_content": "thinking",
                    "refusal": None,
                    "tool_calls": [{"function": {"name": "where", "arguments": '{"city":"Paris"}'}}, "bad"],
                }
            },
        ]
    }
    event = _event()
    settle_usage(event, MODEL, {"messages": [{"role": "user", "content": "hi"}]}, answer=answer)
    assert event.estimated
    assert event.completion_tokens >= 5
    assert event.total_tokens == event.prompt_tokens + event.completion_tokens


def test_a_text_completion_and_a_responses_answer_are_counted_too() -> None:
    completion = _event("completions")
    settle_usage(completion, MODEL, {"prompt": "Say"}, answer={"choices": [{"text": "hello there"}]})
    assert completion.completion_tokens > 0
    responses = _event("responses")
    output = {"output": [{"content": [{"type": "output_text", "text": "hello there"}]}, "x"]}
    settle_usage(responses, MODEL, {"input": [{"role": "user", "content": "hi"}]}, answer=output)
    assert responses.prompt_tokens > 0
    assert responses.completion_tokens > 0


def test_speech_counts_the_characters_of_its_input() -> None:
    event = _event("audio.speech")
    settle_usage(event, MODEL, {"input": "Hello world"})
    assert event.audio_characters == 11
    assert event.total_tokens == 0


def test_nothing_is_estimated_for_a_failure_a_reported_usage_or_images() -> None:
    failed = _event(status=502)
    settle_usage(failed, MODEL, {"messages": []}, answer={"choices": [{"text": "x"}]})
    assert not failed.estimated
    assert not needs_estimate("chat.completions", {"prompt_tokens": 1}, cache_hit=False)
    assert not needs_estimate("chat.completions", None, cache_hit=True)
    assert not needs_estimate("images.generations", None, cache_hit=False)
    assert needs_estimate("chat.completions", None, cache_hit=False)


def test_a_long_stream_is_kept_up_to_its_bound_and_extrapolated() -> None:
    text = StreamText()
    event_bytes = encode_event(b'{"choices":[{"delta":{"content":"word "}}]}')
    for _ in range(40_000):  # past the 1 MiB kept for counting
        text.add(event_bytes)
    assert text.seen == 40_000 * len(event_bytes)
    assert text.scale > 1.0
    event = _event()
    settle_usage(event, MODEL, {"messages": []}, stream=text)
    assert event.completion_tokens > 30_000
