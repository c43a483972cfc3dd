"""The store calls of one draw, as the service makes them, on one SQLite file: CPU per draw and
statements per draw. `python -m bench.store`; `BENCH_BOT_ROOT=<checkout>` measures that
checkout's core instead (for a before/after in one run).

The calls: the reservation's transaction (the user and the chat seen, their rows, the limits,
the INSERT), then each phase's record (generating, generated, delivered with a file id, the
kept copy). CPU is the thread's, in batches of 100 draws; the minimum and the median batch are
printed, since this shared machine's speed drifts within a run.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = os.environ.get("BENCH_BOT_ROOT")
if ROOT:
    sys.path.insert(0, str(Path(ROOT).resolve()))

from core.params import DrawParams, Watermark  # noqa: E402
from core.records import Limits, NewGeneration, Reserved  # noqa: E402
from core.store import Store  # noqa: E402

BATCH = 100
BASE = Limits(user_daily=0, chat_daily=0, cooldown_seconds=0, in_flight=0)
WATERMARK = Watermark(text="drawbot")


def reserve(store: Store, index: int) -> int:
    """DrawService._reserve's store calls (before 327f9e1 it read the rows back: the same
    calls it made then)."""
    user_key, chat_key = f"telegram:{index % 10}", f"telegram:{index % 10}"
    with store.sqlite.atomic():
        user: Any = store.touch_user(user_key, "Alice", "en")
        chat: Any = store.touch_chat(chat_key, None, False)
        if user is None:  # a checkout whose touches return nothing
            store.chat_watermark(chat_key, WATERMARK)
            limits = store.effective_limits(user_key, chat_key, BASE)
        else:
            from core.store import limits_of
            from core.upkeep import watermark_of

            watermark_of(chat, WATERMARK)
            limits = limits_of(user, chat, BASE)
        new = NewGeneration(
            user_key=user_key,
            chat_key=chat_key,
            platform="telegram",
            day="2026-12-02",
            params=DrawParams("a red fox", width=768, height=768, seed=index),
            watermark=WATERMARK,
        )
        reserved = store.reserve(new, limits)
    assert isinstance(reserved, Reserved)
    return reserved.generation_id


def one_draw(store: Store, index: int) -> None:
    generation_id = reserve(store, index)
    store.start_generating(generation_id)
    store.settle_generated(
        generation_id,
        images=[],
        paths=[],
        request_id="r",
        relay_seconds=1.0,
        attempts=1,
        rephrased=None,
    )
    store.settle_delivered(generation_id, "telegram", ["AgACAgIAAxkBAAIBZ2"])
    store.record_kept(generation_id, ["2026-12/1.png"], [{"width": 1536, "height": 1536}])


def statements_per_draw(store: Store) -> int:
    seen: list[str] = []
    connection: sqlite3.Connection = store.sqlite.conn
    connection.set_trace_callback(seen.append)
    one_draw(store, 0)
    connection.set_trace_callback(None)
    return len(seen)


def main() -> None:
    draws = 500 if "--quick" in sys.argv else 3000
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "store.db")
        for index in range(300):  # warm: caches, the file's first pages
            one_draw(store, index)
        statements = statements_per_draw(store)
        batches = []
        for start in range(0, draws, BATCH):
            began = time.thread_time()
            for index in range(start, start + BATCH):
                one_draw(store, index)
            batches.append((time.thread_time() - began) * 1000 / BATCH)
        store.close()
    print(
        f"store calls of one draw: {statements} SQLite statements; CPU per draw "
        f"min {min(batches):.3f} ms, median {statistics.median(batches):.3f} ms "
        f"({len(batches)} batches of {BATCH})"
    )


if __name__ == "__main__":
    main()
