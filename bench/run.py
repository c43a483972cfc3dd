"""drawbot benchmarks against the fakes. Run: .venv/bin/python -m bench.run [--quick] [--realistic]

Reports, from one run: the bot's added latency (a draw's time minus the relay's own time) at
1, 10 and 100 concurrent users, this process's CPU per draw at each, the makespan of 100
concurrent draws as a ratio to one draw, peak memory with 100 draws of 768x768 in flight, and
SQLite reserve+settle per second. --realistic: the fake relay serves photographic-like PNGs
(tests/fakes/photo.py: 1.9 MB at 1024x1024, 4.2 MB at 1536x1536) instead of gradient PNGs
(0.36 MB each).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from core.config import Settings
from core.outcome import Delivered
from core.params import DrawParams, Watermark
from core.records import Limits, NewGeneration, Reserved
from core.request import Place, Requester
from core.root import Core
from core.store import Store
from tests.fakes.photo import make_photo
from tests.fakes.png import make_png

RELAY_LATENCY = 1.0


class RelayProcess:
    """The fake relay in a child process: its URL, and afterwards its own time per prompt."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.own_seconds: dict[str, float] = {}


@asynccontextmanager
async def relay_process(latency: float, realistic: bool = False) -> AsyncIterator[RelayProcess]:
    flags = ["--realistic"] if realistic else []
    child = subprocess.Popen(  # noqa: ASYNC220 - once, before anything is measured
        [sys.executable, "-m", "bench.relay_process", str(latency), *flags],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    relay = RelayProcess(child.stdout.readline().strip())
    try:
        yield relay
    finally:
        child.stdin.close()
        relay.own_seconds = json.loads(child.stdout.readline() or "{}")
        child.wait(timeout=10)


def settings_for(base_url: str, folder: Path, cap: int) -> Settings:
    return Settings.load(
        environ={
            "YUNAPI_BASE_URL": base_url,
            "YUNAPI_API_KEY": "bench-key",
            "DATABASE_PATH": str(folder / "bench.db"),
            "IMAGE_DIR": str(folder / "images"),
            "DAILY_LIMIT": "0",
            "MAX_IN_FLIGHT_PER_USER": "0",
            "MAX_CONCURRENT_DRAWS": str(cap),
        },
        env_file=None,
    )


async def draw_many(
    core: Core, users: int, label: str, size: int = 512
) -> tuple[float, dict[str, float]]:
    """`users` users draw at once; returns the makespan and each draw's time by prompt."""

    async def one(index: int) -> tuple[str, float]:
        prompt = f"{label} {index}"
        started = time.perf_counter()
        outcome = await core.service.draw(
            Requester("bench", str(index)),
            Place("bench", str(index)),
            DrawParams(prompt=prompt, width=size, height=size, seed=7),
        )
        assert isinstance(outcome, Delivered), outcome
        return prompt, time.perf_counter() - started

    started = time.perf_counter()
    times = dict(await asyncio.gather(*(one(i) for i in range(users))))
    return time.perf_counter() - started, times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def bench_service(folder: Path, realistic: bool = False) -> dict[str, float]:
    results: dict[str, float] = {}
    rounds: dict[int, dict[str, float]] = {}
    async with relay_process(RELAY_LATENCY, realistic) as relay:
        async with Core.open(settings_for(relay.base_url, folder, cap=100), ["bench"]) as core:
            await draw_many(core, 1, "warm-up")  # open connections, fill caches
            one, _ = await draw_many(core, 1, "single")
            results["one_draw_s"] = one
            for users in (1, 10, 100):
                cpu = cpu_seconds()
                makespan, rounds[users] = await draw_many(core, users, f"round-{users}")
                results[f"cpu_ms_per_draw_{users}"] = (cpu_seconds() - cpu) * 1000 / users
                results[f"makespan_s_{users}"] = makespan
            results["makespan_ratio_100"] = results["makespan_s_100"] / one
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            await draw_many(core, 100, "memory", size=768)
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            results["peak_rss_mb_100x768"] = after
            results["rss_growth_mb_100x768"] = after - before
    for users, times in rounds.items():
        added = [(t - relay.own_seconds[prompt]) * 1000 for prompt, t in times.items()]
        results[f"added_ms_p50_{users}"] = statistics.median(added)
        results[f"added_ms_p95_{users}"] = p95(added)
    return results


def bench_store(folder: Path, count: int) -> float:
    """Reserve + settle pairs per second on one Store (what the store thread does)."""
    store = Store(folder / "ops.db")
    limits = Limits(user_daily=count * 2, chat_daily=0, cooldown_seconds=0, in_flight=5)
    started = time.perf_counter()
    for index in range(count):
        new = NewGeneration(
            user_key=f"bench:{index % 50}",
            chat_key="bench:chat",
            platform="bench",
            day="2026-01-01",
            params=DrawParams("p", width=512, height=512, seed=index),
            watermark=Watermark(),
        )
        reserved = store.reserve(new, limits)
        assert isinstance(reserved, Reserved)
        store.settle_generated(
            reserved.generation_id,
            images=[{}],
            paths=[],
            request_id="r",
            relay_seconds=1.0,
            attempts=1,
            rephrased=None,
        )
        store.settle_delivered(reserved.generation_id, "bench", [])
    elapsed = time.perf_counter() - started
    store.close()
    return count / elapsed


def image_sizes(realistic: bool) -> str:
    """What the fake relay serves for the draws here (512 and 768 doubled by super-resolution)."""
    make = make_photo if realistic else make_png
    sizes = (f"{side}x{side} {len(make(side, side, 7)) / 1e6:.2f} MB" for side in (1024, 1536))
    return ", ".join(sizes)


def main() -> None:
    quick = "--quick" in sys.argv
    realistic = "--realistic" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ops = bench_store(folder, 500 if quick else 5000)
        print(f"sqlite reserve+settle per second: {ops:,.0f}  (target >= 2,000)")
        results = asyncio.run(bench_service(folder, realistic))
    kind = "photographic PNGs" if realistic else "gradient PNGs"
    print(f"images: {kind}, {image_sizes(realistic)}")
    print(
        f"relay latency (fake, fixed): {RELAY_LATENCY:.2f} s; one draw end to end: "
        f"{results['one_draw_s']:.3f} s"
    )
    for users in (1, 10, 100):
        print(
            f"added latency at {users:>3} concurrent users: "
            f"p50 {results[f'added_ms_p50_{users}']:.1f} ms, "
            f"p95 {results[f'added_ms_p95_{users}']:.1f} ms  (target p95 < 50 ms); "
            f"CPU per draw {results[f'cpu_ms_per_draw_{users}']:.1f} ms"
        )
    print(
        f"makespan of 100 concurrent draws / one draw: {results['makespan_ratio_100']:.3f}  "
        f"(target < 1.1)"
    )
    print(
        f"peak RSS with 100 draws of 768x768 in flight: {results['peak_rss_mb_100x768']:.0f} MB "
        f"(grew {results['rss_growth_mb_100x768']:.0f} MB; target < 150 MB)"
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
