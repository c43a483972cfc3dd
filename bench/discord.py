"""drawbot end to end through the Discord adapter: its CPU per draw and peak memory.
Run: .venv/bin/python -m bench.discord [--realistic]

This process hosts FakeDiscord (REST and gateway) and FakeRelay (1 s latency, seed 7); the bot
is a real child process, `python -m bots discord`. Users send `/draw` as slash commands all at
once, each in their own DM; a draw is done when its answer carries the picture as an attachment
(Discord has no photos by link: the bot downloads each picture and uploads it). Reports the
bot's CPU per draw at 1 and 10 users (several rounds: /proc counts 10 ms ticks) and its peak
memory (VmHWM) with 100 draws in flight. --realistic: photographic-like PNGs of realistic size
(tests/fakes/photo.py) instead of gradients.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from pathlib import Path

from bench.child import API_KEY, Child, base_env
from bench.relay_process import BENCH_SEED, BENCH_SIDES
from bench.run import RELAY_LATENCY, image_sizes
from tests.fakes.base import wait_for
from tests.fakes.discord import FakeDiscord
from tests.fakes.photo import make_photo
from tests.fakes.relay import FakeRelay

TOKEN = "discord-bench-token"


class Bot(Child):
    """`python -m bots discord` as a child process against the fakes."""

    def __init__(self, dc: FakeDiscord, relay: FakeRelay, folder: Path) -> None:
        super().__init__(folder)
        self.dc, self.relay = dc, relay
        self.next_user = 1000

    async def start(self) -> None:
        env = base_env(self.folder, self.relay.base_url) | {
            "DISCORD_BOT_TOKEN": TOKEN,
            "DISCORD_API_BASE_URL": self.dc.api_base_url,
            "DISCORD_SYNC_COMMANDS": "on",
            "MAX_CONCURRENT_DRAWS": "100",
        }
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bots", "discord", cwd=self.folder, env=env,
                stdout=log, stderr=log,
            )  # fmt: skip
        await self.dc.wait_ready(within=30)
        await self.dc.wait_for_sync(within=30)

    async def draw(self, users: int, label: str) -> None:
        """`users` distinct users /draw at once in their DMs; wait for every picture."""
        asked = []
        for index in range(users):
            self.next_user += 1
            prompt = f"{label} user {index} --seed {BENCH_SEED}"
            asked.append(
                self.dc.dm_slash_command("draw", {"prompt": prompt}, user_id=self.next_user)
            )

        def done() -> bool:
            self.exited()
            return all(any(m.files for m in i.answers) for i in asked)

        await wait_for(done, within=120, what=f"{users} pictures ({label})")

    async def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 40)


async def bench(folder: Path, realistic: bool = False) -> int:
    if realistic:
        for side in BENCH_SIDES:
            make_photo(side, side, BENCH_SEED)
    kind = "photographic PNGs" if realistic else "gradient PNGs"
    print(f"images: {kind}, {image_sizes(realistic)}")
    async with (
        FakeDiscord(token=TOKEN, application_id=1001, bot_user_id=1001) as dc,
        FakeRelay(api_key=API_KEY, latency=RELAY_LATENCY, realistic=realistic) as relay,
    ):
        bot = Bot(dc, relay, folder)
        try:
            await bot.start()
            print(f"bot child ready (RSS {bot.memory_mb('VmRSS'):.0f} MB)")
            await bot.draw(1, "warm-up")
            for users, repeats in ((1, 10), (10, 20)):
                before = bot.cpu_seconds()
                for repeat in range(repeats):
                    await bot.draw(users, f"round-{users}-{repeat}")
                per_draw = (bot.cpu_seconds() - before) * 1000 / users / repeats
                print(f"bot CPU per draw at {users:>2} users: {per_draw:.1f} ms ({repeats} rounds)")
            before_peak = bot.memory_mb("VmHWM")
            await bot.draw(100, "memory")
            peak = bot.memory_mb("VmHWM")
            print(
                f"bot peak memory (VmHWM) with 100 draws in flight: {peak:.0f} MB "
                f"(before the round {before_peak:.0f} MB; target < 250 MB)"
            )
            code = await bot.stop()
        finally:
            bot.kill()
        print(f"SIGTERM: the bot exited with code {code} (expected 0)")
        if dc.internal_errors:
            print(f"FakeDiscord internal errors: {dc.internal_errors!r}")
    return code


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        code = asyncio.run(bench(Path(tmp), "--realistic" in sys.argv[1:]))
    sys.exit(0 if code == 0 else 1)


if __name__ == "__main__":
    main()
