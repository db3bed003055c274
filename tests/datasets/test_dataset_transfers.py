"""Datapoints in and out of a dataset in bulk, over real sockets: CSV and JSONL imports
(multipart or raw, all lines or none), exports that import back as the same datapoints,
and datapoints made from recorded router calls."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from support.server import RelaygateServer, Workspace, make_server
from upstream import FakeUpstream

IMPORT_LIMIT = 64 * 1024

CSV = (
    "input.question,inputs.lang,messages,expected_output\n"
    'Refunds?,en,"[{""role"": ""user"", ""content"": ""Refunds?""}]",30 days.\n'
    '"Two\nlines",fr,,"Oui, ""deux"""\n'
)
FORMULAS = (  # spreadsheet formulas: an export must not let them run; a number is not one
    "input.question,inputs.lang,expected_output\n"
    "=1+2,@en,-5\n"
    """'=x,+1,"=HYPERLINK(""http://x"")"\n"""
)
JSONL = b"\n".join(
    orjson.dumps(datapoint)
    for datapoint in (
        {"inputs": {"question": "Refunds?", "n": 3, "tags": ["a"]}, "expected_output": "30 days."},
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]},
    )
)


@pytest.fixture(scope="module")
def logging_relaygate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelaygateServer]:
    """Body logging on (datapoints from traffic need it) and imports bounded at 64 KiB."""
    env = {"RELAYGATE_LOG_BODIES": "1", "RELAYGATE_MAX_IMPORT_BYTES": str(IMPORT_LIMIT)}
    server = make_server(tmp_path_factory.mktemp("datasets"), **env).start()
    try:
        yield server
    finally:
        server.stop()


def new_dataset(workspace: Workspace) -> str:
    return str(workspace.api("POST", "/v2/datasets", json={"display_name": "imports"}).json()["_id"])


def datapoints(workspace: Workspace, dataset_id: str) -> list[dict[str, Any]]:
    listed = workspace.api("GET", f"/v2/datasets/{dataset_id}/datapoints", params={"limit": 200}).json()
    fields = ("inputs", "messages", "expected_output")
    return [{key: item[key] for key in fields if key in item} for item in listed["data"]]


def test_a_csv_upload_and_a_raw_jsonl_body_import(workspace: Workspace) -> None:
    dataset_id = new_dataset(workspace)
    path = f"/v2/datasets/{dataset_id}/import"
    uploaded = workspace.api("POST", path, files={"file": ("questions.csv", CSV.encode(), "text/csv")})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json() == {"object": "dataset.import", "dataset_id": dataset_id, "format": "csv",
                               "dry_run": False, "imported": 2, "valid": 2}  # fmt: skip
    raw = workspace.api("POST", path, content=JSONL, headers={"content-type": "application/x-ndjson"})
    assert raw.json()["imported"] == 2
    assert datapoints(workspace, dataset_id) == [
        {"inputs": {"question": "Refunds?", "lang": "en"},
         "messages": [{"role": "user", "content": "Refunds?"}], "expected_output": "30 days."},
        {"inputs": {"question": "Two\nlines", "lang": "fr"}, "expected_output": 'Oui, "deux"'},
        *(orjson.loads(line) for line in JSONL.split(b"\n")),
    ]  # fmt: skip


def test_an_import_with_bad_lines_stores_nothing_and_names_each_line(workspace: Workspace) -> None:
    dataset_id = new_dataset(workspace)
    bad = (
        CSV
        + "fine,en,,ok\n"
        + "only,three,cells\n"
        + 'x,en,"[{""role"": ""robot"", ""content"": ""x""}]",y\n'
        + "x,en,not json,y\n"
    )
    response = workspace.api("POST", f"/v2/datasets/{dataset_id}/import?format=csv", content=bad.encode())
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"]["code"] == "invalid_import"
    assert body["message"].startswith("3 lines are not valid datapoints, so nothing was imported.")
    assert body["error_count"] == 3
    assert [(error["line"], error["message"]) for error in body["errors"]] == [
        (6, "Line 6 has 3 cells; the header names 4 columns."),
        (7, "Line 7: messages[0].role must be one of system, developer, user, assistant, tool, got 'robot'."),
        (8, "Line 8: messages must be a JSON array of chat messages (invalid literal, expected 'null')."),
    ]
    assert datapoints(workspace, dataset_id) == []
    header = workspace.api("POST", f"/v2/datasets/{dataset_id}/import?format=csv", content=b"question\nx\n")
    assert (
        "the columns are input.<name> (or inputs.<name>), messages, expected_output"
        in header.json()["message"]
    )


def test_a_dry_run_previews_without_storing(workspace: Workspace) -> None:
    dataset_id = new_dataset(workspace)
    response = workspace.api(
        "POST",
        f"/v2/datasets/{dataset_id}/import",
        params={"dry_run": "true"},
        files={"file": ("d.jsonl", JSONL)},
    )
    assert response.json()["valid"] == 2
    assert response.json()["preview"] == [orjson.loads(line) for line in JSONL.split(b"\n")]
    assert datapoints(workspace, dataset_id) == []


