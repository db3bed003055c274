"""Body logging: each router call's request and answer in its usage event, for the calls of
a workspace that logs bodies (its own choice, ``/v2/workspace/logging``; else the server's
default, ``RELAYGATE_LOG_BODIES=1``), each cut at ``RELAYGATE_LOG_BODY_BYTES``.

Off by default: prompts and answers are the end users' data, and storing them is the
operator's decision. relaygate's own keys and the upstream's travel in headers, never
here; what a client or a model put in a body that looks like a secret (``Bearer ...``,
``sk-...``-like tokens: ``security/redaction.py``) is redacted before it is kept. JSON
requests and answers, streams (the events as relayed) and relaygate's own error answers
are kept; uploads and binary answers (audio, files) are noted by size only. The control
plane's sweep (``control/log_retention.py``) blanks bodies older than the workspace's
retention; the usage numbers stay.
"""

from __future__ import annotations

from relaygate.security.redaction import redact


class BodyLog:
    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def text(self, data: bytes, total: int | None = None) -> str:
        """``data`` as text, cut at the limit, secrets redacted; ``total``: the whole size when
        ``data`` is a prefix."""
        size = len(data) if total is None else total
        if size <= self.limit and len(data) == size:
            return redact(data.decode("utf-8", "replace"))
        return redact(data[: self.limit].decode("utf-8", "ignore")) + f"\n[cut: {size} bytes in all]"

    @staticmethod
    def untold(kind: str, size: int | None) -> str:
        """What stands in for a body that is not text (an upload, audio)."""
        return f"[{kind}, {size} bytes: not logged]" if size is not None else f"[{kind}: not logged]"
