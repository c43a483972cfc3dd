"""drawbot end to end through the Telegram adapter.
Run: .venv/bin/python -m bench.telegram [--realistic]

This process hosts FakeTelegram and FakeRelay (1 s latency, seed 7 so its PNG cache is hit);
the bot is a real child process, `python -m bots telegram`, so its CPU and memory are its own.
Users send `/draw <unique prompt> --seed 7` all at once; per user, added latency = (the photo's
arrival at FakeTelegram - the update's push) - the relay's own time for that prompt.
Reports the same figures as bench/run.py: added latency at 1, 10 and 100 concurrent users, the
makespan of 100 draws / one draw, the bot's peak memory (VmHWM) with 100 draws of 768x768 in
flight, the bot's CPU per draw at 1, 10 and 100 users, plus how much of the 100-user figures
is Telegram's 30 messages/s limit, and shutdown. --realistic: the fake relay serves
photographic-like PNGs of realistic size (tests/fakes/photo.py; made before the bot starts)
instead of gradient PNGs.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.child import API_KEY, CLK_TCK, Child, base_env
from bench.relay_process import BENCH_SEED, BENCH_SIDES
from bench.run import RELAY_LATENCY, image_sizes, p95
from tests.fakes.base import wait_for
from tests.fakes.photo import make_photo
from tests.fakes.relay import FakeRelay
from tests.fakes.telegram import FakeTelegram, SentMessage

TOKEN = "7312345678:AAHbenchBenchBenchBenchBenchBench12"
TELEGRAM_RATE = 30  # AIORateLimiter's default: 30 messages/s for the whole bot...
TELEGRAM_BURST = 30  # ...a leaky bucket (aiolimiter) that lets the first 30 through at once
# BENCH_PROFILE=<file>: the bot runs under cProfile (its main thread only), stats to <file>
PROFILE = os.path.abspath(os.environ["BENCH_PROFILE"]) if "BENCH_PROFILE" in os.environ else ""


@dataclass
class Round:
    """One round: when each user's update was pushed and the photo that answered it."""

    started: float
    pushed: dict[int, float]  # user id -> push time (monotonic)
    prompts: dict[int, str]  # user id -> prompt
    photos: dict[int, SentMessage]  # user id -> the photo sent to their chat

    @property
    def makespan(self) -> float:
        return max(m.at for m in self.photos.values()) - self.started

    def end_to_end(self, user: int) -> float:
        return self.photos[user].at - self.pushed[user]


class Bot(Child):
    """`python -m bots telegram` as a child process against the fakes."""

    def __init__(
        self,
        tg: FakeTelegram,
        relay: FakeRelay,
        folder: Path,
        max_concurrent_draws: int | None = 100,
    ) -> None:
        """`max_concurrent_draws` None leaves MAX_CONCURRENT_DRAWS at its default."""
        super().__init__(folder)
        self.tg, self.relay = tg, relay
        self.max_concurrent_draws = max_concurrent_draws
        self.next_user = 1000
        self.drawn = 0  # draws answered so far

    async def start(self) -> None:
        env = base_env(self.folder, self.relay.base_url) | {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": f"{self.tg.base_url}/bot",
        }
        if "TELEGRAM_PHOTO_BY_URL" in os.environ:  # off: the uploads of before, to compare
            env["TELEGRAM_PHOTO_BY_URL"] = os.environ["TELEGRAM_PHOTO_BY_URL"]
        if self.max_concurrent_draws is not None:
            env["MAX_CONCURRENT_DRAWS"] = str(self.max_concurrent_draws)
        profiler = ["-m", "cProfile", "-o", PROFILE] if PROFILE else []
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *profiler,
                "-m",
                "bots",
                "telegram",
                cwd=self.folder,  # no .env from the project
                env=env,
                stdout=log,
                stderr=log,
            )
        await wait_for(
            lambda: self.exited() or any(c.status is None for c in self.tg.calls_of("getUpdates")),
            within=30,
            what="the bot to start polling",
        )
        self.exited()

    def loop_cpu(self) -> float:
        """CPU seconds of the main thread (the event loop) alone; the rest is other threads
        (the store's, asyncio.to_thread's file writes and re-encodes)."""
        assert self.process is not None
        stat = Path("/proc") / str(self.process.pid) / "task" / str(self.process.pid) / "stat"
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    async def draw(self, users: int, label: str, size: int | None = None) -> Round:
        """`users` distinct private chats send /draw at once; wait for every photo."""
        tg, since = self.tg, len(self.tg.sent)
        option = f" --size {size}x{size}" if size else ""
        pushed: dict[int, float] = {}
        prompts: dict[int, str] = {}
        started = time.monotonic()
        for index in range(users):
            self.next_user += 1
            user = self.next_user
            prompts[user] = f"{label} user {index}"
            tg.user_sends(text=f"/draw {prompts[user]} --seed 7{option}", user_id=user)
            pushed[user] = time.monotonic()

        def probe() -> dict[int, SentMessage] | None:
            self.exited()
            photos: dict[int, SentMessage] = {}
            for message in tg.sent[since:]:
                if message.chat_id not in pushed:
                    continue
                if message.kind != "photo":
                    raise RuntimeError(f"user {message.chat_id} got {message.visible_text!r}")
                photos.setdefault(message.chat_id, message)
            return photos if len(photos) == users else None

        photos = await wait_for(probe, within=60, what=f"{users} photos ({label})")
        # The kept copies may still be downloading (photos sent by link): their CPU belongs
        # to this round, not the next.
        self.drawn += users
        await wait_for(lambda: self.kept_files() >= self.drawn, within=60, what="the kept copies")
        return Round(started, pushed, prompts, photos)

    def kept_files(self) -> int:
        """How many kept image files the bot has begun to write (IMAGE_DIR)."""
        return sum(1 for path in (self.folder / "images").rglob("*-0.*") if path.stat().st_size)

    async def stop(self) -> tuple[int, float]:
        """SIGTERM; the exit code and the seconds until the process ended."""
        assert self.process is not None
        signalled = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), 40)
        return code, time.monotonic() - signalled


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:.1f} ms, p95 {p95(values) * 1000:.1f} ms"


