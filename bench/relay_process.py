"""Run the fake relay in its own process (so its memory and CPU are not the bot's).

Arguments: `[latency] [--realistic]`: the relay's latency in seconds (default 1), and whether
it serves photographic-like pictures of realistic size (`tests.fakes.photo`; the ones the
benches ask for, seed 7 at 1024x1024 and 1536x1536, are made before the URL is printed) instead
of small gradient PNGs.

Prints its base URL, then serves until stdin closes; meanwhile each line on stdin is a command,
answered with one line on stdout:

- `limit N` (or `limit none`): the relay's concurrency limit (FakeRelay.concurrency_limit:
  beyond N draws at once it answers 50430); answers `ok`.
- `stats`: a JSON object: calls, pushed_back (50430 answers), drawing now, max_concurrency_seen.

When stdin closes it prints one JSON object: for each prompt, the relay's own time for that
call (from receiving the request to finishing the answer).
"""

from __future__ import annotations

import asyncio
import json
import sys

from tests.fakes.photo import make_photo
from tests.fakes.relay import FakeRelay

BENCH_SIDES = (1024, 1536)  # what 512 and 768 become with super-resolution
BENCH_SEED = 7


def command(relay: FakeRelay, line: str) -> str:
    """Carry out one stdin command; the line to answer."""
    match line.split():
        case ["limit", value]:
            relay.concurrency_limit = None if value == "none" else int(value)
            return "ok"
        case ["stats"]:
            return json.dumps(
                {
                    "calls": len(relay.calls),
                    "pushed_back": relay.pushed_back,
                    "drawing": relay.drawing,
                    "max_concurrency_seen": relay.max_concurrency_seen,
                }
            )
        case _:
            return json.dumps({"error": f"unknown command {line!r}"})


async def main(latency: float, realistic: bool) -> None:
    loop = asyncio.get_running_loop()
    if realistic:
        for side in BENCH_SIDES:
            make_photo(side, side, BENCH_SEED)
    async with FakeRelay(api_key="bench-key", latency=latency, realistic=realistic) as relay:
        print(relay.base_url, flush=True)
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip():
                print(command(relay, line), flush=True)
        own = {
            call.body["prompt"]: call.finished_at - call.started_at
            for call in relay.calls
            if isinstance(call.body, dict) and call.finished_at is not None
        }
    print(json.dumps(own), flush=True)


if __name__ == "__main__":
    args = [arg for arg in sys.argv[1:] if arg != "--realistic"]
    asyncio.run(main(float(args[0]) if args else 1.0, "--realistic" in sys.argv[1:]))
