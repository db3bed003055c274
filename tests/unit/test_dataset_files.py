"""In-process tests of reading and writing dataset files: lines as they arrive in chunks,
CSV records and columns, the importer's per-line report, multipart uploads, and
datapoints made from logged router calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson
import pytest

from relaygate.datasets import csv_format
from relaygate.datasets.importer import Format, ImportResult, bounded, read_file
from relaygate.datasets.lines import Line, csv_records, numbered_lines
from relaygate.datasets.traffic import Skipped, answer_text, datapoint_of_call
from relaygate.datasets.upload import MultipartFile, boundary_of
from relaygate.errors import InvalidRequest, PayloadTooLarge


async def _chunks(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def _all(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


def lines_of(data: bytes, size: int = 3, max_line: int = 1024) -> list[Line]:
    return asyncio.run(_all(numbered_lines(_chunks(_split(data, size)), max_line)))


def records_of(text: str) -> list[Line]:
    return asyncio.run(_all(csv_records(numbered_lines(_chunks(_split(text.encode(), 4))))))


def imported(data: bytes, file_format: Format, size: int = 7) -> tuple[list[dict[str, Any]], ImportResult]:
    result = asyncio.run(read_file(_chunks(_split(data, size)), file_format))
    try:
        datapoints = [item for batch in result.spool.batches(2) for item in batch]
    finally:
        result.spool.close()
    return datapoints, result


@pytest.mark.parametrize("size", [1, 2, 5, 100])
def test_lines_are_numbered_whatever_the_chunks(size: int) -> None:
    data = "\ufeffone\r\ntwo\n\nfour".encode()
    assert lines_of(data, size) == [Line(1, "one"), Line(2, "two"), Line(3, ""), Line(4, "four")]


def test_a_line_that_is_too_long_or_not_utf8_is_reported_on_its_number() -> None:
    data = b"ok\n" + b"x" * 50 + b"\nbad \xff byte\nlast\n"
    found = lines_of(data, size=4, max_line=20)
    assert found[0] == Line(1, "ok")
    assert (found[1].number, found[2].number) == (2, 3)
    assert "longer than 20 bytes" in (found[1].problem or "")
    assert "not UTF-8" in (found[2].problem or "")
    assert found[3] == Line(4, "last")


def test_a_quoted_csv_field_may_span_lines() -> None:
    text = 'h1,h2\n"a\nb",c\n\nd,"e ""quoted"""\n"never closed\n'
    records = records_of(text)
    assert [(r.number, r.text) for r in records[:3]] == [
        (1, "h1,h2"),
        (2, '"a\nb",c'),
        (5, 'd,"e ""quoted"""'),
    ]
    assert records[3].number == 6
    assert "never closed" in (records[3].problem or "")
    assert csv_format.parse_record(records[1].text) == ["a\nb", "c"]


def test_csv_columns_say_what_they_accept() -> None:
    columns = csv_format.CsvColumns.from_header(["input.q", "inputs.lang", "messages", "expected_output"])
    row = columns.datapoint(["hi", "", '[{"role":"user","content":"hi"}]', "hello"])
    assert row == {
        "inputs": {"q": "hi"},
        "messages": [{"role": "user", "content": "hi"}],
        "expected_output": "hello",
    }
    with pytest.raises(csv_format.BadHeader, match=r"unknown column 'answer'; the columns are input\.<name>"):
        csv_format.CsvColumns.from_header(["input.q", "answer"])
    with pytest.raises(csv_format.BadHeader, match="twice"):
        csv_format.CsvColumns.from_header(["input.q", "inputs.q"])