def test_an_import_must_say_its_format_and_stay_within_its_bound(logging_relaygate: RelaygateServer) -> None:
    workspace = logging_relaygate.new_workspace()
    dataset_id = new_dataset(workspace)
    path = f"/v2/datasets/{dataset_id}/import"
    unknown = workspace.api("POST", path, content=b"a,b\n", headers={"content-type": "text/plain"})
    assert unknown.status_code == 400
    assert "format=csv or format=jsonl" in unknown.json()["message"]
    line = b'{"expected_output": "' + b"x" * 1000 + b'"}\n'
    too_big = workspace.api("POST", path + "?format=jsonl", content=line * (IMPORT_LIMIT // len(line) + 1))
    assert too_big.status_code == 413
    assert "RELAYGATE_MAX_IMPORT_BYTES" in too_big.json()["message"]

    def chunked() -> Any:  # no Content-Length: the bound is counted as the file streams in
        for _ in range(IMPORT_LIMIT // len(line) + 1):
            yield line

    streamed = workspace.api("POST", path + "?format=jsonl", content=chunked())
    assert streamed.status_code == 413
    assert datapoints(workspace, dataset_id) == []


def test_an_import_may_be_larger_than_a_v2_body(workspace: Workspace) -> None:
    dataset_id = new_dataset(workspace)
    line = b'{"expected_output": "' + b"x" * 1000 + b'"}\n'
    lines = 1200  # 1.2 MB: past RELAYGATE_MAX_CONTROL_BODY_BYTES (1 MiB), within the import's 64 MiB
    response = workspace.api("POST", f"/v2/datasets/{dataset_id}/import?format=jsonl", content=line * lines)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == lines
    assert workspace.api("GET", f"/v2/datasets/{dataset_id}").json()["metadata"]["datapoints_count"] == lines


@pytest.mark.parametrize("file_format", ["jsonl", "csv"])
def test_an_export_imports_back_as_the_same_datapoints(workspace: Workspace, file_format: str) -> None:
    source = new_dataset(workspace)
    workspace.api("POST", f"/v2/datasets/{source}/import?format=csv", content=CSV.encode())
    workspace.api("POST", f"/v2/datasets/{source}/import?format=csv", content=FORMULAS.encode())
    workspace.api(
        "POST", f"/v2/datasets/{source}/import?format=jsonl", content=JSONL if file_format == "jsonl" else b""
    )
    exported = workspace.api("GET", f"/v2/datasets/{source}/export", params={"format": file_format})
    assert exported.status_code == 200
    assert exported.headers["content-disposition"] == f'attachment; filename="{source}.{file_format}"'
    copy = new_dataset(workspace)
    workspace.api("POST", f"/v2/datasets/{copy}/import?format={file_format}", content=exported.content)
    assert datapoints(workspace, copy) == datapoints(workspace, source)
    if file_format == "csv":  # formulas leave as text (a leading apostrophe) and come back unchanged
        assert "'=1+2,'@en,,-5\n" in exported.text
        questions = {point["inputs"]["question"] for point in datapoints(workspace, copy)}
        assert "=x" in questions  # the file said '=x: text, as a sheet reads it
        assert "'=HYPERLINK" in exported.text


def test_datapoints_from_traffic_need_body_logging(workspace: Workspace) -> None:
    dataset_id = new_dataset(workspace)
    response = workspace.api("POST", f"/v2/datasets/{dataset_id}/from-traffic", json={})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "body_logging_off"
    assert "RELAYGATE_LOG_BODIES=1" in response.json()["message"]


def _wait_for_events(workspace: Workspace, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(workspace.api("GET", "/v2/usage/events").json()["data"]) < count:
        assert time.monotonic() < deadline, "usage events were not stored"
        time.sleep(0.1)


def test_recorded_chat_calls_become_datapoints(
    logging_relaygate: RelaygateServer, upstream: FakeUpstream
) -> None:
    workspace = logging_relaygate.new_workspace()
    first = workspace.add_model(upstream, "gpt-test", provider="first")["router_id"]
    second = workspace.add_model(upstream, "gpt-test", provider="second")["router_id"]
    client = workspace.client()
    client.chat.completions.create(model=first, messages=[{"role": "user", "content": "Plain question"}])
    stream = client.chat.completions.create(
        model=first, messages=[{"role": "user", "content": "Streamed question"}], stream=True
    )
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    client.chat.completions.create(model=second, messages=[{"role": "user", "content": "Other model"}])
    _wait_for_events(workspace, 3)
    dataset_id = new_dataset(workspace)
    made = workspace.api(
        "POST", f"/v2/datasets/{dataset_id}/from-traffic", json={"model": first, "limit": 10}
    )
    assert made.status_code == 200, made.text
    body = made.json()
    assert (body["calls"], body["created"], body["skipped"]) == (2, 2, {})
    answer = "Hello from fake upstream"
    assert datapoints(workspace, dataset_id) == [  # newest first, as the calls are read
        {"messages": [{"role": "user", "content": "Streamed question"}], "expected_output": answer},
        {"messages": [{"role": "user", "content": "Plain question"}], "expected_output": answer},
    ]
    window = {"from": "2000-01-01T00:00:00Z", "to": "2000-01-02T00:00:00Z"}
    assert (
        workspace.api("POST", f"/v2/datasets/{dataset_id}/from-traffic", json=window).json()["created"] == 0
    )
    reversed_window = {"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"}
    refused = workspace.api("POST", f"/v2/datasets/{dataset_id}/from-traffic", json=reversed_window)
    assert (refused.status_code, refused.json()["error"]["param"]) == (400, "from")
