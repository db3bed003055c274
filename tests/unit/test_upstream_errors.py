"""An upstream's error as the client sees it: its OpenAI error, redacted, or one of ours."""

from __future__ import annotations

import orjson

from relaygate.router.upstream_answers import MAX_ERROR_BODY_BYTES, error_answer

KEY = "sk-test-0123456789abcdefghij"
JSON = b"application/json"


def _error(message: str) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": "invalid_request_error", "code": None}})


def test_an_openai_error_is_relayed_without_the_key() -> None:
    body, content_type = error_answer("p/m", 401, JSON, _error(f"Incorrect API key provided: {KEY}"), KEY)
    assert content_type == JSON
    message = orjson.loads(body)["error"]["message"]
    assert message.startswith("Incorrect API key provided:")
    assert KEY[:8] not in message
    assert KEY[-8:] not in message


def test_a_body_that_is_no_openai_error_is_replaced() -> None:
    body, content_type = error_answer("p/m", 502, b"text/plain", b"bad gateway", KEY)
    assert content_type == JSON
    assert orjson.loads(body)["error"]["code"] == "upstream_error"


def test_an_error_over_the_bound_is_replaced_unread() -> None:
    huge = _error("x" * MAX_ERROR_BODY_BYTES + KEY)
    body, _ = error_answer("p/m", 500, JSON, huge, KEY)
    error = orjson.loads(body)["error"]
    assert (error["type"], error["code"]) == ("api_error", "upstream_error")
    assert "HTTP 500" in error["message"]
    assert len(body) < 1024
    at_bound = _error("y" * (MAX_ERROR_BODY_BYTES - 200))
    assert len(at_bound) <= MAX_ERROR_BODY_BYTES
    assert error_answer("p/m", 500, JSON, at_bound, KEY)[0] == at_bound
