"""The event loop the bot runs on: uvloop's (libuv, in C) where it is installed, asyncio's
own elsewhere (uvloop has no Windows build).

Measured with `bench.telegram --realistic` (per thread, 200 draws at 10 users, six
alternating runs): the bot's CPU per draw 5.17 -> 4.70 ms, median (README, Benchmarks)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

try:
    import uvloop
except ImportError:  # Windows, or installed without it
    uvloop = None  # type: ignore[assignment]


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """What makes a new event loop of the bot's kind."""
    return uvloop.new_event_loop if uvloop is not None else asyncio.new_event_loop


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on the bot's kind of event loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(coroutine)
