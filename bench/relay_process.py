"""Run the fake relay in its own process (so its memory and CPU are not the bot's).

Prints its base URL, serves until stdin closes, then prints one JSON object: for each prompt,
the relay's own time for that call (from receiving the request to finishing the answer).
"""

from __future__ import annotations

import asyncio
import json
import sys

from tests.fakes.relay import FakeRelay


async def main(latency: float) -> None:
    async with FakeRelay(api_key="bench-key", latency=latency) as relay:
        print(relay.base_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        own = {
            call.body["prompt"]: call.finished_at - call.started_at
            for call in relay.calls
            if isinstance(call.body, dict) and call.finished_at is not None
        }
    print(json.dumps(own), flush=True)


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0))
