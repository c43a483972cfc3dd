"""Liveness: an adapter whose platform stops answering is retried, or stops the process with
one clear line, and /healthz tells a deaf adapter from a live one.

Real python-telegram-bot and discord.py against the fakes; `python -m bots` in a subprocess
where the exit status is the point.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest

from bots.discord import DrawbotClient, serve
from bots.liveness import AdapterDied
from bots.telegram import run
from bots.telegram.liveness import PollTimings
from bots.web import WebServer
from core.config import Settings
from core.root import Core
from tests.bots.conftest import TG_TOKEN, polling_now
from tests.conftest import API_KEY, child_env
from tests.fakes.base import wait_for
from tests.fakes.discord import DiscordPyTargets, FakeDiscord, reset_discord_py
from tests.fakes.relay import FakeRelay
from tests.fakes.telegram import FakeTelegram

DC_TOKEN = "MTAwMQ.discord-liveness-token.SECRET-0123456789abcdef"
QUICK = PollTimings(retry_delays=(0.05, 0.05))  # three refusals in a row stop the adapter


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def web(tg_core: Core) -> AsyncIterator[WebServer]:
    server = WebServer(tg_core, free_port(), host="127.0.0.1")
    await server.start()
    yield server
    await server.stop()


async def health(web: WebServer) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{web.port}/healthz") as response,
    ):
        return response.status, await response.json()


async def health_until(web: WebServer, status: int, what: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        got, body = await health(web)
        return body if got == status else None

    return await wait_for(probe, 10, what)


@contextlib.asynccontextmanager
async def telegram(
    core: Core, tg: FakeTelegram, web: WebServer, timings: PollTimings
) -> AsyncIterator[tuple[asyncio.Task[None], asyncio.Event]]:
    """The Telegram adapter's `run` polling with `timings`; stopped like SIGTERM at the end."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(core, stop, web, timings=timings))
    try:
        await wait_for(lambda: polling_now(tg) or task.done(), 10, "the adapter to poll")
        yield task, stop
    finally:
        stop.set()
        with contextlib.suppress(AdapterDied):
            await asyncio.wait_for(task, 10)


def refusals(tg: FakeTelegram) -> int:
    return sum(1 for call in tg.calls_of("getUpdates") if call.status == 401)


# -- Telegram, in process ---------------------------------------------------------------------


async def test_one_refused_poll_is_retried_and_polling_resumes(
    tg_core: Core, tg: FakeTelegram, web: WebServer
) -> None:
    async with telegram(tg_core, tg, web, QUICK) as (task, _):
        tg.fail_get_updates(status=401, times=1)
        await wait_for(lambda: refusals(tg) == 1, 10, "the refused getUpdates")

        tg.user_sends(text="/draw a cat after a 401", user_id=1)
        await tg.wait_for_sent(lambda m: m.kind == "photo" and m.chat_id == 1, within=10)
        body = await health_until(web, 200, "/healthz to be green again")
        assert not task.done()
    report = body["adapters"]["telegram"]
    assert report["ok"] is True and report["up"] is True
    assert report["signal"] == "getUpdates"
    assert 0 <= report["age_seconds"] < report["stale_after_seconds"] == 90
    assert task.exception() is None  # the stop was clean


async def test_a_404_is_a_refusal_too(tg_core: Core, tg: FakeTelegram, web: WebServer) -> None:
    async with telegram(tg_core, tg, web, QUICK):
        tg.fail_get_updates(status=404, times=2)
        tg.user_sends(text="/draw a cat after two 404s", user_id=3)
        await tg.wait_for_sent(lambda m: m.kind == "photo" and m.chat_id == 3, within=10)
    assert sum(1 for c in tg.calls_of("getUpdates") if c.status == 404) == 2


