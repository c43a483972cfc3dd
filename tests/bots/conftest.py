"""Telegram fixtures: a FakeTelegram, settings and a Core pointed at it, the running adapter.

Built on the shared `env` fixture (tests/conftest.py), so `@pytest.mark.env(...)` works here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bots.telegram import run
from bots.web import WebServer
from core.config import Settings
from core.root import Core
from tests.fakes.base import wait_for
from tests.fakes.telegram import FakeTelegram

# Shaped like a real token, so the log test also catches the scrubber's pattern.
TG_TOKEN = "7312345678:AAHk3vQx9ZpL2mN8rT5wY1uI4oE6aS7dF0g"
TG_BOT = "drawbot_test_bot"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TG_TOKEN, bot_username=TG_BOT) as fake:
        yield fake
    assert fake.internal_errors == []


@pytest.fixture
def tg_env(env: dict[str, str], tg: FakeTelegram) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TG_TOKEN, "TELEGRAM_API_BASE_URL": f"{tg.base_url}/bot", **env}


@pytest.fixture
def tg_settings(tg_env: dict[str, str]) -> Settings:
    return Settings.load(environ=tg_env, env_file=None)


@contextlib.asynccontextmanager
async def open_core(settings: Settings) -> AsyncIterator[Core]:
    """Core.open with quick relay retries (the tests script whole retry sequences)."""
    async with Core.open(settings, ["telegram"]) as core:
        # relay retries are instant: stamina test mode, tests/conftest.py fast_retries
        yield core


@pytest.fixture
async def tg_core(tg_settings: Settings) -> AsyncIterator[Core]:
    async with open_core(tg_settings) as core:
        yield core


def polling_now(tg: FakeTelegram) -> bool:
    return any(c.status is None for c in tg.calls_of("getUpdates"))


@contextlib.asynccontextmanager
async def running(
    core: Core, tg: FakeTelegram, web: WebServer | None = None
) -> AsyncIterator[asyncio.Task[None]]:
    """The adapter's `run` in a task, until the block ends (then stopped like SIGTERM would)."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(core, stop, web))

    def started() -> bool:
        if task.done():
            task.result()  # raise the start-up failure
        return bool(web.ready.get("telegram")) if web is not None else polling_now(tg)

    await wait_for(started, 10, "the adapter to start")
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def tg_bot(tg_core: Core, tg: FakeTelegram) -> AsyncIterator[Core]:
    """The adapter running with long polling; yields its Core."""
    async with running(tg_core, tg):
        yield tg_core
