"""The draw queue and the adaptive relay window, measured. Run: .venv/bin/python -m bench.queue

Four scenarios against the fakes, plain lines, about two and a half minutes:

1. Ten users draw at once, relay latency 3 s, default settings (the window starts at 16):
   makespan / one draw's time (target <= 1.2).
2. The relay accepts only 2 draws at a time and answers 50430 beyond that; 20 users draw at
   once: all must succeed; the wasted relay calls (50430 answers) and the makespan against the
   ideal of 10 waves x the relay's latency.
3. A steady stream (12 users, each drawing again as soon as their draw ends; latency 1 s) while
   the relay's limit goes 2 -> 8 -> 2: after each change, how many accepted draws (and seconds,
   and push-backs) until the window is within +-1 of the new limit, then the push-backs per
   accepted draw and the mean window for the rest of that phase.
4. Through the Telegram adapter (`python -m bots telegram` as a child, FakeTelegram and
   FakeRelay here, latency 3 s, default settings): time from pushing /draw to the first visible
   sign in that chat (a `sendChatAction` or a status message) at 1, 10 and 100 users.

Scenarios 1-3 are service level: `Core` in this process with the real relay client, the fake
relay in a child process (bench/relay_process.py, whose limit is changed through its stdin).
The window is core's own `RelayWindow`, subclassed here only to time-stamp what it does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from bench.child import API_KEY
from bench.run import p95
from bench.telegram import TOKEN, Bot
from core.config import Settings
from core.outcome import Delivered, Outcome
from core.params import DrawParams
from core.queue import RelayWindow
from core.request import Place, Requester
from core.root import Core
from tests.fakes.base import wait_for
from tests.fakes.relay import FakeRelay
from tests.fakes.telegram import FakeTelegram

LATENCY = 3.0  # scenarios 1, 2 and 4
STREAM_LATENCY = 1.0  # scenario 3, so that each phase sees dozens of draws
STREAM_USERS = 12
PHASES = ((2, 12.0), (8, 15.0), (2, 12.0))  # scenario 3: (relay limit, seconds)
SCENARIO_BOUND = 150.0  # no scenario may hang the bench


class RelayChild:
    """bench/relay_process.py as a child: its URL, its limit, its counters."""

    def __init__(self, process: asyncio.subprocess.Process, base_url: str) -> None:
        self.process = process
        self.base_url = base_url

    async def ask(self, line: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()
        return (await self.process.stdout.readline()).decode().strip()

    async def limit(self, limit: int | None) -> None:
        answer = await self.ask(f"limit {'none' if limit is None else limit}")
        assert answer == "ok", answer

    async def stats(self) -> dict[str, int]:
        result: dict[str, int] = json.loads(await self.ask("stats"))
        return result


@asynccontextmanager
async def relay_child(latency: float) -> AsyncIterator[RelayChild]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.relay_process",
        str(latency),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    base_url = (await process.stdout.readline()).decode().strip()
    try:
        yield RelayChild(process, base_url)
    finally:
        process.stdin.close()
        await process.stdout.read()
        await asyncio.wait_for(process.wait(), 10)


class TracedWindow(RelayWindow):
    """Core's window, unchanged, with the time of each push-back, acceptance and size."""

    def __init__(self, ceiling: int) -> None:
        super().__init__(ceiling)
        self.sizes: list[tuple[float, int]] = [(time.monotonic(), self.size)]
        self.pushback_times: list[float] = []
        self.accepted_times: list[float] = []

    def pushed_back(self, at_relay: int, sent_in: int | None = None) -> None:
        self.pushback_times.append(time.monotonic())
        super().pushed_back(at_relay, sent_in)
        self._note()

    def accepted_one(self) -> None:
        self.accepted_times.append(time.monotonic())
        super().accepted_one()
        self._note()

    def _note(self) -> None:
        if self.size != self.sizes[-1][1]:
            self.sizes.append((time.monotonic(), self.size))

    def size_at(self, moment: float) -> int:
        return [size for at, size in self.sizes if at <= moment][-1]

    def path(self, since: float = 0.0, until: float = float("inf")) -> str:
        """The sizes the window took between two moments, e.g. 16>8>4>2>1>2>3."""
        sizes = [self.size_at(since)] + [s for at, s in self.sizes if since < at <= until]
        return ">".join(map(str, sizes))

    def mean(self, since: float, until: float) -> float:
        """The time-weighted mean size between two moments."""
        points = [(since, self.size_at(since))]
        points += [(at, size) for at, size in self.sizes if since < at < until]
        points.append((until, 0))
        area = sum((b[0] - a[0]) * a[1] for a, b in pairwise(points))
        return area / (until - since)


