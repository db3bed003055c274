"""In-process tests of ``{{variable}}`` templates: which variables a prompt needs, and
rendering in one pass, values as text."""

from __future__ import annotations

from typing import Any

import pytest

from relaygate.deployments.template import MissingVariables, as_text, render, variables

PROMPT: list[dict[str, Any]] = [
    {"role": "system", "content": "You know {{product}} and {{ product }}."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "{{question}} ({{user.name}}, {{x-y}})"},
            {"type": "image_url", "image_url": {"url": "https://img/{{image_id}}.png", "detail": "low"}},
            {"type": "file", "file": {"file_data": "{{not_a_text_field}}"}},
        ],
    },
    {"role": "assistant", "content": None},
]


def test_variables_are_found_in_text_parts_and_image_urls_in_order_each_once() -> None:
    assert variables(PROMPT) == ["product", "question", "user.name", "x-y", "image_id"]


def test_text_that_is_no_placeholder_is_no_variable() -> None:
    messages = [{"role": "user", "content": "{{}} {{ 1abc }} {single} {{a b}} {{{{ok}}}}"}]
    assert variables(messages) == ["ok"]


def test_render_fills_every_placeholder_and_leaves_the_template_alone() -> None:
    inputs = {"product": "relaygate", "question": "why?", "user.name": "Ann", "x-y": 1, "image_id": 7}
    rendered = render(PROMPT, inputs)
    assert rendered[0]["content"] == "You know relaygate and relaygate."
    assert rendered[1]["content"][0]["text"] == "why? (Ann, 1)"
    assert rendered[1]["content"][1]["image_url"] == {"url": "https://img/7.png", "detail": "low"}
    assert rendered[1]["content"][2] == PROMPT[1]["content"][2]
    assert rendered[2] == {"role": "assistant", "content": None}
    assert PROMPT[0]["content"] == "You know {{product}} and {{ product }}."


def test_a_value_is_text_never_a_template_again() -> None:
    messages = [{"role": "user", "content": "{{a}} {{b}}"}]
    assert render(messages, {"a": "{{b}}", "b": "\\1 $0"})[0]["content"] == "{{b}} \\1 $0"


def test_missing_variables_are_one_400_naming_all_of_them() -> None:
    with pytest.raises(MissingVariables) as raised:
        render(PROMPT, {"product": "p"})
    error = raised.value
    assert (error.status, error.param, error.code) == (400, "inputs", "missing_variables")
    assert error.names == ("question", "user.name", "x-y", "image_id")
    assert "'question', 'user.name', 'x-y', 'image_id'" in error.message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("s", "s"),
        (None, ""),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (2.5, "2.5"),
        ({"a": [1]}, '{"a":[1]}'),
    ],
)
def test_values_become_text(value: Any, text: str) -> None:
    assert as_text(value) == text