async def test_a_lasting_refusal_stops_the_adapter_and_healthz_answers_503(
    tg_core: Core, tg: FakeTelegram, web: WebServer
) -> None:
    async with telegram(tg_core, tg, web, QUICK) as (task, _):
        tg.fail_get_updates(status=401, times=None)
        with pytest.raises(AdapterDied) as died:
            await asyncio.wait_for(asyncio.shield(task), 10)
        body = await health_until(web, 503, "/healthz to turn red")

    message = str(died.value)
    assert "getUpdates" in message and "401" in message and "TELEGRAM_BOT_TOKEN" in message
    assert "\n" not in message and TG_TOKEN not in message
    assert refusals(tg) >= len(QUICK.retry_delays) + 1
    assert body["ok"] is False and body["database"] is True
    assert body["adapters"]["telegram"]["up"] is False
    assert body["adapters"]["telegram"]["ok"] is False


async def test_healthz_is_503_while_polls_are_refused_and_stop_stays_clean(
    tg_core: Core, tg: FakeTelegram, web: WebServer
) -> None:
    slow = PollTimings(retry_delays=(60.0,), stale_after=0.3)  # refused, waiting to retry
    async with telegram(tg_core, tg, web, slow) as (task, stop):
        tg.fail_get_updates(status=401, times=None)
        await wait_for(lambda: refusals(tg) >= 1, 10, "a refused getUpdates")
        body = await health_until(web, 503, "/healthz to see polling go stale")
        assert not task.done()
        stop.set()  # SIGTERM while polling is refused
        await asyncio.wait_for(task, 10)

    report = body["adapters"]["telegram"]
    assert report == {
        "ok": False,
        "up": True,
        "signal": "getUpdates",
        "age_seconds": report["age_seconds"],
        "stale_after_seconds": 0.3,
    }
    assert report["age_seconds"] >= 0.3
    assert body["database"] is True and "draws_in_flight" in body
    status, after = await health(web)
    assert status == 503 and after["adapters"]["telegram"]["up"] is False


# -- Telegram, the process ------------------------------------------------------------------


def not_logs(err: bytes) -> list[str]:
    """stderr lines that are not JSON log records."""
    return [line for line in err.decode().splitlines() if line and not line.startswith("{")]


