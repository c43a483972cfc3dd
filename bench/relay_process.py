"""Run the fake relay in its own process (so its memory and CPU are not the bot's)."""

from __future__ import annotations

import asyncio
import sys

from tests.fakes.relay import FakeRelay


async def main(latency: float) -> None:
    async with FakeRelay(api_key="bench-key", latency=latency) as relay:
        print(relay.base_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0))
