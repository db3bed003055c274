"""Body logging: each router call's request and answer in its usage event, only when the
operator turns it on (``RELAYGATE_LOG_BODIES=1``), each cut at ``RELAYGATE_LOG_BODY_BYTES``.

Off by default: prompts and answers are the end users' data, and storing them is the
operator's decision. Bodies hold no relaygate secret: keys (ours and the upstream's)
travel in headers, and an upstream error page that quotes the upstream key is masked
before it reaches the client, and so before it reaches this log. JSON requests and
answers, streams (the events as relayed) and relaygate's own error answers are kept;
uploads and binary answers (audio, files) are noted by size only.
"""

from __future__ import annotations


class BodyLog:
    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def text(self, data: bytes, total: int | None = None) -> str:
        """``data`` as text, cut at the limit; ``total``: the whole size when ``data`` is a prefix."""
        size = len(data) if total is None else total
        if size <= self.limit and len(data) == size:
            return data.decode("utf-8", "replace")
        return data[: self.limit].decode("utf-8", "ignore") + f"\n[cut: {size} bytes in all]"

    @staticmethod
    def untold(kind: str, size: int | None) -> str:
        """What stands in for a body that is not text (an upload, audio)."""
        return f"[{kind}, {size} bytes: not logged]" if size is not None else f"[{kind}: not logged]"
