"""What the fake upstream remembers: recorded requests, scripted faults and live counters."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from .faults import FaultScripts


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it, recorded before any answer was sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    query: str = ""

    @classmethod
    def capture(
        cls, method: str, path: str, headers: Iterable[tuple[str, str]], body: bytes, query: str = ""
    ) -> RecordedRequest:
        merged: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return cls(method, path, merged, body, _parse_json(body), query)

    def form(self) -> dict[str, str]:
        """The simple (non-file) fields of a multipart body, e.g. `{"model": "whisper-test"}`."""
        fields, _ = parse_multipart(self.headers.get("content-type", ""), self.body)
        return fields

    def files(self) -> dict[str, bytes]:
        """The file fields of a multipart body, by field name."""
        _, files = parse_multipart(self.headers.get("content-type", ""), self.body)
        return files


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """Fields and files of a multipart/form-data body (stdlib email parser, no limits: tests only)."""
    if not content_type.lower().startswith("multipart/"):
        return {}, {}
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return {}, {}
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            files[name] = data
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


@dataclass
class UpstreamState:
    """Shared between the server thread (writes) and the test thread (reads); guarded by `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    recorded: list[RecordedRequest] = field(default_factory=list)
    scripts: FaultScripts = field(default_factory=FaultScripts)
    active_handlers: int = 0
    client_disconnects: int = 0
    aborts: int = 0
    serial: int = 0
    stopping: bool = False

    def record(self, request: RecordedRequest) -> int:
        """Stores `request` and returns the serial number its answer's ids are built from."""
        with self.lock:
            self.recorded.append(request)
            self.serial += 1
            return self.serial

    def snapshot(self) -> list[RecordedRequest]:
        with self.lock:
            return list(self.recorded)

    def count(self, counter: str, delta: int = 1) -> None:
        with self.lock:
            setattr(self, counter, getattr(self, counter) + delta)

    def reset(self) -> None:
        with self.lock:
            self.recorded.clear()
            self.client_disconnects = 0
            self.aborts = 0
        self.scripts.clear()