def traced(core: Core) -> TracedWindow:
    """Put a TracedWindow where the dispatcher and its queue look for theirs (before any draw)."""
    dispatcher = core.service.dispatcher
    window = TracedWindow(core.settings.max_concurrent_draws)
    dispatcher.window = dispatcher.queue.window = window
    return window


def settings(base_url: str, folder: Path, **extra: str) -> Settings:
    """Default settings but for the relay and the paths (and `extra`)."""
    folder.mkdir(parents=True, exist_ok=True)
    environ = {
        "YUNAPI_BASE_URL": base_url,
        "YUNAPI_API_KEY": "bench-key",
        "DATABASE_PATH": str(folder / "bench.db"),
        "IMAGE_DIR": str(folder / "images"),
        "LOG_LEVEL": "WARNING",
    }
    return Settings.load(environ=environ | extra, env_file=None)


async def draw(core: Core, user: str, prompt: str) -> Outcome:
    return await core.service.draw(
        Requester("bench", user),
        Place("bench", user),
        DrawParams(prompt=prompt, width=512, height=512, seed=7),
    )


async def timed(coroutine: Coroutine[Any, Any, Outcome]) -> tuple[Outcome, float]:
    started = time.perf_counter()
    outcome = await coroutine
    return outcome, time.perf_counter() - started


def delivered(outcomes: list[Outcome]) -> int:
    return sum(isinstance(o, Delivered) for o in outcomes)


# --------------------------------------------------------------------- 1: a burst of ten


async def burst_of_ten(folder: Path) -> None:
    async with (
        relay_child(LATENCY) as relay,
        Core.open(settings(relay.base_url, folder), ["bench"]) as core,
    ):
        window = traced(core)
        await draw(core, "warm-up", "warm-up")  # connections, caches
        outcome, one = await timed(draw(core, "single", "single"))
        assert isinstance(outcome, Delivered), outcome
        started = time.perf_counter()
        outcomes = await asyncio.gather(*(draw(core, f"u{i}", f"ten {i}") for i in range(10)))
        makespan = time.perf_counter() - started
        stats = await relay.stats()
    print(
        f"[1] 10 users at once, latency {LATENCY:.0f} s, default settings (window starts at "
        f"{window.sizes[0][1]}, ceiling {window.ceiling}): {delivered(outcomes)}/10 delivered; "
        f"makespan {makespan:.3f} s / one draw {one:.3f} s = {makespan / one:.3f}  "
        f"(target <= 1.2); most at the relay at once {stats['max_concurrency_seen']}, "
        f"push-backs {stats['pushed_back']}"
    )


# ------------------------------------------------------------ 2: a relay that takes two


async def relay_takes_two(folder: Path) -> None:
    async with (
        relay_child(LATENCY) as relay,
        Core.open(settings(relay.base_url, folder), ["bench"]) as core,
    ):
        window = traced(core)
        outcome, one = await timed(draw(core, "warm-up", "warm-up"))
        assert isinstance(outcome, Delivered), outcome
        await relay.limit(2)
        before = await relay.stats()
        started, begun = time.perf_counter(), time.monotonic()
        outcomes = await asyncio.gather(*(draw(core, f"u{i}", f"twenty {i}") for i in range(20)))
        makespan = time.perf_counter() - started
        after = await relay.stats()
        wasted = after["pushed_back"] - before["pushed_back"]
        calls = after["calls"] - before["calls"]
    ideal = 10 * LATENCY
    print(
        f"[2] relay takes 2 at a time (50430 beyond), 20 users at once, latency "
        f"{LATENCY:.0f} s: {delivered(outcomes)}/20 delivered; relay calls {calls}, of which "
        f"wasted (50430) {wasted} ({wasted / 20:.2f} per draw)"
    )
    print(
        f"    makespan {makespan:.2f} s / ideal 10 waves x {LATENCY:.0f} s = {makespan / ideal:.2f}"
        f" (x one draw's {one:.2f} s: {makespan / (10 * one):.2f}); window "
        f"{window.path(begun)}"
    )


