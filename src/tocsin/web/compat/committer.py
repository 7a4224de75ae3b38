"""Group commit for accepted events: many requests, one INSERT and one COMMIT.

Each request hands its events to a writer thread and awaits a future; the thread
takes everything queued while the previous commit ran and writes it in one
transaction. A request is answered 202 only after *its* commit returned, so the
event is on disk (WAL fsync rules per ``TOCSIN_SQLITE_SYNCHRONOUS``) before the
sender hears success. Nothing is answered before the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import structlog

from tocsin.db.session import Database
from tocsin.incidents.intake import Accepted, accept_events
from tocsin.kernel.clock import Clock

log = structlog.get_logger(__name__)

_Job = tuple[Sequence[Accepted], "asyncio.Future[None] | Future[None]"]


class GroupCommitter:
    """Writer threads that batch accepted events into shared commits."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        on_commit: Callable[[], None],
        max_batch: int = 500,
        writers: int = 1,
    ) -> None:
        self._db = db
        self._clock = clock
        self._on_commit = on_commit
        self._max_batch = max_batch
        self._writers = writers
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.commits = 0
        self.events = 0

    def _ensure_started(self) -> None:
        if self._threads:
            return
        with self._lock:
            if self._threads:
                return
            for index in range(self._writers):
                thread = threading.Thread(
                    target=self._run, name=f"tocsin-intake-{index}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    async def submit(self, items: Sequence[Accepted]) -> None:
        """Return once ``items`` are committed; raise what the database raised."""
        self._ensure_started()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put((items, future))
        await future

    def submit_sync(self, items: Sequence[Accepted]) -> None:
        self._ensure_started()
        future: Future[None] = Future()
        self._queue.put((items, future))
        future.result()

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []

    def _take(self) -> list[_Job] | None:
        first = self._queue.get()
        if first is None:
            return None
        jobs = [first]
        count = len(first[0])
        while count < self._max_batch:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self._queue.put(None)  # let the loop end after this batch
                break
            jobs.append(job)
            count += len(job[0])
        return jobs

    def _run(self) -> None:
        while True:
            jobs = self._take()
            if jobs is None:
                return
            items = [item for batch, _future in jobs for item in batch]
            try:
                with self._db.bulk_transaction() as tx:
                    accept_events(tx, items=items, now=self._clock.now())
            except Exception as exc:  # the database's failure: every waiter hears it
                log.error("intake.commit_failed", events=len(items), error=str(exc))
                _settle([future for _batch, future in jobs], exc)
                continue
            self.commits += 1
            self.events += len(items)
            _settle([future for _batch, future in jobs], None)
            try:
                self._on_commit()
            except Exception:  # pragma: no cover - waking is best effort
                log.exception("intake.wake_failed")


def _settle(futures: list[asyncio.Future[None] | Future[None]], error: Exception | None) -> None:
    """Resolve waiters: asyncio futures on their loop (one callback per loop), others here."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for future in futures:
        if isinstance(future, asyncio.Future):
            by_loop.setdefault(future.get_loop(), []).append(future)
        elif error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
    for loop, waiting in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_resolve, waiting, error)


def _resolve(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():  # the request was cancelled (client went away)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
