"""A single writer thread that runs units of work in batches ("group commit").

Each OCPP message is persisted before it is answered, but a commit per message would cap the
gateway at the disk's fsync rate and serialise SQLite writers. The worker takes every job queued
since its last commit, runs them in one transaction and commits once; if any job fails the batch
is rolled back and each job is retried alone, so one bad message never loses another's data.
Jobs are plain functions ``fn(session, *args)`` and must not commit.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from csms.domain.durability import StoreUnavailable, UnstorableValue
from csms.store.outage import Outage, outage_cause

log = logging.getLogger(__name__)

def defer_insert(session: Session, table, row: dict, ignore_duplicates: bool = False) -> None:
    """Queue a plain INSERT to run once for the whole batch, just before the commit.

    Meter samples are most of what chargers send; one executemany per batch instead of an ORM
    bulk insert per message was most of the writer thread's time. ``ignore_duplicates``: a row
    a unique index already holds is skipped (ON CONFLICT DO NOTHING, SQLite and PostgreSQL).
    """
    session.info.setdefault("deferred_inserts", {}).setdefault(
        (table, ignore_duplicates), []).append(row)


def defer_update(session: Session, statement, key: object, params: dict) -> None:
    """Queue an executemany UPDATE for the batch; a later call with the same key wins (so a
    charger's heartbeats in one batch cost one row update)."""
    session.info.setdefault("deferred_updates", {}).setdefault(statement, {})[key] = params


def flush_deferred(session: Session) -> None:
    for (table, ignore), rows in session.info.pop("deferred_inserts", {}).items():
        session.connection().execute(_insert(session, table, ignore), rows)
    for statement, by_key in session.info.pop("deferred_updates", {}).items():
        session.connection().execute(statement, list(by_key.values()))


def _insert(session: Session, table, ignore_duplicates: bool):
    if not ignore_duplicates:
        return table.insert()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - SQLite and PostgreSQL are the supported stores
        raise NotImplementedError(dialect)
    return insert(table).on_conflict_do_nothing()


class Refused(Exception):
    """A job's refusal of a request (a 4xx of the API or the console), wrapping the error to
    answer with (``error``): the batch is rolled back and the other jobs retried as for any
    failure, but it is no fault of the store, so no traceback is logged."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


_Job = tuple[Callable[..., Any], tuple, asyncio.Future, asyncio.AbstractEventLoop]
_STOP = object()


class StoreWorker:
    def __init__(self, engine: Engine, max_batch: int = 512) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.jobs = 0
        self.outage = Outage()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="store-writer", daemon=True)
            self._thread.start()

    async def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    def run(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        """Queue ``fn(session, *args)``; the future resolves after the batch commits."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((fn, args, future, loop))
        return future

    async def read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a read-only ``fn(session, *args)`` in a worker thread of its own session.

        Big reads (a site snapshot, KPIs) must not sit in the writer's batch: every charger's
        message would wait for them. In WAL mode (and on PostgreSQL) readers never block the
        writer, and they see everything committed before the call.
        """
        def job() -> Any:
            try:
                with Session(self.engine, expire_on_commit=False) as session:
                    return fn(session, *args)
            except Exception as exc:
                cause = outage_cause(exc)
                if cause is None:
                    raise
                raise StoreUnavailable(cause) from None  # the writer logs the outage

        return await asyncio.to_thread(job)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Job] = [first]
            stop_after = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop_after = True
                    break
                batch.append(item)
            self._run_batch(batch)
            if stop_after:
                return

    def _run_batch(self, batch: list[_Job]) -> None:
        self.batches += 1
        self.jobs += len(batch)
        results: list[Any] = []
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                for fn, args, _, _ in batch:
                    results.append(fn(session, *args))
                flush_deferred(session)
                session.commit()
        except Exception as exc:
            cause = outage_cause(exc)
            if cause is not None:  # retrying each job alone would only fail N times more
                self.outage.failed(cause, len(batch))
                error = StoreUnavailable(cause)
                for _, _, future, loop in batch:
                    loop.call_soon_threadsafe(_set_exception, future, error)
                return
            if len(batch) == 1:
                fn, args, future, loop = batch[0]
                self._settle_error(future, loop, fn)
                return
            for job in batch:  # retry alone: one failing job must not lose the others
                self._run_batch([job])
            return
        self.outage.succeeded()
        # One wake-up per event loop for the whole batch, not one per job.
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for (_, _, future, loop), result in zip(batch, results, strict=True):
            by_loop.setdefault(loop, []).append((future, result))
        for loop, settled in by_loop.items():
            loop.call_soon_threadsafe(_set_results, settled)

    @staticmethod
    def _settle_error(future: asyncio.Future, loop: asyncio.AbstractEventLoop, fn) -> None:
        import sys

        from sqlalchemy.exc import DataError

        exc = sys.exc_info()[1]
        if isinstance(exc, DataError):
            # A value the database refuses (out of a column's range): the sender's problem,
            # answered as such; no traceback.
            cause = str(exc.orig).splitlines()[0][:200]
            log.warning("store job %s: value refused by the database: %s",
                        getattr(fn, "__name__", fn), cause)
            exc = UnstorableValue(cause)
        elif isinstance(exc, Refused):
            log.debug("store job %s refused: %s", getattr(fn, "__name__", fn), exc)
        else:
            log.exception("store job %s failed", getattr(fn, "__name__", fn))
        loop.call_soon_threadsafe(_set_exception, future, exc)


def _set_results(settled: list[tuple[asyncio.Future, Any]]) -> None:
    for future, result in settled:
        if not future.done():
            future.set_result(result)


def _set_exception(future: asyncio.Future, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
        if isinstance(exc, StoreUnavailable):
            # Marked as retrieved: a write nobody awaits (a background verdict) must not log a
            # traceback per job; the outage is logged once (csms/store/outage.py). Awaiting the
            # future still raises.
            future.exception()
