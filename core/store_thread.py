"""StoreThread: how the event loop reaches the Store.

Every call may run on the store's one thread (`run`), so the loop never waits on the disk or
on another process's lock. The draw path's short writes (`quick`) run on the loop itself,
through a second connection that never waits: on this 2-core machine each hand-off to a
thread and back costs 0.1-0.2 ms of CPU (waking the thread, then the loop), five of them per
draw, more than the writes themselves (README, Benchmarks). A quick call that would have to
wait (another connection holds the write lock) goes to the thread instead, as every call
used to; one queued behind thread calls does too, so calls still land in the order made.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from core.store import Store

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# The loop's connection never checkpoints (a checkpoint syncs the disk); the thread does,
# after this many quick writes.
CHECKPOINT_EVERY = 200
# The loop may spend half its time on quick calls, and owe at most QUICK_BUDGET seconds
# beyond that: each call adds its own time, half of the time passing pays it off. Past it (a
# burst: a hundred relay answers in one millisecond) calls go to the thread, which then runs
# them beside the loop instead of in its way; at 100 users all on the loop made the added
# latency's p50 grow by about 100 ms (README, Benchmarks).
QUICK_BUDGET = 0.005
PAID_OFF = 0.5


def busy(error: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY (any of its extended codes): the statement did nothing; it can wait."""
    code: int | None = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(error)
    return code & 0xFF == sqlite3.SQLITE_BUSY


class StoreThread:
    """The one thread that owns the Store: `await thread.run(Store.history, key, 10)` runs
    the call there; `await thread.quick(Store.start_generating, id)` runs a short write on
    the loop when it need not wait. Each connection stays with its own thread."""

    def __init__(self, path: Path | str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._store: Store = self._executor.submit(Store, path).result()
        self._loops_store: Store | None = None
        if str(path) != ":memory:":  # another connection to :memory: is another database
            self._loops_store = Store(path)
            self._loops_store.sqlite.execute("PRAGMA busy_timeout = 0")
            self._loops_store.sqlite.execute("PRAGMA wal_autocheckpoint = 0")
        self._on_thread = 0  # calls handed to the thread and not yet back
        self._quick_writes = 0
        self._owed = 0.0  # seconds of quick calls not yet paid off (QUICK_BUDGET)
        self._owed_at = 0.0
        self.handed_over = 0  # quick calls that had to wait, so went to the thread
        self.spilled = 0  # quick calls of a burst, sent to the thread

    async def run(
        self, fn: Callable[Concatenate[Store, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`fn(store, *args, **kwargs)` on the store's thread."""
        store = self._store
        return await self._hand_over(lambda: fn(store, *args, **kwargs))

    async def quick(
        self, fn: Callable[Concatenate[Store, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`fn(store, *args, **kwargs)` on the loop if it can run at once, else on the thread.
        For short transactions only: a failure before COMMIT leaves nothing behind, so the
        thread may run it again."""
        store = self._loops_store
        if store is None or self._on_thread:
            return await self.run(fn, *args, **kwargs)
        started = time.perf_counter()
        owed = max(0.0, self._owed - PAID_OFF * (started - self._owed_at))
        if owed > QUICK_BUDGET:
            self.spilled += 1
            return await self.run(fn, *args, **kwargs)
        try:
            result = fn(store, *args, **kwargs)
        except sqlite3.OperationalError as error:
            if not busy(error):
                raise
            self.handed_over += 1
            return await self.run(fn, *args, **kwargs)
        finally:
            self._owed_at = time.perf_counter()
            self._owed = owed + (self._owed_at - started)
        self._quick_writes += 1
        if self._quick_writes % CHECKPOINT_EVERY == 0:
            # the next writes queue behind it: the first of them finds the log all copied
            # and starts it over, so it does not grow while the loop keeps writing
            self._hand_over(self._checkpoint).add_done_callback(_log_failure)
        return result

    def _hand_over(self, call: Callable[[], T]) -> asyncio.Future[T]:
        """`call()` on the thread; quick calls wait behind it until it is back."""
        self._on_thread += 1
        future = asyncio.wrap_future(self._executor.submit(call))
        future.add_done_callback(self._back)
        return future

    def _back(self, _: object) -> None:
        self._on_thread -= 1

    def _checkpoint(self) -> None:
        self._store.sqlite.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        if self._loops_store is not None:
            self._loops_store.close()
        self._executor.submit(self._store.close).result()
        self._executor.shutdown(wait=True)


def _log_failure(done: asyncio.Future[None]) -> None:
    if not done.cancelled() and (error := done.exception()) is not None:
        log.warning("store: a checkpoint failed (%s)", error)