def test_an_import_reports_every_bad_line_by_number_and_keeps_nothing_of_them() -> None:
    data = (
        b"input.q,expected_output,messages\n"
        b"fine,yes,\n"
        b"two,cells\n"
        b",,\n"
        b'x,y,"[{""role"":""user""}]"\n'
        b"\n"
        b"also fine,,\n"
    )
    datapoints, result = imported(data, "csv")
    assert result.error_count == 3
    assert [(error.line, error.message) for error in result.errors] == [
        (3, "Line 3 has 2 cells; the header names 3 columns."),
        (4, "Line 4 has no value in any column."),
        (5, "Line 5: messages[0].content must be a string or a list of content parts, got null."),
    ]
    assert datapoints == [{"inputs": {"q": "fine"}, "expected_output": "yes"}, {"inputs": {"q": "also fine"}}]


def test_a_bad_header_stops_the_csv_import_at_once() -> None:
    _, result = imported(b"question,answer\na,b\n", "csv")
    assert [error.line for error in result.errors] == [1]
    assert "The header (line 1) has the unknown column 'question'" in result.errors[0].message
    _, empty = imported(b"", "csv")
    assert "The file is empty" in empty.errors[0].message


def test_jsonl_lines_are_datapoints() -> None:
    data = b"\n".join(
        [
            b'{"inputs": {"q": "a"}}',
            b"",
            b"[1]",
            b'{"expected_output": 3}',
            b"not json",
            b'{"messages": [{"role": "user", "content": "b"}]}',
        ]
    )
    datapoints, result = imported(data, "jsonl", size=5)
    assert [(error.line, error.message) for error in result.errors] == [
        (3, "Line 3 is not a JSON object (one datapoint per line)."),
        (4, "Line 4: expected_output must be a string, got a number."),
        (5, "Line 5 is not JSON (invalid literal, expected 'null')."),
    ]
    assert datapoints == [{"inputs": {"q": "a"}}, {"messages": [{"role": "user", "content": "b"}]}]


def test_a_file_past_its_bound_is_a_413() -> None:
    async def read() -> None:
        async for _ in bounded(_chunks([b"12345", b"67890"]), 8, "RELAYGATE_MAX_IMPORT_BYTES"):
            pass

    with pytest.raises(PayloadTooLarge, match="larger than 8 bytes \\(RELAYGATE_MAX_IMPORT_BYTES\\)"):
        asyncio.run(read())


def test_export_lines_read_back_as_the_same_datapoints() -> None:
    datapoints: list[dict[str, Any]] = [
        {"inputs": {"q": 'multi\nline, with "quotes"', "n": 3}, "expected_output": "a"},
        {"messages": [{"role": "user", "content": "hi"}]},
    ]
    names = csv_format.input_names(datapoints)
    text = csv_format.header_line(names) + "".join(csv_format.datapoint_line(d, names) for d in datapoints)
    back, result = imported(text.encode(), "csv", size=3)
    assert result.error_count == 0
    assert back == [
        {"inputs": {"q": 'multi\nline, with "quotes"', "n": "3"}, "expected_output": "a"},  # CSV has no types
        {"messages": [{"role": "user", "content": "hi"}]},
    ]


def _multipart(boundary: str, parts: list[tuple[str, str | None, bytes]]) -> bytes:
    body = b"preamble\r\n"
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_the_file_of_a_multipart_upload_streams_out(size: int) -> None:
    content = b"input.q\r\n--not-the-boundary\nline\n"
    body = _multipart("XyZ", [("format", None, b"csv"), ("file", "data.csv", content)])

    async def read() -> tuple[MultipartFile, bytes]:
        upload = MultipartFile(_chunks(_split(body, size)), boundary_of("multipart/form-data; boundary=XyZ"))
        await upload.open()
        return upload, b"".join(await _all(upload.content()))

    upload, file = asyncio.run(read())
    assert (upload.fields, upload.filename, file) == ({"format": "csv"}, "data.csv", content)


def test_a_multipart_upload_without_a_file_is_a_400() -> None:
    body = _multipart("b", [("format", None, b"csv")])

    async def read() -> None:
        await MultipartFile(_chunks([body]), b"b").open()

    with pytest.raises(InvalidRequest, match="no file part"):
        asyncio.run(read())
    with pytest.raises(InvalidRequest, match="no valid boundary"):
        boundary_of("multipart/form-data")