def relay_times(relay: FakeRelay) -> dict[str, tuple[float, float]]:
    """The relay's (start, finish) per prompt, for calls it finished."""
    return {
        call.body["prompt"]: (call.started_at, call.finished_at)
        for call in relay.calls
        if isinstance(call.body, dict) and call.finished_at is not None
    }


def added(round_: Round, relay: FakeRelay) -> dict[int, float]:
    """Per user: end to end minus the relay's own time for that user's prompt."""
    own = relay_times(relay)
    result = {}
    for user, prompt in round_.prompts.items():
        begin, end = own[prompt]
        result[user] = round_.end_to_end(user) - (end - begin)
    return result


async def bench(folder: Path, realistic: bool = False) -> int:
    """Every figure, printed; returns the bot's exit code after SIGTERM."""
    if realistic:
        for side in BENCH_SIDES:
            make_photo(side, side, BENCH_SEED)
    kind = "photographic PNGs" if realistic else "gradient PNGs"
    print(f"images: {kind}, {image_sizes(realistic)}")
    async with (
        FakeTelegram(token=TOKEN, bot_username="drawbot_bench_bot") as tg,
        FakeRelay(api_key=API_KEY, latency=RELAY_LATENCY, realistic=realistic) as relay,
    ):
        bot = Bot(tg, relay, folder)
        try:
            await measure(bot, relay)
            code, seconds = await bot.stop()
        finally:
            bot.kill()
        print(f"SIGTERM: the bot exited with code {code} after {seconds:.2f} s (expected 0)")
        if tg.internal_errors:
            print(f"FakeTelegram internal errors: {tg.internal_errors!r}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    return code


async def measure(bot: Bot, relay: FakeRelay) -> None:
    launched = time.monotonic()
    await bot.start()
    idle = bot.memory_mb("VmRSS")
    print(
        f"bot child started and polling in {time.monotonic() - launched:.2f} s (RSS {idle:.0f} MB)"
    )
    await bot.draw(1, "warm-up")  # connections, caches, first imports
    single = await bot.draw(1, "single")
    one = single.end_to_end(next(iter(single.photos)))
    print(
        f"relay latency (fake, fixed): {RELAY_LATENCY:.2f} s; one draw end to end "
        f"(update -> photo): {one:.3f} s"
    )
    rounds: dict[int, Round] = {}
    for users in (1, 10, 100):
        # CPU is read in 10 ms ticks: rounds of 1 and 10 users are repeated so that their
        # figure per draw is not one or two ticks
        repeats = {1: 10, 10: 20}.get(users, 1)
        bot_cpu, own_cpu, loop_cpu = bot.cpu_seconds(), cpu_seconds(), bot.loop_cpu()
        calls_before = len(bot.tg.calls)
        values: list[float] = []
        for repeat in range(repeats):
            rounds[users] = await bot.draw(users, f"round-{users}-{repeat}")
            values += added(rounds[users], relay).values()
        per_draw = (bot.cpu_seconds() - bot_cpu) * 1000 / users / repeats
        in_loop = (bot.loop_cpu() - loop_cpu) * 1000 / users / repeats
        print(
            f"added latency at {users:>3} concurrent users: {ms(values)}  (target p95 < 50 ms); "
            f"bot CPU per draw {per_draw:.1f} ms ({in_loop:.1f} ms in its event loop; "
            f"{repeats} round{'s' if repeats > 1 else ''})"
        )
        methods = Counter(call.method for call in bot.tg.calls[calls_before:])
        print(
            "  Bot API calls per draw: "
            + ", ".join(f"{m} {n / users / repeats:.2f}" for m, n in methods.most_common())
        )
    bot_cpu, own_cpu = bot.cpu_seconds() - bot_cpu, cpu_seconds() - own_cpu
    big = rounds[100]
    print(
        f"makespan of 100 concurrent draws / one draw: {big.makespan / one:.3f}  "
        f"({big.makespan:.3f} s / {one:.3f} s; target < 1.1)"
    )
    report_rate_limiter(big, relay)
    print(
        f"CPU in the 100-user round, per draw: bot {bot_cpu * 10:.1f} ms; the fakes (this "
        f"process, same loop as the timestamps) {own_cpu * 10:.1f} ms"
    )

    before_peak, before_rss = bot.memory_mb("VmHWM"), bot.memory_mb("VmRSS")
    memory = await bot.draw(100, "memory", size=768)
    peak = bot.memory_mb("VmHWM")
    sides = {
        (m.message["photo"][-1]["width"], m.message["photo"][-1]["height"])
        for m in memory.photos.values()
    }
    print(
        f"bot peak memory (VmHWM) with 100 draws of 768x768 in flight: {peak:.0f} MB "
        f"(before the round: peak {before_peak:.0f} MB, RSS {before_rss:.0f} MB; "
        f"photos {', '.join(f'{w}x{h}' for w, h in sorted(sides))}; target < 150 MB)"
    )


def report_rate_limiter(round_: Round, relay: FakeRelay) -> None:
    """How the replies arrived, and the added latency without the limiter's queue."""
    order = sorted(round_.photos, key=lambda user: round_.photos[user].at)
    arrivals = [round_.photos[user].at for user in order]
    spread = arrivals[-1] - arrivals[0]
    per_second = Counter(int(at - arrivals[0]) for at in arrivals)
    counts = ", ".join(str(per_second[second]) for second in sorted(per_second))
    queue = [max(0, rank - TELEGRAM_BURST) / TELEGRAM_RATE for rank in range(len(order))]
    print(
        f"rate limiter: the {len(order)} sendPhoto calls arrived over {spread:.2f} s "
        f"({(len(order) - 1) / spread:.1f}/s; per second from the first: {counts}); PTB's "
        f"AIORateLimiter (Telegram's {TELEGRAM_RATE}/s, a burst of {TELEGRAM_BURST}) needs "
        f"{queue[-1]:.2f} s to let them through, so its queue alone is p50 "
        f"{statistics.median(queue) * 1000:.0f} ms, p95 {p95(queue) * 1000:.0f} ms of the "
        f"100-user added latency and most of the makespan: Telegram's limit, not overhead"
    )
    extra = added(round_, relay)
    net = [extra[user] - wait for user, wait in zip(order, queue, strict=True)]
    print(
        f"added latency at 100 users net of that queue (the k-th reply minus "
        f"max(0, k-{TELEGRAM_BURST})/{TELEGRAM_RATE} s): {ms(net)}; the first "
        f"{TELEGRAM_BURST} replies as measured: {ms([extra[u] for u in order[:TELEGRAM_BURST]])}"
    )
    own = relay_times(relay)
    before = [own[round_.prompts[u]][0] - round_.pushed[u] for u in order]
    after = [round_.photos[u].at - own[round_.prompts[u]][1] for u in order]
    print(
        f"  where the 100-user time goes: update -> relay call {ms(before)}; "
        f"relay answer -> photo received {ms(after)}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        code = asyncio.run(bench(Path(tmp), "--realistic" in sys.argv[1:]))
    sys.exit(0 if code == 0 else 1)


if __name__ == "__main__":
    main()