# ---------------------------------------------------- 3: a limit that changes mid-stream


@dataclass
class Follow:
    """How the window followed one change of the relay's limit."""

    limit: int
    window_before: int
    draws: int | None  # accepted draws from the change until within +-1 (None: never)
    seconds: float | None
    pushbacks: int  # in that time
    after: str  # the rest of the phase, in words


def follow(window: TracedWindow, limit: int, start: float, end: float) -> Follow:
    """From `start` (the limit changed) to `end` (the next change)."""
    reached: float | None = None
    if abs(window.size_at(start) - limit) <= 1:
        reached = start
    else:
        reached = next(
            (at for at, size in window.sizes if start < at < end and abs(size - limit) <= 1),
            None,
        )

    def count(times: list[float], since: float, until: float) -> int:
        return sum(since <= t < until for t in times)

    upto = end if reached is None else reached
    after = "never within +-1"
    if reached is not None and end - reached > 1:
        accepted = count(window.accepted_times, reached, end)
        pushbacks = count(window.pushback_times, reached, end)
        after = (
            f"then {accepted} accepted, {pushbacks} push-backs "
            f"({pushbacks / max(1, accepted):.2f} per draw), mean window "
            f"{window.mean(reached, end):.1f}, {accepted / (end - reached):.1f} draws/s "
            f"(the limit allows {limit / STREAM_LATENCY:.0f}/s)"
        )
    return Follow(
        limit,
        window.size_at(start),
        None if reached is None else count(window.accepted_times, start, reached),
        None if reached is None else reached - start,
        count(window.pushback_times, start, upto),
        after,
    )


async def changing_limit(folder: Path) -> None:
    async with (
        relay_child(STREAM_LATENCY) as relay,
        Core.open(settings(relay.base_url, folder, DAILY_LIMIT="0"), ["bench"]) as core,
    ):
        window = traced(core)
        await draw(core, "warm-up", "warm-up")
        stop = asyncio.Event()
        failed: list[Outcome] = []

        async def user(index: int) -> None:
            count = 0
            while not stop.is_set():
                outcome = await draw(core, f"u{index}", f"stream {index} {count}")
                count += 1
                if not isinstance(outcome, Delivered):
                    failed.append(outcome)

        changes: list[tuple[int, float]] = []
        await relay.limit(PHASES[0][0])
        users = [asyncio.create_task(user(i)) for i in range(STREAM_USERS)]
        for limit, seconds in PHASES:
            await relay.limit(limit)
            changes.append((limit, time.monotonic()))
            await asyncio.sleep(seconds)
        end = time.monotonic()
        stop.set()
        await asyncio.gather(*users)
        stats = await relay.stats()
    print(
        f"[3] steady stream ({STREAM_USERS} users drawing back to back, latency "
        f"{STREAM_LATENCY:.0f} s), relay limit "
        f"{' -> '.join(f'{limit} for {s:.0f} s' for limit, s in PHASES)}: "
        f"{len(window.accepted_times)} draws accepted, {len(failed)} failed, "
        f"{stats['pushed_back']} push-backs in all"
    )
    for index, (limit, at) in enumerate(changes):
        until = changes[index + 1][1] if index + 1 < len(changes) else end
        result = follow(window, limit, at, until)
        reached = (
            "never"
            if result.draws is None or result.seconds is None
            else f"{result.draws} accepted draws, {result.seconds:.1f} s"
        )
        print(
            f"    limit {'start' if index == 0 else changes[index - 1][0]} -> {limit} (window "
            f"{result.window_before}): within +-1 after {reached}, {result.pushbacks} "
            f"push-backs; {result.after}"
        )
        print(f"      window {window.path(at, until)}")