CHAT = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "Why?"}]}).decode()


def test_a_logged_call_becomes_its_messages_and_its_answer() -> None:
    answer = orjson.dumps(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Because."}}]}
    )
    assert datapoint_of_call(CHAT, answer.decode()) == {
        "messages": [{"role": "user", "content": "Why?"}],
        "expected_output": "Because.",
    }
    events = [{"choices": [{"index": 0, "delta": {"content": piece}}]} for piece in ("Be", "cause.")]
    stream = "".join(f"data: {orjson.dumps(event).decode()}\n\n" for event in events) + "data: [DONE]\n\n"
    assert answer_text(stream) == "Because."
    assert datapoint_of_call(CHAT, None) == {"messages": [{"role": "user", "content": "Why?"}]}


@pytest.mark.parametrize(
    ("request_body", "reason"),
    [
        (None, "body_not_logged"),
        (CHAT[:20] + "\n[cut: 900 bytes in all]", "body_cut"),
        ("{not json", "not_json"),
        ('{"input": "responses-style"}', "not_chat"),
        ('{"messages": [{"role": "function", "content": "x"}]}', "messages_not_supported"),
    ],
)
def test_a_call_that_cannot_be_a_datapoint_is_skipped_with_its_reason(
    request_body: str | None, reason: str
) -> None:
    with pytest.raises(Skipped) as skipped:
        datapoint_of_call(request_body, None)
    assert skipped.value.reason == reason


def test_a_long_line_in_one_chunk_is_reported_too() -> None:
    found = lines_of(b"short\n" + b"y" * 30 + b"\nend", size=4096, max_line=20)
    assert [(line.number, line.text, line.problem) for line in found] == [
        (1, "short", None),
        (2, "", "is longer than 20 bytes."),
        (3, "end", None),
    ]


def test_a_bad_line_inside_a_csv_record_breaks_that_record_only() -> None:
    records = asyncio.run(_all(csv_records(numbered_lines(_chunks([b'a,"open\n\xff\nb,c\n\xfe\n'])))))
    assert [(record.number, record.problem) for record in records] == [
        (1, "starts a record whose line 2 is not UTF-8 text (byte 1 of the line)."),
        (3, None),
        (4, "is not UTF-8 text (byte 1 of the line)."),
    ]
    long = asyncio.run(_all(csv_records(numbered_lines(_chunks([b'"a\n' + b"b\n" * 10])), max_record=8)))
    assert long[0].problem == "starts a record longer than 8 characters."


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"--b\r\nContent-Type: text/csv\r\n\r\nx\r\n--b--", "no Content-Disposition"),
        (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nx',
            "ends inside the file",
        ),
        (b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n--bXX', "neither CRLF nor '--'"),
        (b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n--b', "ends inside a delimiter"),
        (
            b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\n' + b"v" * 300 + b"\r\n--b--",
            "longer than 256",
        ),
        (b"--b\r\nContent-Disposition: " + b"x" * 9000, "longer than 8192 bytes"),
        (b"no boundary here at all", "ends inside the preamble"),
    ],
)
def test_a_malformed_multipart_body_is_a_400_saying_what_is_wrong(body: bytes, says: str) -> None:
    async def read() -> None:
        upload = MultipartFile(_chunks(_split(body, 5)), b"b")
        await upload.open()
        await _all(upload.content())

    with pytest.raises(InvalidRequest, match=says):
        asyncio.run(read())


def test_an_answer_of_content_parts_or_without_choices_reads_as_its_text() -> None:
    parts = {
        "choices": [{"index": 0, "message": {"content": [{"type": "text", "text": "A"}, {"type": "x"}]}}]
    }
    assert answer_text(orjson.dumps(parts).decode()) == "A"
    assert answer_text('{"error": {"message": "no"}}') == ""
    with pytest.raises(Skipped, match="body_cut"):
        answer_text('{"choices": [\n[cut: 99999 bytes in all]')
    with pytest.raises(Skipped, match="not_json"):
        answer_text("{oops")
