"""The multipart scanner on its own: wherever the chunks are cut, it finds the model field."""

from __future__ import annotations

import os

import pytest

from relaygate.errors import InvalidRequest
from relaygate.router.form_routing import is_routing_field
from relaygate.router.multipart import ModelFieldScan, UploadHead, boundary_of

BOUNDARY = b"----formboundary7MA4YWxk"


def _body(*parts: tuple[str, bytes, str | None]) -> bytes:
    body = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += (
            b"--" + BOUNDARY + f"\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
        )
    return body + b"--" + BOUNDARY + b"--\r\n"


def _scan(body: bytes, size: int) -> ModelFieldScan:
    scan = ModelFieldScan(BOUNDARY, is_routing_field)
    for start in range(0, len(body), size):
        if scan.complete:
            break
        scan.feed(body[start : start + size])
    if not scan.complete:
        scan.finish()
    return scan


@pytest.mark.parametrize("size", [1, 3, 17, 4096, 1 << 20])
def test_model_found_and_rewritten_at_any_chunk_size(size: int) -> None:
    image = os.urandom(5000) + b"\r\n--" + BOUNDARY[:-1]  # a near-boundary inside the file
    body = _body(("image", image, "a.png"), ("model", b"fake/image-test", None), ("stream", b"true", None))
    scan = _scan(body, size)
    assert scan.fields == {"model": "fake/image-test", "stream": "true"}
    head = UploadHead(scan)
    rest = body[head.read :]
    assert head.for_model("image-test") + rest == body.replace(b"fake/image-test", b"image-test")


@pytest.mark.parametrize("size", [1, 5, 64, 1 << 20])
def test_routing_fields_are_read_and_cut_out_at_any_chunk_size(size: int) -> None:
    """As the OpenAI SDK sends an upload's extra_body: every field before the file."""
    audio = os.urandom(3000)
    body = _body(
        ("model", b"fake/whisper-test", None),
        ("fallbacks[][model]", b"backup/whisper-test", None),
        ("language", b"en", None),
        ("retry[count]", b"2", None),
        ("file", audio, "a.wav"),
        ("temperature", b"0", None),
    )
    scan = _scan(body, size)
    assert scan.routing_fields == [("fallbacks[][model]", "backup/whisper-test"), ("retry[count]", "2")]
    head = UploadHead(scan)
    sent = head.for_model("whisper-1") + body[head.read :]
    assert head.length_for("whisper-1") == len(head.for_model("whisper-1"))
    expected = _body(
        ("model", b"whisper-1", None),
        ("language", b"en", None),
        ("file", audio, "a.wav"),
        ("temperature", b"0", None),
    )
    assert sent == expected


def test_stops_at_the_first_file_after_the_model() -> None:
    body = _body(("model", b"m", None), ("file", os.urandom(100_000), "a.wav"))
    scan = _scan(body, 1000)
    assert scan.complete
    assert len(scan.buffer) < 2000  # the file streams on; it is not held


def test_limits_and_malformed_bodies() -> None:
    with pytest.raises(InvalidRequest, match="no valid boundary"):
        boundary_of(b"multipart/form-data")
    with pytest.raises(InvalidRequest, match="multipart/form-data body"):
        boundary_of(b"application/json")
    assert boundary_of(b'multipart/form-data; boundary="a b"') == b"a b"
    with pytest.raises(InvalidRequest, match="longer than"):
        _scan(_body(("model", b"x" * 10_000, None)), 512)
    with pytest.raises(InvalidRequest, match="headers of a part"):
        _scan(b"--" + BOUNDARY + b"\r\n" + b"X" * 20_000, 1024)
    with pytest.raises(InvalidRequest, match="model parameter"):
        _scan(_body(("prompt", b"hi", None)), 64)
    many = _body(*[(f"f{i}", b"v", None) for i in range(100)], ("model", b"m", None))
    with pytest.raises(InvalidRequest, match="parts before the first file"):
        _scan(many, 4096)
