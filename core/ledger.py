"""Ledger: the writes that record a draw's phases, made so a failing disk strands nobody.

A write that fails (the disk is full, another process holds the write lock) is retried with
backoff without holding the store's thread between attempts, so other users' draws go on.
`write` gives up after a short patience and says so (the caller then delivers what it has);
`later` keeps retrying in the background until the write lands or its deadline passes.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from core.store import Store
from core.store_thread import StoreThread

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

PATIENCE = 3.0  # seconds a draw waits for its record before delivering without it
LATER_DEADLINE = 15 * 60.0  # seconds a background write keeps trying
FIRST_PAUSE = 0.2


class WriteFailed(Exception):
    """A record could not be written within the patience given."""


class Ledger:
    """Writes of the draw path, with retries; background writes are tracked until flushed."""

    def __init__(self, store: StoreThread) -> None:
        self.store = store
        self._later: set[asyncio.Task[None]] = set()

    async def write(
        self,
        fn: Callable[Concatenate[Store, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run a write, retrying for up to PATIENCE seconds; WriteFailed after that."""
        return await self._attempts(PATIENCE, fn, *args, **kwargs)

    def later(
        self,
        fn: Callable[Concatenate[Store, P], object],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """Keep retrying a write in the background (for LATER_DEADLINE seconds)."""

        async def keep_trying() -> None:
            name = getattr(fn, "__name__", fn)
            try:
                await self.store.quick(fn, *args, **kwargs)
                return  # the usual case: written at once, nothing to say
            except sqlite3.OperationalError as error:
                log.warning("store write %s failed (%s); retrying in the background", name, error)
            try:
                await self._attempts(LATER_DEADLINE, fn, *args, **kwargs)
                log.info("a delayed record was written: %s", name)
            except WriteFailed:
                log.error("a record could not be written: %s", name)

        task = asyncio.create_task(keep_trying())
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def write_or_later(
        self,
        fn: Callable[Concatenate[Store, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T | None:
        """`write`; if it fails, hand it to `later` and return None."""
        try:
            return await self.write(fn, *args, **kwargs)
        except WriteFailed:
            self.later(fn, *args, **kwargs)
            return None

    async def flush(self, within: float) -> int:
        """At shutdown: give background writes `within` seconds; how many were left."""
        if not self._later:
            return 0
        _, left = await asyncio.wait(set(self._later), timeout=within)
        for task in left:
            task.cancel()
        return len(left)

    async def _attempts(
        self,
        patience: float,
        fn: Callable[Concatenate[Store, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        pause = FIRST_PAUSE
        while True:
            try:
                return await self.store.quick(fn, *args, **kwargs)
            except sqlite3.OperationalError as error:  # locked, busy, disk full, I/O error
                if loop.time() + pause > deadline:
                    raise WriteFailed(str(error)) from error
                log.warning("store write failed (%s); retrying in %.1fs", error, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 10.0)
