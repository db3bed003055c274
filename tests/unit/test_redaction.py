"""``redact``: no part of 8+ characters of a secret, no bearer token, no key-like token survives."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from relaygate.security.redaction import REDACTED, redact, redact_bytes

KEY = "sk-up-SECRETUPSTREAM0123456789abcdef"


def parts(secret: str, size: int = 8) -> list[str]:
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def test_the_whole_key_goes() -> None:
    assert redact(f"Incorrect API key provided: {KEY}.", (KEY,)) == f"Incorrect API key provided: {REDACTED}."


def test_an_openai_style_partial_quote_goes() -> None:
    masked = KEY[:8] + "*" * 20 + KEY[-4:]
    text = redact(f"Incorrect API key provided: {masked}. You can find your API key at ...", (KEY,))
    assert text == f"Incorrect API key provided: {REDACTED}. You can find your API key at ..."


def test_any_part_of_eight_characters_goes_and_seven_stay() -> None:
    middle = KEY[10:18]
    assert redact(f"saw {middle} here", (KEY,)) == f"saw {REDACTED} here"
    assert redact(f"saw {KEY[10:17]} here", (KEY,)) == f"saw {KEY[10:17]} here"


def test_neighbouring_and_overlapping_parts_become_one_mark() -> None:
    text = redact(f"{KEY[2:14]}{KEY[9:20]} and {KEY[20:]}", (KEY,))
    assert text == f"{REDACTED} and {REDACTED}"


def test_a_bearer_token_goes_whatever_the_token() -> None:
    text = redact("header was 'Authorization: Bearer abc.def-123' and bearer\tXYZ", ())
    assert text == f"header was 'Authorization: Bearer {REDACTED}' and Bearer {REDACTED}"


def test_a_key_like_token_of_another_key_goes() -> None:
    assert redact("key sk-proj-abc*****wxyz rejected", ()) == f"key {REDACTED} rejected"
    assert redact("groq key gsk_0123456789abcdef is wrong", ()) == f"groq key {REDACTED} is wrong"


def test_ordinary_words_stay() -> None:
    text = "The model `gpt-test` does not exist; risk-assessment and task_manager are words."
    assert redact(text, (KEY,)) == text


def test_a_short_secret_goes_where_it_occurs_whole_and_a_tiny_one_is_ignored() -> None:
    assert redact("key abcde1 refused", ("abcde1",)) == f"key {REDACTED} refused"
    assert redact("a b c", ("a",)) == "a b c"


def test_redact_bytes_keeps_json_valid_and_other_bytes_as_they_were() -> None:
    body = orjson.dumps({"error": {"message": f"Clé refusée: Bearer {KEY} ✓", "code": "invalid_api_key"}})
    redacted = redact_bytes(body, (KEY,))
    message = orjson.loads(redacted)["error"]["message"]
    assert message == f"Clé refusée: Bearer {REDACTED} ✓"
    assert KEY[:8].encode() not in redacted


@given(
    key=st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=8, max_size=80
    ),
    start=st.integers(min_value=0, max_value=79),
    size=st.integers(min_value=8, max_value=80),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_no_part_of_eight_characters_survives(
    key: str, start: int, size: int, before: str, after: str
) -> None:
    quoted = key[start : start + size]
    text = redact(before + quoted + after, (key,))
    assert not any(part in text for part in parts(key)), text
