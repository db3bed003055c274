"""Offline token counts: the same figures as before the tokenizer was loaded lazily, and a
first load that leaves the event loop serving."""

from __future__ import annotations

import subprocess
import sys

import pytest

from relaygate.usage import tokenizer

TEXT = "Привет, мир! Считаем токены."
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {
        "role": "user",
        "name": "ann",
        "content": [
            {"type": "text", "text": "Привет, мир!"},
            {"type": "image_url", "image_url": {"url": "x"}},
            {"type": "text", "text": "Считаем токены."},
        ],
    },
]


# Figures taken from the eager tokenizer this module replaced: o200k for models bpe-openai
# does not know (and for those it maps to an encoding other than o200k or cl100k), cl100k for
# the models it maps there.
@pytest.mark.parametrize(
    ("model", "text", "messages", "inputs", "rerank"),
    [
        ("llama-3.3-70b", 12, 26, 6, 7),
        ("gpt-4o", 12, 26, 6, 7),
        ("davinci", 12, 26, 6, 7),
        ("gpt-4", 14, 28, 8, 8),
        ("text-embedding-3-small", 14, 28, 8, 8),
    ],
)
def test_counts_are_those_of_the_models_encoding(
    model: str, text: int, messages: int, inputs: int, rerank: int
) -> None:
    assert tokenizer.count_text(TEXT, model) == text
    assert tokenizer.count_prompt({"messages": MESSAGES}, model) == messages
    assert tokenizer.count_prompt({"input": ["Привет, мир!", "x", 3]}, model) == inputs
    assert (
        tokenizer.count_prompt({"query": "мир", "documents": ["Привет", {"text": "токены"}]}, model) == rerank
    )
    assert tokenizer.is_loaded(model)


def test_nothing_to_count_counts_nothing() -> None:
    assert tokenizer.count_text("", "gpt-4o") == 0
    assert tokenizer.count_prompt({"prompt": None}, "gpt-4o") == 0
    assert tokenizer.count_messages("not a list", "gpt-4o") == 0


# Run in a fresh interpreter: in this one, another test may have loaded the library already.
_FIRST_LOAD = """
import asyncio, sys
from relaygate.usage import tokenizer

async def main() -> None:
    assert "bpe_openai" not in sys.modules, "importing the tokenizer loaded its library"
    assert not tokenizer.is_loaded("gpt-4o")
    ticks = 0
    loading = asyncio.ensure_future(tokenizer.ensure_loaded("gpt-4o"))
    while not loading.done():
        ticks += 1
        await asyncio.sleep(0.005)
    await loading
    assert ticks >= 5, f"the event loop turned only {ticks} times while the tokenizer loaded"
    assert tokenizer.is_loaded("gpt-4o") and not tokenizer.is_loaded("gpt-4")
    assert tokenizer.count_text("Привет, мир! Считаем токены.", "gpt-4o") == 12
    await asyncio.gather(*(tokenizer.ensure_loaded("gpt-4") for _ in range(3)))
    assert tokenizer.count_text("Привет, мир! Считаем токены.", "gpt-4") == 14

asyncio.run(main())
"""


def test_the_first_load_runs_beside_the_event_loop() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _FIRST_LOAD], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
