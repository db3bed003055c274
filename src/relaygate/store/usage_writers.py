"""Where the usage recorder's batches go: one ``BatchWriter`` (``usage/recorder.py``) per
kind of store.

SQLite batches go to a writer process of their own (``sqlite_usage_writer.py``: why, and its
protocol); PostgreSQL batches go through the engine's asyncpg connection, one
``executemany`` per table. Either way a batch is one transaction: all of it is stored,
or none of it and the recorder retries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterable
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store.sqlite_usage_writer import frame, pickled
from relaygate.store.usage_rows import event_rows, identity_rows, insert_events_sql, upsert_identities_sql

if TYPE_CHECKING:
    from relaygate.usage.recorder import BatchWriter, Queued

# The share of the time the writer may spend answering at idle priority before it is
# deemed short of CPU (it needs about 3 % of a core at 2,400 events per second), and below
# which the idle one is trusted again.
_BUSY_LIMIT = 0.5
_QUIET_LIMIT = 0.1

log = logging.getLogger("relaygate.usage")


class UsageStoreError(Exception):
    """The store refused or could not take a batch; the recorder keeps it and retries."""


def batch_writer(engine: AsyncEngine) -> BatchWriter:
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            raise ValueError("usage events need a SQLite file, not an in-memory database")
        return SqliteProcessWriter(database)
    return EngineBatchWriter(engine)


class SqliteProcessWriter:
    """The parent's end: starts the writer process when first needed (and again after it
    died), sends one batch at a time and waits for its answer.

    The batches go to a process at idle priority (``sqlite_usage_writer.run_in_background``)
    while it keeps up. When answering took more than half of the time over a
    ``busy_window`` (a saturated machine leaves an idle process almost no CPU, and the
    queue would grow), they go to a second process at normal priority instead, until a
    window where answering took less than a tenth. Both processes live on once started
    (a start costs 0.3 s of CPU; an unprivileged process cannot raise its own priority),
    and a batch is only ever with one of them."""

    def __init__(
        self, path: str, *, answer_timeout: float = 60.0, busy_window: float = 1.0, background: bool = True
    ) -> None:
        self._path = path
        self._may_idle = background
        self._background = background  # which of the two processes takes the next batch
        self._busy_window = busy_window
        self._window_start = time.monotonic()
        self._busy = 0.0
        # SQLite waits up to 10 s for a lock (busy_timeout); past this the writer is stuck
        # (a stalled disk): it is killed and the batch kept for the next try.
        self._answer_timeout = answer_timeout
        self._processes: dict[bool, asyncio.subprocess.Process] = {}  # by background or not
        self._starting: set[asyncio.subprocess.Process] = set()  # started, not answered yet
        self._lock = asyncio.Lock()

    async def write(self, batch: AsyncIterable[list[Queued]]) -> None:
        body = b"".join([pickled(part) async for part in batch])
        async with self._lock:
            try:
                try:
                    answer = await self._exchange(body)
                except (ConnectionError, asyncio.IncompleteReadError):
                    # The process had died since the last batch: one more try with a new one.
                    answer = await self._exchange(body)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                raise UsageStoreError(f"the usage writer process stopped ({exc})") from None
            except TimeoutError:
                raise UsageStoreError(
                    f"the usage writer process did not answer within {self._answer_timeout:g} s"
                ) from None
            self._choose()
        if answer:
            raise UsageStoreError(answer.decode(errors="replace"))

    def _choose(self) -> None:
        """At the end of a window, picks the process for the next batches."""
        now = time.monotonic()
        elapsed = now - self._window_start
        if elapsed < self._busy_window:
            return
        share, self._busy, self._window_start = self._busy / elapsed, 0.0, now
        if self._background and share > _BUSY_LIMIT:
            self._background = False
            log.info(
                "usage writer busy %.0f %% of %.1f s at idle priority: normal priority", share * 100, elapsed
            )
        elif self._may_idle and not self._background and share < _QUIET_LIMIT:
            self._background = True
            log.info("usage writer busy %.0f %% of %.1f s: back to idle priority", share * 100, elapsed)

    async def _exchange(self, body: bytes) -> bytes:
        async with asyncio.timeout(self._answer_timeout):
            return await self._send(body)

    async def _send(self, body: bytes) -> bytes:
        process = await self._started()
        stdin, stdout = process.stdin, process.stdout
        if stdin is None or stdout is None:  # started with both pipes: see _started
            raise RuntimeError("the usage writer process has no pipes")
        sent = time.monotonic()
        try:
            stdin.write(frame(body))
            await stdin.drain()
            size = int.from_bytes(await stdout.readexactly(4), "big")
            answer = await stdout.readexactly(size)
        except BaseException:
            # Dead, or cancelled half-way (the pipe is out of step): start afresh next time.
            # A batch the old process stored already is ignored when it comes again.
            await self._discard(process)
            raise
        now = time.monotonic()
        if process in self._starting:  # its first answer waited for its start (0.3 s of imports)
            self._starting.discard(process)
            self._window_start, self._busy = now, 0.0  # a new window
        else:
            self._busy += now - sent
        return answer

    async def _started(self) -> asyncio.subprocess.Process:
        background = self._background
        process = self._processes.get(background)
        if process is None or process.returncode is not None:
            priority = ["--idle"] if background else []
            process = self._processes[background] = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "relaygate.store.sqlite_usage_writer",
                *priority,
                self._path,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            self._starting.add(process)
        return process

    async def _discard(self, process: asyncio.subprocess.Process) -> None:
        self._forget(process)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(Exception):
            await process.wait()

    def _forget(self, process: asyncio.subprocess.Process) -> None:
        self._processes = {key: known for key, known in self._processes.items() if known is not process}
        self._starting.discard(process)

    async def close(self) -> None:
        async with self._lock:
            processes = list(self._processes.values())
            self._processes.clear()
            self._starting.clear()
            for process in processes:
                await self._stop(process)

    async def _stop(self, process: asyncio.subprocess.Process) -> None:
        if process.returncode is not None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the writer exits at the end of its input
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            log.error("the usage writer process did not exit; killing it")
            await self._discard(process)


class EngineBatchWriter:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        paramstyle = engine.dialect.paramstyle
        self._insert = insert_events_sql(paramstyle)
        self._upsert = upsert_identities_sql(paramstyle)

    async def write(self, batch: AsyncIterable[list[Queued]]) -> None:
        events = [event async for part in batch for event in part]
        rows = event_rows(events, self._dialect)
        identities = identity_rows(events, self._dialect)
        async with self._engine.begin() as conn:
            await conn.exec_driver_sql(self._insert, rows)
            if identities:
                await conn.exec_driver_sql(self._upsert, identities)

    async def close(self) -> None:
        return None
