"""The multipart scanner on its own: wherever the chunks are cut, it finds the model field."""

from __future__ import annotations

import os

import pytest

from relaygate.errors import InvalidRequest
from relaygate.router.multipart import ModelFieldScan, boundary_of, rewrite_model

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
    scan = ModelFieldScan(BOUNDARY)
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
    head, change = rewrite_model(scan, "image-test")
    rest = body[len(scan.buffer) :]
    assert head + rest == body.replace(b"fake/image-test", b"image-test")
    assert change == -5


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
    with pytest.raises(InvalidRequest, match="parts before the model"):
        _scan(many, 4096)
