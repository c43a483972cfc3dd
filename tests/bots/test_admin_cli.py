"""`python -m bots admin ...` as a real subprocess on a real database file."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.config import Settings
from core.outcome import Delivered
from core.params import DrawParams
from core.request import Place, Requester
from core.root import Core
from core.store import Store
from tests.conftest import API_KEY, child_env
from tests.fakes.relay import FakeRelay

ANN = Requester("telegram", "5", "Ann", "en")
ANN_DM = Place("telegram", "5")


def admin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the operator CLI against the test's database (blocking: the bot is 'down')."""
    return subprocess.run(
        [sys.executable, "-m", "bots", "admin", *args],
        cwd=env["DATABASE_PATH"].rsplit("/", 2)[0],
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_admin_cli_changes_what_the_bot_does(
    env: dict[str, str], settings: Settings, relay: FakeRelay
) -> None:
    async with Core.open(settings, ["telegram"]) as core:
        assert isinstance(await core.service.draw(ANN, ANN_DM, DrawParams("a fox")), Delivered)

    banned = admin(env, "ban", "telegram:5", "spam")
    assert banned.returncode == 0 and banned.stdout.strip() == "ban: telegram:5"
    history = admin(env, "history", "telegram:5")
    assert "#1 generated 512x512" in history.stdout and "a fox" in history.stdout
    stats = admin(env, "stats")
    assert stats.returncode == 0 and "Ann (1)" in stats.stdout
    assert admin(env, "limit-member", "telegram:-100", "3").returncode == 0

    async with Core.open(settings, ["telegram"]) as core:
        outcome = await core.service.draw(ANN, ANN_DM, DrawParams("a fox"))
        assert not isinstance(outcome, Delivered) and outcome.reason == "banned"
        chat = await core.store.run(Store.chat, "telegram:-100")
        assert chat is not None and chat["user_daily_limit"] == 3

    assert admin(env, "unban", "telegram:5").returncode == 0
    forgot = admin(env, "forget", "telegram:5")
    assert forgot.returncode == 0 and "deleted" in forgot.stdout
    assert "a fox" not in admin(env, "history", "telegram:5").stdout


@pytest.mark.parametrize("args", [["ban"], ["limit-user", "telegram:5", "lots"], ["frobnicate"]])
def test_admin_cli_usage_errors_exit_2(env: dict[str, str], args: list[str]) -> None:
    result = admin(env, *args)
    assert result.returncode == 2
    assert "usage: python -m bots admin" in result.stderr
    assert "Traceback" not in result.stderr
    assert API_KEY not in result.stderr + result.stdout