async def start_bots(tmp_path: Path, mode: str, **settings: str) -> asyncio.subprocess.Process:
    env = child_env(
        DATABASE_PATH=str(tmp_path / "data" / "bot.db"),
        IMAGE_DIR=str(tmp_path / "images"),
        LOG_FORMAT="json",
        DEFAULT_LANGUAGE="en",
        **settings,
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        mode,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finished(process: asyncio.subprocess.Process, within: float) -> tuple[bytes, bytes]:
    try:
        return await asyncio.wait_for(process.communicate(), within)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_the_process_exits_non_zero_when_telegram_keeps_refusing_polls(
    tg: FakeTelegram, relay: FakeRelay, tmp_path: Path
) -> None:
    """With the default timings: six refusals over ~31 s, then exit 1 and one line."""
    process = await start_bots(
        tmp_path,
        "telegram",
        YUNAPI_BASE_URL=relay.base_url,
        YUNAPI_API_KEY=API_KEY,
        TELEGRAM_BOT_TOKEN=TG_TOKEN,
        TELEGRAM_API_BASE_URL=f"{tg.base_url}/bot",
    )
    try:
        await wait_for(lambda: polling_now(tg), 20, "the bot to poll")
    finally:
        tg.fail_get_updates(status=401, times=None)
    out, err = await finished(process, 90)

    assert process.returncode == 1, err.decode()
    assert refusals(tg) >= 6
    [line] = not_logs(err)
    assert line.startswith("drawbot: the telegram adapter stopped: Telegram refused getUpdates")
    assert "401" in line and "TELEGRAM_BOT_TOKEN" in line
    records = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert not any("exception" in record for record in records)  # no traceback anywhere
    assert "still running" not in err.decode()
    assert TG_TOKEN not in (out + err).decode()


# -- Discord ----------------------------------------------------------------------------------


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    saved = DiscordPyTargets(
        discord.http.Route.BASE, str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    )
    async with FakeDiscord(token=DC_TOKEN, application_id=1001) as fake:
        fake.add_guild(10, "Test", [20])
        try:
            yield fake
        finally:
            reset_discord_py(saved)
    assert fake.internal_errors == []


@pytest.fixture
async def dc_core(env: dict[str, str], dc: FakeDiscord) -> AsyncIterator[Core]:
    values = {**env, "DISCORD_BOT_TOKEN": DC_TOKEN, "DISCORD_API_BASE_URL": dc.api_base_url}
    async with Core.open(Settings.load(environ=values, env_file=None), ["discord"]) as core:
        yield core


@contextlib.asynccontextmanager
async def discord_adapter(
    core: Core, dc: FakeDiscord, web: WebServer
) -> AsyncIterator[tuple[DrawbotClient, asyncio.Task[None]]]:
    client = DrawbotClient(core, guild_ready_timeout=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(client, stop, web))
    try:
        await dc.wait_ready(within=10)
        await asyncio.wait_for(client.wait_until_ready(), 10)
        yield client, task
    finally:
        stop.set()
        with contextlib.suppress(AdapterDied):
            await asyncio.wait_for(task, 10)


async def test_discord_reconnects_from_a_transient_close_and_reports_heartbeats(
    dc_core: Core, dc: FakeDiscord
) -> None:
    web = WebServer(dc_core, free_port(), host="127.0.0.1")
    await web.start()
    try:
        async with discord_adapter(dc_core, dc, web) as (_, task):
            body = await health_until(web, 200, "/healthz to see Discord up")
            dc.disconnect_clients(4000)  # discord.py resumes
            await wait_for(lambda: dc.resume_count >= 1, 10, "the client to resume")
            assert not task.done()
            await health_until(web, 200, "/healthz to stay green")
        assert task.exception() is None
    finally:
        await web.stop()
    report = body["adapters"]["discord"]
    assert report["ok"] is True and report["up"] is True
    assert report["signal"] == "heartbeat_ack"
    assert 0 <= report["age_seconds"] < report["stale_after_seconds"] == 90


@pytest.mark.parametrize(
    ("code", "names"), [(4004, "DISCORD_BOT_TOKEN"), (4014, "privileged intent")]
)
async def test_a_gateway_closed_for_good_stops_the_discord_adapter(
    dc_core: Core, dc: FakeDiscord, code: int, names: str
) -> None:
    web = WebServer(dc_core, free_port(), host="127.0.0.1")
    await web.start()
    try:
        async with discord_adapter(dc_core, dc, web) as (_, task):
            dc.disconnect_clients(code)
            with pytest.raises(AdapterDied) as died:
                await asyncio.wait_for(asyncio.shield(task), 10)
            status, body = await health(web)
    finally:
        await web.stop()
    message = str(died.value)
    assert f"code {code}" in message and names in message
    assert "\n" not in message and DC_TOKEN not in message
    assert status == 503 and body["adapters"]["discord"]["up"] is False


async def test_the_process_exits_non_zero_when_discord_closes_the_gateway_for_good(
    dc: FakeDiscord, relay: FakeRelay, tmp_path: Path
) -> None:
    process = await start_bots(
        tmp_path,
        "discord",
        YUNAPI_BASE_URL=relay.base_url,
        YUNAPI_API_KEY=API_KEY,
        DISCORD_BOT_TOKEN=DC_TOKEN,
        DISCORD_API_BASE_URL=dc.api_base_url,
    )
    try:
        await dc.wait_ready(within=20)
    finally:
        dc.disconnect_clients(4004)
    out, err = await finished(process, 30)

    assert process.returncode == 1, err.decode()
    [line] = not_logs(err)
    assert line.startswith("drawbot: the discord adapter stopped: Discord closed the gateway")
    assert "4004" in line and "DISCORD_BOT_TOKEN" in line
    records = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert not any("exception" in record for record in records)
    assert DC_TOKEN not in (out + err).decode()
