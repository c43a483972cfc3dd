"""StoreThread on a real SQLite file: quick writes on the loop, handed to the thread when they
would wait for a lock, in the order made, and checkpoints kept off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import core.store_thread
from core.records import Limits, Reserved
from core.store import Store
from core.store_thread import StoreThread
from tests.conftest import new_generation as new


@pytest.fixture
async def thread(tmp_path: Path) -> AsyncIterator[StoreThread]:
    opened = StoreThread(tmp_path / "bot.db")
    yield opened
    opened.close()


def reserve(store: Store, source_key: str) -> tuple[int, str]:
    """Reserve one draw; its id and the thread that wrote it."""
    outcome = store.reserve(new(source_key=source_key), Limits())
    assert isinstance(outcome, Reserved), outcome
    return outcome.generation_id, threading.current_thread().name


async def test_a_quick_write_runs_on_the_loop_when_nothing_waits(thread: StoreThread) -> None:
    generation_id, where = await thread.quick(reserve, "a:1")
    assert where == threading.current_thread().name  # the loop's own thread
    assert await thread.run(Store.start_generating, generation_id)
    assert thread.handed_over == 0


async def test_a_write_another_process_holds_up_goes_to_the_thread(
    thread: StoreThread, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
    generation_id, where = await thread.quick(reserve, "a:1")
    other.close()
    assert where.startswith("sqlite")  # waited there, not on the loop
    assert thread.handed_over == 1
    assert (await thread.run(Store.get, generation_id)) is not None


async def test_quick_writes_keep_their_order_behind_the_thread(thread: StoreThread) -> None:
    generation_id, _ = await thread.quick(reserve, "a:1")
    release = threading.Event()

    def slow_settle(store: Store) -> bool:
        release.wait(5)
        return store.settle_failure(generation_id, kind="relay")

    settling = asyncio.ensure_future(thread.run(slow_settle))
    await asyncio.sleep(0.05)  # the thread is busy with it
    starting = asyncio.ensure_future(thread.quick(Store.start_generating, generation_id))
    await asyncio.sleep(0.05)
    assert not starting.done()  # queued behind the thread's call, not run past it
    release.set()
    assert await settling
    assert await starting is False  # failed first: it no longer starts
    row = await thread.run(Store.get, generation_id)
    assert row is not None and row.status == "failed"


async def test_the_loop_never_checkpoints_the_thread_does(
    thread: StoreThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core.store_thread, "CHECKPOINT_EVERY", 20)
    wal = tmp_path / "bot.db-wal"
    for n in range(400):
        await thread.quick(reserve, f"a:{n}")
    await thread.run(lambda store: None)  # the last checkpoint asked for has run
    # a reservation writes about 7 pages: 400 without a checkpoint leave a log of 12 MB;
    # checkpointed every 20, it starts over each time and stays near 150 pages
    assert wal.stat().st_size < 400 * 4096


async def test_a_burst_of_quick_writes_spills_to_the_thread_paced_ones_do_not(
    thread: StoreThread,
) -> None:
    """Back to back (a hundred relay answers at once) the loop would do nothing but SQLite:
    past QUICK_BUDGET the calls go to the thread. Paced as draws come, all stay on the loop."""
    loop_thread = threading.current_thread().name
    paced = []
    for n in range(20):
        paced.append((await thread.quick(reserve, f"paced:{n}"))[1])
        await asyncio.sleep(0.01)
    assert set(paced) == {loop_thread} and thread.spilled == 0
    burst = [(await thread.quick(reserve, f"burst:{n}"))[1] for n in range(600)]
    assert thread.spilled > 0
    assert burst[0] == loop_thread and any(name.startswith("sqlite") for name in burst)
