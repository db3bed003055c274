"""Where the usage recorder's batches go: one writer per kind of store.

SQLite batches go to a writer process of their own (``sqlite_writer.py``: why, and its
protocol); PostgreSQL batches go through the engine's asyncpg connection, one
``executemany`` per table. Either way a batch is one transaction: all of it is stored,
or none of it and the recorder retries it.

The writer process runs as a background task (Linux's ``SCHED_IDLE``): it gets a core
only when no router thread wants one. At normal priority its burst of SQLite work per
batch (a few milliseconds) kept woken router threads waiting for the end of its time
slice, and a call at concurrency 1 took up to 3 ms longer at p99 than without usage
recording. A writer that falls behind (the recorder has several batches waiting, as on
a machine busy with other work) is raised back to normal priority, and lowered again
once it has kept up for a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import sys
import time
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.usage.rows import Queued, event_rows, identity_rows, insert_events_sql, upsert_identities_sql
from relaygate.usage.sqlite_writer import frame

log = logging.getLogger("relaygate.usage")


class UsageStoreError(Exception):
    """The store refused or could not take a batch; the recorder keeps it and retries."""


class BatchWriter(Protocol):
    async def write(self, batch: Sequence[Queued], *, behind: bool = False) -> None:
        """Stores the batch in one transaction; ``behind``: more batches are waiting."""
        ...

    async def close(self) -> None: ...


def batch_writer(engine: AsyncEngine, *, background: bool = True) -> BatchWriter:
    """``background``: run SQLite's writer process as a background task (module docstring)."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            raise ValueError("usage events need a SQLite file, not an in-memory database")
        return SqliteProcessWriter(database, background=background)
    return EngineBatchWriter(engine)


_IDLE = getattr(os, "SCHED_IDLE", None)  # Linux only
_NORMAL = getattr(os, "SCHED_OTHER", None)
_KEPT_UP_SECONDS = 60.0  # at normal priority, without falling behind, before lowering it again


def scheduling_policy(pid: int) -> int | None:
    """The process's scheduling policy (``os.SCHED_*``), or None where it cannot be read."""
    try:
        return os.sched_getscheduler(pid)
    except (AttributeError, OSError):
        return None


def _set_policy(pid: int, policy: int) -> bool:
    """False when not allowed: leaving SCHED_IDLE needs CAP_SYS_NICE (or RLIMIT_NICE)."""
    try:
        os.sched_setscheduler(pid, policy, os.sched_param(0))
    except PermissionError:
        return False
    except ProcessLookupError:
        pass  # it died: the next batch starts another
    return True


class SqliteProcessWriter:
    """The parent's end: starts the writer process when first needed (and again after it
    died), sends one batch at a time and waits for its answer."""

    def __init__(self, path: str, *, answer_timeout: float = 60.0, background: bool = True) -> None:
        self._path = path
        # SQLite waits up to 10 s for a lock (busy_timeout); past this the writer is stuck
        # (a stalled disk): it is killed and the batch kept for the next try.
        self._answer_timeout = answer_timeout
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._background = background and _IDLE is not None and _NORMAL is not None
        self._idle = self._background  # the priority the process runs (or will start) at
        self._raised_at = 0.0
        self.priority_changes = 0

    async def write(self, batch: Sequence[Queued], *, behind: bool = False) -> None:
        body = pickle.dumps(list(batch), protocol=5)
        async with self._lock:
            if self._background:
                await self._adjust_priority(behind)
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
        if answer:
            raise UsageStoreError(answer.decode(errors="replace"))

    async def _exchange(self, body: bytes) -> bytes:
        async with asyncio.timeout(self._answer_timeout):
            return await self._send(body)

    async def _send(self, body: bytes) -> bytes:
        process = await self._started()
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            process.stdin.write(frame(body))
            await process.stdin.drain()
            size = int.from_bytes(await process.stdout.readexactly(4), "big")
            return await process.stdout.readexactly(size)
        except BaseException:
            # Dead, or cancelled half-way (the pipe is out of step): start afresh next time.
            # A batch the old process stored already is ignored when it comes again.
            await self._discard(process)
            raise

    async def _started(self) -> asyncio.subprocess.Process:
        process = self._process
        if process is None or process.returncode is not None:
            process = self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "relaygate.usage.sqlite_writer",
                self._path,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            if self._idle and _IDLE is not None:
                _set_policy(process.pid, _IDLE)  # lowering one's own child is always allowed
        return process

    async def _adjust_priority(self, behind: bool) -> None:
        """Normal priority while the writer falls behind; background again once it kept up."""
        now = time.monotonic()
        if behind:
            self._raised_at = now
        if behind == (not self._idle) or (not behind and now - self._raised_at < _KEPT_UP_SECONDS):
            return
        self._idle = not behind
        self.priority_changes += 1
        if behind:
            log.info("the usage writer is falling behind: running it at normal priority")
        else:
            log.info("the usage writer has kept up: running it in the background again")
        process = self._process
        if process is None or process.returncode is not None:
            return  # the next one starts at the chosen priority
        policy = _NORMAL if behind else _IDLE
        if policy is not None and not _set_policy(process.pid, policy):
            await self._retire(process)  # not allowed to raise it: a new one starts at normal

    async def _retire(self, process: asyncio.subprocess.Process) -> None:
        """Lets the process exit at the end of its input (it has answered every batch)."""
        self._process = None
        assert process.stdin is not None
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            log.error("the usage writer process did not exit; killing it")
            await self._discard(process)

    async def _discard(self, process: asyncio.subprocess.Process) -> None:
        self._process = None
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(Exception):
            await process.wait()

    async def close(self) -> None:
        async with self._lock:
            process = self._process
            if process is None or process.returncode is not None:
                self._process = None
                return
            await self._retire(process)


class EngineBatchWriter:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        paramstyle = engine.dialect.paramstyle
        self._insert = insert_events_sql(paramstyle)
        self._upsert = upsert_identities_sql(paramstyle)

    async def write(self, batch: Sequence[Queued], *, behind: bool = False) -> None:
        rows = event_rows(batch, self._dialect)
        identities = identity_rows(batch, self._dialect)
        async with self._engine.begin() as conn:
            await conn.exec_driver_sql(self._insert, rows)
            if identities:
                await conn.exec_driver_sql(self._upsert, identities)

    async def close(self) -> None:
        return None
