"""The upload scanner over a real ASGI receive callable, the body cut into chunks anywhere."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest

from relaygate.errors import InvalidRequest, PayloadTooLarge, RelaygateError
from relaygate.router.asgi import ClientGone
from relaygate.router.form_routing import is_routing_field
from relaygate.router.multipart import (
    MAX_FIELD_VALUE,
    MAX_PART_HEADERS,
    MAX_PARTS_SCANNED,
    Upload,
    UploadHead,
    scan_upload,
)
from relaygate.types import Message, Receive

BOUNDARY = "----relaygate-test-7MA4YWxkTrZu0gW"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}".encode()
LIMIT = 1 << 20
AUDIO = bytes(range(256)) * 4  # a "file" holding CR, LF and dashes


def field(name: str, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data + b"\r\n"


def file_part(name: str = "file", data: bytes = AUDIO) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    )
    return head.encode() + data + b"\r\n"


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[at : at + size] for at in range(0, len(data), size)] or [b""]


def receiver(chunks: Iterable[bytes], *, disconnect: bool = False) -> Receive:
    """An ASGI receive callable that hands out ``chunks`` as http.request messages."""
    messages: list[Message] = []
    pending = list(chunks)
    for index, chunk in enumerate(pending):
        more = disconnect or index < len(pending) - 1
        messages.append({"type": "http.request", "body": chunk, "more_body": more})
    if disconnect:
        messages.append({"type": "http.disconnect"})
    queue = iter(messages)

    async def receive() -> Message:
        return next(queue)

    return receive


def scan(
    chunks: Iterable[bytes], *, content_type: bytes | None = CONTENT_TYPE, limit: int = LIMIT
) -> tuple[UploadHead, int, bool]:
    found, received, more = asyncio.run(
        scan_upload(receiver(chunks), content_type, None, limit, is_routing_field)
    )
    return UploadHead(found), received, more


def refusal(
    chunks: Iterable[bytes], *, content_type: bytes | None = CONTENT_TYPE, limit: int = LIMIT
) -> RelaygateError:
    with pytest.raises(RelaygateError) as caught:
        scan(chunks, content_type=content_type, limit=limit)
    return caught.value


UPLOAD = body(
    field("model", "fake/whisper"),
    field("fallbacks", '[{"model": "other/whisper"}]'),
    field("stream", "true"),
    file_part(),
    field("language", "en"),
)
FORWARDED = body(field("model", "whisper-1"), field("stream", "true"), file_part(), field("language", "en"))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 1000, len(UPLOAD)])
def test_chunks_of_any_size_give_the_same_head_and_stop_at_the_file(size: int) -> None:
    head, received, more = scan(chunked(UPLOAD, size))
    assert head.for_model("whisper-1") + UPLOAD[received:] == FORWARDED
    assert head.length_for("whisper-1") == len(head.for_model("whisper-1"))
    assert received < UPLOAD.index(AUDIO) + size  # the file itself was not read
    assert more == (received < len(UPLOAD))


def test_every_split_in_two_finds_the_model_and_the_routing_fields() -> None:
    for at in range(len(UPLOAD) + 1):
        found, received, _ = asyncio.run(
            scan_upload(receiver([UPLOAD[:at], UPLOAD[at:]]), CONTENT_TYPE, None, LIMIT, is_routing_field)
        )
        assert found.fields == {"model": "fake/whisper", "stream": "true"}, at
        assert found.routing_fields == [("fallbacks", '[{"model": "other/whisper"}]')], at
        assert UploadHead(found).for_model("whisper-1") + UPLOAD[received:] == FORWARDED, at


def test_a_form_without_files_is_read_to_its_closing_boundary() -> None:
    data = body(field("model", "fake/embed"), field("input", "hello"))
    head, received, _ = scan(chunked(data, 7))
    assert received >= data.rindex(b"--\r\n")
    assert head.for_model("embed-1") + data[received:] == body(
        field("model", "embed-1"), field("input", "hello")
    )


def test_a_quoted_boundary_and_a_preamble_are_accepted() -> None:
    data = b"preamble to ignore\r\n" + body(field("model", "fake/whisper"), file_part())
    head, _, _ = scan([data], content_type=f'multipart/form-data; boundary="{BOUNDARY}"'.encode())
    assert b'name="model"\r\n\r\nwhisper-1\r\n' in head.for_model("whisper-1")


def test_a_missing_model_is_a_400_naming_the_model_parameter() -> None:
    for data in (body(field("language", "en"), file_part()), field("language", "en")):
        error = refusal(chunked(data, 16))
        assert isinstance(error, InvalidRequest)
        assert error.param == "model"


@pytest.mark.parametrize(
    ("content_type", "code"),
    [
        (b"application/json", "invalid_content_type"),
        (None, "invalid_content_type"),
        (b"multipart/form-data", "invalid_multipart"),
        (b"multipart/form-data; boundary=", "invalid_multipart"),
    ],
)
def test_a_body_that_is_not_a_multipart_form_is_a_400(content_type: bytes | None, code: str) -> None:
    error = refusal([UPLOAD], content_type=content_type)
    assert (error.status, error.code) == (400, code)


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    async def receive() -> Message:
        raise AssertionError("the body was read")

    with pytest.raises(PayloadTooLarge) as caught:
        asyncio.run(scan_upload(receive, CONTENT_TYPE, 101, 100, is_routing_field))
    assert (caught.value.status, caught.value.code) == (413, "upload_too_large")


def test_a_body_growing_over_the_limit_is_a_413_while_reading() -> None:
    data = body(field("note", "x" * 200), field("model", "fake/whisper"), file_part())
    error = refusal(chunked(data, 50), limit=150)
    assert (error.status, error.code) == (413, "upload_too_large")


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (body(field("model", "m" * (2 * MAX_FIELD_VALUE)), file_part()), "longer than"),
        (body(field("model", b"\xff\xfe")), "not UTF-8"),
        (b"x" * (MAX_PART_HEADERS + 1), "no boundary"),
        (
            f"--{BOUNDARY}\r\nX-Filler: {'a' * 2 * MAX_PART_HEADERS}\r\n\r\nvalue\r\n".encode(),
            "headers of a part",
        ),
        (
            body(*[field(f"f{index}", "v") for index in range(MAX_PARTS_SCANNED + 1)]),
            f"more than {MAX_PARTS_SCANNED} parts",
        ),
        (f"--{BOUNDARY}junk\r\n".encode(), "unexpected bytes after a boundary"),
        (f"--{BOUNDARY} {'x' * 200}".encode(), "boundary line does not end"),
    ],
)
def test_every_bound_of_the_scan_is_a_400(data: bytes, detail: str) -> None:
    error = refusal(chunked(data, 512))
    assert (error.status, error.code) == (400, "invalid_multipart")
    assert detail in error.message


@pytest.mark.parametrize("chunk", [1, 7, 512])
def test_a_model_field_of_exactly_the_bound_is_read_in_any_chunks(chunk: int) -> None:
    model = "m" * MAX_FIELD_VALUE  # the next delimiter's first bytes arrive before it ends
    data = body(field("model", model), file_part())
    found, _, _ = asyncio.run(
        scan_upload(receiver(chunked(data, chunk)), CONTENT_TYPE, None, LIMIT, is_routing_field)
    )
    assert found.fields["model"] == model


@pytest.mark.parametrize("chunk", [1, 512, 1 << 20])
def test_one_byte_over_the_bound_is_refused_in_any_chunks(chunk: int) -> None:
    data = body(field("model", "m" * (MAX_FIELD_VALUE + 1)), file_part())
    assert "longer than" in refusal(chunked(data, chunk)).message


def test_a_client_that_hangs_up_mid_body_is_noticed() -> None:
    with pytest.raises(ClientGone):
        asyncio.run(
            scan_upload(receiver([UPLOAD[:40]], disconnect=True), CONTENT_TYPE, None, LIMIT, is_routing_field)
        )


async def upload_after_scan(chunks: list[bytes]) -> Upload:
    """The scan over one receive callable, then the Upload that reads the rest from it."""
    receive = receiver(chunks)
    found, received, more = await scan_upload(receive, CONTENT_TYPE, None, LIMIT, is_routing_field)
    return Upload(
        receive,
        UploadHead(found),
        more=more,
        received=received,
        limit=LIMIT,
        declared=len(UPLOAD),
        content_type=CONTENT_TYPE.decode(),
    )


async def sent(upload: Upload, model: str) -> bytes:
    return b"".join([chunk async for chunk in upload.chunks(model)])


def test_the_rest_streams_through_once_with_the_rewritten_length() -> None:
    async def stream_twice() -> None:
        upload = await upload_after_scan(chunked(UPLOAD, 100))
        assert dict(upload.headers("whisper-1"))["content-length"] == str(len(FORWARDED))
        assert await sent(upload, "whisper-1") == FORWARDED
        assert upload.finished.is_set()
        assert not upload.replayable
        with pytest.raises(RuntimeError, match="read_whole"):
            await sent(upload, "whisper-1")

    asyncio.run(stream_twice())


def test_a_body_read_whole_is_sent_again_for_each_attempt() -> None:
    async def two_attempts() -> None:
        upload = await upload_after_scan(chunked(UPLOAD, 100))
        await upload.read_whole()
        assert upload.replayable
        assert await sent(upload, "whisper-1") == FORWARDED
        second = await sent(upload, "whisper-2")
        assert second == FORWARDED.replace(b"whisper-1", b"whisper-2")
        assert dict(upload.headers("whisper-2"))["content-length"] == str(len(second))

    asyncio.run(two_attempts())
