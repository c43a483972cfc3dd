"""`python -m bots` as operators run it: both adapters in one process, /healthz, JSON logs,
and SIGTERM with a draw in flight (it finishes, the process exits 0, nothing stays pending)."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.bots.conftest import TG_TOKEN
from tests.conftest import API_KEY, child_env
from tests.fakes.base import wait_for
from tests.fakes.discord import FakeDiscord
from tests.fakes.relay import FakeRelay
from tests.fakes.telegram import FakeTelegram

DISCORD_TOKEN = "discord-process-test-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=DISCORD_TOKEN, application_id=1001, bot_user_id=1001) as fake:
        fake.add_guild(guild_id=10, name="Test", channel_ids=[20])
        yield fake
    assert fake.internal_errors == []


async def healthz(port: int, within: float = 10) -> dict[str, object]:
    """/healthz's body once it answers 200 with the adapters listed."""
    async with aiohttp.ClientSession() as http:

        async def probe() -> dict[str, object] | None:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    body: dict[str, object] = await response.json()
                    return body if response.status == 200 and body["adapters"] else None
            except aiohttp.ClientError:
                return None

        return await wait_for(probe, within, "/healthz to answer")


async def test_both_adapters_in_one_process_and_a_graceful_stop(
    tg: FakeTelegram, dc: FakeDiscord, relay: FakeRelay, tmp_path: Path
) -> None:
    port = free_port()
    database = tmp_path / "data" / "bot.db"
    env = child_env(
        YUNAPI_BASE_URL=relay.base_url,
        YUNAPI_API_KEY=API_KEY,
        TELEGRAM_BOT_TOKEN=TG_TOKEN,
        TELEGRAM_API_BASE_URL=f"{tg.base_url}/bot",
        DISCORD_BOT_TOKEN=DISCORD_TOKEN,
        DISCORD_API_BASE_URL=dc.api_base_url,
        DISCORD_SYNC_COMMANDS="on",
        DATABASE_PATH=str(database),
        IMAGE_DIR=str(tmp_path / "images"),
        HEALTH_PORT=str(port),
        LOG_FORMAT="json",
        SHUTDOWN_GRACE_SECONDS="10",
        DEFAULT_LANGUAGE="en",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await dc.wait_ready(within=20)
        health = await healthz(port)
        assert health["database"] is True and health["relay"] is True
        adapters = health["adapters"]
        assert isinstance(adapters, dict) and set(adapters) == {"telegram", "discord"}
        assert adapters["telegram"]["ok"] is True and adapters["telegram"]["signal"] == "getUpdates"
        assert (
            adapters["discord"]["ok"] is True and adapters["discord"]["signal"] == "heartbeat_ack"
        )

        tg.user_sends(text="/draw a telegram cat", user_id=1)
        await tg.wait_for_sent(lambda m: m.kind == "photo", within=20)
        await dc.wait_for_sync(within=20)
        asked = dc.slash_command("draw", {"prompt": "a discord cat"}, user_id=5)
        reply = await dc.wait_for_response(asked, 20, predicate=lambda m: bool(m.files))
        assert reply.files

        relay.latency = 1.5  # a draw still running when SIGTERM arrives
        tg.user_sends(text="/draw a slow cat", user_id=2)
        await wait_for(lambda: relay.in_flight, 4, "the slow draw to start")
        process.terminate()
        await tg.wait_for_sent(lambda m: m.kind == "photo" and m.chat_id == 2, within=20)
    finally:
        if process.returncode is None:
            process.terminate()
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()

    lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert lines and {"time", "level", "logger", "message"} <= set(lines[0])
    reserved = [line["message"] for line in lines if " reserved generation=" in line["message"]]
    assert any("source=telegram:1:" in message for message in reserved)
    logs = (out + err).decode()
    assert TG_TOKEN not in logs and DISCORD_TOKEN not in logs and API_KEY not in logs

    with sqlite3.connect(database) as db:
        statuses = dict(db.execute("SELECT platform, COUNT(*) FROM generations GROUP BY 1"))
        pending = db.execute("SELECT COUNT(*) FROM generations WHERE status = 'pending'")
        assert statuses == {"telegram": 2, "discord": 1}
        assert pending.fetchone()[0] == 0