# ----------------------------------------------- 4: the first visible sign, via Telegram


async def first_signs(bot: Bot, users: int, label: str) -> dict[int, tuple[float, str]]:
    """`users` chats send /draw at once; per chat, (seconds to the first sign, its method)."""
    tg = bot.tg
    calls, sent = len(tg.calls), len(tg.sent)
    pushed: dict[int, float] = {}
    for index in range(users):
        bot.next_user += 1
        tg.user_sends(text=f"/draw {label} user {index} --seed 7", user_id=bot.next_user)
        pushed[bot.next_user] = time.monotonic()

    def all_photos() -> bool:
        bot.exited()
        photos = set()
        for message in tg.sent[sent:]:
            if message.chat_id not in pushed:
                continue
            if message.kind == "photo":
                photos.add(message.chat_id)
            elif message.reply_markup is None:  # status messages carry a cancel button
                raise RuntimeError(f"user {message.chat_id} got {message.visible_text!r}")
        return len(photos) == users

    await wait_for(all_photos, within=120, what=f"{users} photos ({label})")
    first: dict[int, tuple[float, str]] = {}
    for call in tg.calls[calls:]:  # in the order they arrived
        if call.method not in ("sendChatAction", "sendMessage", "sendPhoto"):
            continue
        chat = int(call.params.get("chat_id", 0))
        if chat in pushed and chat not in first:
            first[chat] = (call.at - pushed[chat], call.method)
    return first


async def telegram_signs(folder: Path) -> None:
    async with (
        FakeTelegram(token=TOKEN, bot_username="drawbot_bench_bot") as tg,
        FakeRelay(api_key=API_KEY, latency=LATENCY) as relay,
    ):
        bot = Bot(tg, relay, folder, max_concurrent_draws=None)
        try:
            await bot.start()
            await first_signs(bot, 1, "warm-up")
            for users in (1, 10, 100):
                signs = await first_signs(bot, users, f"round-{users}")
                seconds = [s for s, _ in signs.values()]
                kinds = ", ".join(
                    f"{sum(m == method for _, m in signs.values())} {method}"
                    for method in ("sendChatAction", "sendMessage", "sendPhoto")
                    if any(m == method for _, m in signs.values())
                )
                print(
                    f"[4] Telegram, {users:>3} users at once: /draw -> first visible sign "
                    f"p50 {statistics.median(seconds) * 1000:.0f} ms, p95 "
                    f"{p95(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms "
                    f"({len(signs)}/{users} chats; first sign: {kinds})"
                )
                if users == 100:
                    late = sorted(s for s, m in signs.values() if m == "sendMessage")
                    if late:
                        print(
                            f"    the {len(late)} who waited for the relay: status message "
                            f"from {late[0]:.2f} s to {late[-1]:.2f} s (core says 'queued' "
                            f"after 1 s; Telegram's 30 messages/s limiter spreads them)"
                        )
            code, _ = await bot.stop()
        finally:
            bot.kill()
        if code != 0:
            print(f"    the bot exited with code {code}")


async def bounded(name: str, coroutine: Coroutine[Any, Any, None]) -> None:
    started = time.monotonic()
    async with asyncio.timeout(SCENARIO_BOUND):
        await coroutine
    print(f"    ({name}: {time.monotonic() - started:.0f} s)")


async def main(folder: Path) -> None:
    await bounded("scenario 1", burst_of_ten(folder / "one"))
    await bounded("scenario 2", relay_takes_two(folder / "two"))
    await bounded("scenario 3", changing_limit(folder / "three"))
    (folder / "four").mkdir()
    await bounded("scenario 4", telegram_signs(folder / "four"))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; one run, figures as ratios")


if __name__ == "__main__":
    logging.getLogger("stamina").setLevel(logging.ERROR)  # a line per push-back otherwise
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(Path(tmp)))
