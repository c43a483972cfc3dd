"""CPU per Bot API call of python-telegram-bot's request classes, alone.

`.venv/bin/python -m bench.ptb_request [--calls N]`: a bare Bot API answerer runs in a child
process (aiohttp, canned answers); this process calls it through `telegram.Bot` with each
request class in turn (HTTPXRequest on our httpx-aiohttp transport, as the bot used before
bots/telegram/request.py; AiohttpRequest, what it uses now) and reads its own CPU
(time.process_time) per sendChatAction (10 at a time) and per sendPhoto of a 4.19 MB upload
(4 at a time). Alternating rounds, the median of each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import socket
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
from aiohttp import web
from telegram import Bot
from telegram.request import BaseRequest, HTTPXRequest

from bots.telegram.request import AiohttpRequest
from core.http import fast_transport

TOKEN = "123:ABC"
USER = {"id": 1, "is_bot": True, "first_name": "bench", "username": "bench_bot"}
PHOTO = {"file_id": "f", "file_unique_id": "u", "width": 1536, "height": 1536}
MESSAGE = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "photo": [PHOTO]}


def serve(port: int) -> None:
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        method = request.match_info["method"]
        result: Any = {"getMe": USER, "sendPhoto": MESSAGE}.get(method, True)
        return web.json_response({"ok": True, "result": result})

    app = web.Application(client_max_size=64 * 2**20)
    app.router.add_post(f"/bot{TOKEN}/{{method}}", answer)
    web.run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=True)


def httpx_request() -> BaseRequest:
    transport = fast_transport(httpx.Limits(max_connections=256), None)
    return HTTPXRequest(
        connection_pool_size=256, pool_timeout=10.0, httpx_kwargs={"transport": transport}
    )


def aiohttp_request() -> BaseRequest:
    return AiohttpRequest(pool=256, pool_timeout=10.0)


async def cpu_per_call(bot: Bot, make: Callable[[], Any], at_once: int, rounds: int) -> float:
    """Milliseconds of this process's CPU per call, `at_once` calls at a time."""
    start = time.process_time()
    for _ in range(rounds):
        await asyncio.gather(*(make() for _ in range(at_once)))
    return (time.process_time() - start) * 1000 / (at_once * rounds)


async def measure(port: int, calls: int) -> None:
    from tests.fakes.photo import make_photo

    picture = make_photo(1536, 1536, seed=1)
    base = f"http://127.0.0.1:{port}/bot"
    kinds: dict[str, Callable[[], BaseRequest]] = {
        "HTTPXRequest + httpx-aiohttp": httpx_request,
        "AiohttpRequest": aiohttp_request,
    }
    figures: dict[tuple[str, str], list[float]] = {}
    for _ in range(3):
        for name, make in kinds.items():
            bot = Bot(TOKEN, base_url=base, request=make())
            async with bot:
                await bot.send_chat_action(1, "typing")  # warm the pool
                action = await cpu_per_call(
                    bot, lambda b=bot: b.send_chat_action(1, "upload_photo"), 10, calls // 10
                )
                photo = await cpu_per_call(
                    bot, lambda b=bot: b.send_photo(1, photo=picture), 4, max(1, calls // 40)
                )
            figures.setdefault((name, "sendChatAction"), []).append(action)
            figures.setdefault((name, "sendPhoto 4.19 MB"), []).append(photo)
    print(f"picture {len(picture) / 1e6:.2f} MB; {calls} calls per round, 3 rounds")
    for (name, call), values in figures.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:30} {call:18} {statistics.median(values):6.2f} ms CPU/call ({runs})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    port = 18000 + (int(time.time()) % 1000)
    child = multiprocessing.Process(target=serve, args=(port,), daemon=True)
    child.start()
    try:
        while True:  # until the child listens
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
        asyncio.run(measure(port, args.calls))
    finally:
        child.terminate()
        child.join()


if __name__ == "__main__":
    main()
