"""The SQLite usage writer: a child process that stores the batches its parent sends.

Stored from a thread of the router's own process, a batch of usage events cost the router
about 16 us of CPU per event, twice the work itself: every row built in Python and every
statement bound needed the GIL back from the busy event loop, and the hand-overs stalled
both. In a process of its own the writer has its own GIL; the router only pickles the
events' values (about 1 us each) and writes them to a pipe.

Protocol, on the child's stdin and stdout: frames of a 4-byte big-endian length and a
body. The parent sends a batch as one frame holding several pickles, each a list of at
most ``recorder.SLICE`` queued events (``usage/recorder.py``: ``Queued``, column values and
identity profile); the child regroups the slices by ``STATEMENT_ROWS``, turns each group
into rows and stores it, all groups in one transaction, and answers with an empty frame,
or with the error's text when it could not (the parent keeps the batch and retries).
Events are inserted with ``OR IGNORE``: a batch sent again after the child died between
its commit and its answer is stored once.
With ``--idle`` the child runs at the kernel's idle priority (``run_in_background``).
The child imports only ``sqlite3``, ``pickle``, ``orjson`` and our modules that import
nothing heavy (``usage_rows.py``): SQLAlchemy alone took its RSS from 16 MB to 46.
The child ignores SIGINT and SIGTERM, so a Ctrl-C or a stop signal sent to the whole
process group cannot cut it off before the parent's last batch; it exits when its stdin
closes, which also happens when the parent dies.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import signal
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import TYPE_CHECKING, BinaryIO

from relaygate.store.usage_rows import (
    identity_rows,
    insert_events_sql,
    sqlite_event_columns,
    upsert_identities_sql,
)

if TYPE_CHECKING:
    from relaygate.usage.recorder import Queued

# The writer decodes, converts and inserts ``STATEMENT_ROWS`` events of a batch at a
# time (about a third of a millisecond of work, in one INSERT statement) and then yields
# its core: a router thread (or the client, or the upstream) woken on the writer's core
# otherwise waits for the end of its time slice. Whole batches of 500 in one go (a few
# milliseconds of unpickling and converting before the first insert) took the router's
# p99 at concurrency 1 to 2.8 ms, 2.1 in groups, against 1.0 without recording (bench).
# One statement of many rows costs less than executemany's per-row calls (statements of
# the recorder's 10-event slices cost the writer a quarter more), and a fixed size keeps
# it in sqlite3's statement cache.
STATEMENT_ROWS = 50
_yield_core = getattr(os, "sched_yield", lambda: None)
_PRAGMAS = ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON", "synchronous=NORMAL")


def _null(value: None) -> None:
    return None


def _register_adapters() -> None:
    """sqlite3 binds exact ints, floats and strings directly, but looks for an adapter for any
    other value (an attribute lookup or two that fail) before binding it: with a dozen NULLs
    and four booleans per usage row that was a fifth of the writer's CPU. An adapter found
    in its table ends the search at once. This process stores usage rows only."""
    sqlite3.register_adapter(type(None), _null)
    sqlite3.register_adapter(bool, int)


def read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(4)
    if len(header) < 4:
        return None
    size = int.from_bytes(header, "big")
    body = stream.read(size)
    return body if len(body) == size else None


def frame(body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + body


class SqliteUsageStore:
    def __init__(self, path: str) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None)
        for pragma in _PRAGMAS:
            self._connection.execute(f"PRAGMA {pragma}")
        self._inserts: dict[tuple[str, ...], tuple[str, str]] = {}
        self._upsert = upsert_identities_sql("qmark")

    def _insert(self, columns: tuple[str, ...]) -> tuple[str, str]:
        """The INSERTs of one row and of a statement's worth of rows, for these columns."""
        found = self._inserts.get(columns)
        if found is None:
            one, many = (
                insert_events_sql("qmark", columns, rows).replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)
                for rows in (1, STATEMENT_ROWS)
            )
            found = self._inserts[columns] = (one, many)
        return found

    def write(self, slices: Iterable[list[Queued]]) -> None:
        """Stores the slices of one batch in one transaction: all of them or none."""
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
            for group in regrouped(slices, STATEMENT_ROWS):
                self._insert_group(group)
                _yield_core()
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def _insert_group(self, batch: list[Queued]) -> None:
        """One group of ``regrouped``: a full statement's worth of rows, or the batch's last,
        shorter group row by row."""
        connection = self._connection
        columns, rows = sqlite_event_columns(batch)
        insert_one, insert_many = self._insert(columns)
        if len(rows) == STATEMENT_ROWS:
            connection.execute(insert_many, list(chain.from_iterable(rows)))
        else:
            connection.executemany(insert_one, rows)
        identities = identity_rows(batch, "sqlite")
        if identities:
            connection.executemany(self._upsert, identities)

    def close(self) -> None:
        self._connection.close()


def regrouped(slices: Iterable[list[Queued]], size: int) -> Iterator[list[Queued]]:
    """The events of the slices again, in lists of ``size`` (the last one shorter)."""
    group: list[Queued] = []
    for part in slices:
        group.extend(part)
        while len(group) >= size:
            yield group[:size]
            del group[:size]
    if group:
        yield group


def pickled(part: list[Queued]) -> bytes:
    """One slice of a batch as the parent sends it (a frame's body is its slices' pickles)."""
    return pickle.dumps(part, protocol=5)


def unpickled(body: bytes) -> Iterator[list[Queued]]:
    """The slices of a batch, decoded one at a time as the writer gets to them."""
    stream = io.BytesIO(body)
    while stream.tell() < len(body):
        yield pickle.load(stream)  # noqa: S301 (our parent, over our own pipe)


def serve(path: str, requests: BinaryIO, answers: BinaryIO) -> None:
    _register_adapters()
    store = SqliteUsageStore(path)
    try:
        while (body := read_frame(requests)) is not None:
            try:
                store.write(unpickled(body))
                answer = b""
            except Exception as exc:
                answer = f"{type(exc).__name__}: {exc}".encode()
            answers.write(frame(answer))
            answers.flush()
    finally:
        store.close()


def run_in_background() -> None:
    """Asks the kernel to run this process only on a core nothing else wants (``SCHED_IDLE``):
    a router call woken on the writer's core then takes it at once instead of waiting for
    the writer's time slice. The writer's own CPU shared the cores with the request path:
    at c=1, p99 0.92 ms at normal priority, 0.78 at idle priority, 0.69 with a writer that
    stored nothing and 0.63 without recording (bench, ten alternating rounds, in every
    round in that order). An idle process gets almost no CPU on a saturated machine; the
    parent notices and starts a writer at normal priority (``usage_writers.py``). Nothing where
    the platform has no such policy."""
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    arguments = sys.argv[1:]
    background = arguments[:1] == ["--idle"]
    if background:
        arguments = arguments[1:]
    if len(arguments) != 1:
        print("usage: python -m relaygate.store.sqlite_usage_writer [--idle] DATABASE_PATH", file=sys.stderr)
        return 2
    if background:
        run_in_background()
    serve(arguments[0], sys.stdin.buffer, sys.stdout.buffer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
