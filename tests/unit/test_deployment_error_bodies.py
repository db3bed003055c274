"""In-process tests of the SDK paths' error bodies: ``error.message`` copied to the top."""

from __future__ import annotations

import orjson
import pytest

from relaygate.errors import NotFound, with_top_level_message


def test_an_error_gets_its_message_at_the_top_too() -> None:
    body = NotFound("No deployment 'x'.").body_bytes()
    shaped = orjson.loads(with_top_level_message(body))
    assert shaped["message"] == "No deployment 'x'."
    assert shaped["error"] == orjson.loads(body)["error"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1]",
        b'{"detail": "x"}',
        b'{"error": "text"}',
        b'{"message": "own", "error": {"message": "x"}}',
    ],
)
def test_anything_else_is_left_as_it_is(body: bytes) -> None:
    assert with_top_level_message(body) is body
