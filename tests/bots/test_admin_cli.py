"""`python -m bots admin ...` as a real subprocess on a real database file."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bots.admin_cli import operator_language
from core.config import Settings
from core.outcome import Delivered
from core.params import DrawParams
from core.request import Place, Requester
from core.root import Core
from core.store import Store
from tests.conftest import API_KEY, child_env
from tests.fakes.discord import FakeDiscord
from tests.fakes.relay import FakeRelay

ANN = Requester("telegram", "5", "Ann", "en")
ANN_DM = Place("telegram", "5")
RELAY = ("YUNAPI_BASE_URL", "YUNAPI_API_KEY")
CJK = re.compile(r"[\u4e00-\u9fff]")


def run_bots(
    env: dict[str, str], *args: str, drop: tuple[str, ...] = (), **extra: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bots <args>` against the test's database (blocking: the bot is 'down');
    `drop` leaves settings out, `extra` adds some (LANG, ...)."""
    values = {k: v for k, v in env.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "-m", "bots", *args],
        cwd=env["DATABASE_PATH"].rsplit("/", 2)[0],
        env=child_env(**values, **extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def admin(
    env: dict[str, str], *args: str, drop: tuple[str, ...] = (), **extra: str
) -> subprocess.CompletedProcess[str]:
    return run_bots(env, "admin", *args, drop=drop, **extra)


def read_store(env: dict[str, str], table: str, key: str) -> dict[str, object] | None:
    """One row of `users` or `chats`, read straight from the file."""
    with contextlib.closing(sqlite3.connect(env["DATABASE_PATH"])) as db:
        db.row_factory = sqlite3.Row
        row = db.execute(f"SELECT * FROM {table} WHERE key = ?", [key]).fetchone()
        return None if row is None else dict(row)


async def draw_once(settings: Settings) -> None:
    async with Core.open(settings, ["telegram"]) as core:
        assert isinstance(await core.service.draw(ANN, ANN_DM, DrawParams("a fox")), Delivered)


async def test_admin_cli_changes_what_the_bot_does(
    env: dict[str, str], settings: Settings, relay: FakeRelay
) -> None:
    await draw_once(settings)

    banned = admin(env, "ban", "telegram:5", "spam")
    assert banned.returncode == 0, banned.stderr
    assert banned.stdout.strip() == "telegram:5 is banned (spam): they can no longer draw."
    history = admin(env, "history", "telegram:5")
    assert "#1 " in history.stdout and "· sending · 512x512 ·" in history.stdout
    assert "a fox" in history.stdout
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
    assert forgot.returncode == 0 and "deleted (drawings: 1)" in forgot.stdout
    assert "a fox" not in admin(env, "history", "telegram:5").stdout


# -- without relay settings ---------------------------------------------------------------


def test_admin_stats_works_with_no_relay_settings(env: dict[str, str]) -> None:
    stats = admin(env, "stats", drop=RELAY)
    assert stats.returncode == 0, stats.stderr
    assert stats.stdout.startswith("Today: 0 images") and stats.stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ["ban", "telegram:7", "spam"],
        ["unban", "telegram:7"],
        ["limit-user", "discord:7", "4"],
        ["limit-chat", "telegram:-1007", "9"],
        ["limit-member", "discord:7", "default"],
        ["cooldown", "telegram:-1007", "30"],
        ["enable", "telegram:-1007"],
        ["disable", "discord:7"],
        ["history", "console:root", "5"],
        ["forget", "console:root"],
    ],
)
def test_database_commands_need_no_relay_settings(env: dict[str, str], args: list[str]) -> None:
    """Even a relay setting copied in with a wrong value does not stop them."""
    result = admin(env, *args, drop=RELAY, YUNAPI_T2I_PATH="no-slash")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() and result.stderr == ""


def test_balance_without_relay_settings_says_what_to_set(env: dict[str, str]) -> None:
    result = admin(env, "balance", drop=RELAY)
    assert result.returncode == 2
    assert "YUNAPI_BASE_URL and YUNAPI_API_KEY" in result.stderr
    assert "the other commands do not" in result.stderr and "Traceback" not in result.stderr


async def test_balance_reads_the_relays_billing(env: dict[str, str], relay: FakeRelay) -> None:
    """new-api's billing answers carry neither `code` nor `data`: they are read, not taken
    for a failing relay."""
    relay.billing.granted, relay.billing.used_cents = 50.0, 1234
    result = await asyncio.to_thread(admin, env, "balance")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Relay balance: 37.66 left of 50.00 (used 12.34)."
    relay.billing.granted = None  # a relay without billing
    result = await asyncio.to_thread(admin, env, "balance")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert API_KEY not in result.stdout + result.stderr
    assert "37.66" not in result.stdout and result.stdout.strip()


# -- refusals: what is wrong and what is allowed -------------------------------------------


@pytest.mark.parametrize(
    ("args", "problem", "allowed"),
    [
        (
            ["limit-user", "console:root", "-3"],
            "'-3' is not allowed for limit-user",
            "0 to 1000000",
        ),
        (["limit-user", "telegram:abc", "5"], "'telegram:abc' is not a user", "telegram:<digits>"),
        (["ban", "12345"], "'12345' is not a user", "console:<name>"),
        (["unban", "slack:5"], "'slack:5' is not a user", "discord:<digits>"),
        (["limit-chat", "discord:-5", "3"], "'discord:-5' is not a chat", "discord:<server id>"),
        (["enable", "console:root"], "'console:root' is not a chat", "telegram:<digits>"),
        (["limit-chat", "telegram:-100", "0"], "'0' is not allowed", "1 to 1000000, or default"),
        (["limit-member", "telegram:-100", "lots"], "'lots' is not allowed", "or default"),
        (["cooldown", "telegram:-100", "90000"], "'90000' is not allowed", "1 to 86400"),
        (["history", "telegram:5", "0"], "'0' is not a number of drawings", "1 to 1000"),
        (["limit-user", "telegram:5"], "limit-user needs a number or default", "<n|default>"),
        (["ban"], "ban needs a user", "console:<name>"),
        (["unban", "telegram:5", "now"], "takes nothing after 'telegram:5'", "unban <user>"),
        (["stats", "today"], "stats takes no arguments", "admin stats"),
    ],
)
def test_bad_input_names_the_fault_and_exits_2(
    env: dict[str, str], args: list[str], problem: str, allowed: str
) -> None:
    result = admin(env, *args)
    assert result.returncode == 2 and result.stdout == ""
    assert problem in result.stderr and allowed in result.stderr
    assert "write it as: python -m bots admin " + args[0] in result.stderr
    assert "Traceback" not in result.stderr and API_KEY not in result.stderr
    assert not Path(env["DATABASE_PATH"]).exists()  # refused before the database was opened


def test_ids_and_numbers_are_read_as_people_type_them(env: dict[str, str]) -> None:
    assert admin(env, "limit-user", "Telegram:１２", "７").returncode == 0
    user = read_store(env, "users", "telegram:12")
    assert user is not None and user["daily_limit"] == 7
    assert admin(env, "limit-user", "telegram:12", "default").returncode == 0
    user = read_store(env, "users", "telegram:12")
    assert user is not None and user["daily_limit"] is None
    assert admin(env, "cooldown", "telegram:-1001234", "45").returncode == 0
    chat = read_store(env, "chats", "telegram:-1001234")
    assert chat is not None and chat["cooldown_seconds"] == 45
    unlimited = admin(env, "limit-user", "console:root", "0")
    assert unlimited.stdout.strip() == "console:root now has no daily limit."


def test_an_unknown_command_suggests_the_nearest(env: dict[str, str]) -> None:
    result = admin(env, "stat")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "drawbot admin: unknown command 'stat'; did you mean stats?"
    assert "usage: python -m bots admin <command>" in result.stderr
    assert "commands: ban, unban, limit-user" in result.stderr and len(lines) <= 6
    nothing_near = admin(env, "frobnicate")
    assert nothing_near.returncode == 2
    assert nothing_near.stderr.startswith("drawbot admin: unknown command 'frobnicate'.\n")


def test_help_and_no_command(env: dict[str, str]) -> None:
    for args in (["help"], ["--help"], ["ban", "--help"]):
        helped = admin(env, *args)
        assert helped.returncode == 0 and "limit-member <chat> <n|default>" in helped.stdout
    bare = admin(env)
    assert bare.returncode == 2 and "name a command" in bare.stderr
    assert "usage: python -m bots admin" in bare.stderr


# -- one language per run ------------------------------------------------------------------


async def test_a_chinese_locale_gets_every_line_in_chinese(
    env: dict[str, str], settings: Settings, relay: FakeRelay
) -> None:
    await draw_once(settings)
    runs = [
        admin(env, "stats", LANG="zh_CN.UTF-8"),
        admin(env, "history", "telegram:5", LANG="zh_CN.UTF-8"),
        admin(env, "ban", "telegram:5", LC_ALL="zh_TW.UTF-8"),
        admin(env, "limit-user", "console:root", "-3", LC_MESSAGES="zh_CN"),
        admin(env, "frobnicate", LANG="zh_CN.UTF-8"),
        admin(env, "help", LANG="zh_CN.UTF-8"),
        admin(env, "balance", drop=RELAY, LANG="zh_CN.UTF-8"),
    ]
    for result in runs:
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        assert lines and all(CJK.search(line) for line in lines), result.stdout + result.stderr
    assert "种子" in runs[1].stdout and "发送中" in runs[1].stdout


@pytest.mark.parametrize(
    ("locale", "default", "expected"),
    [
        ({}, None, "en"),
        ({}, "zh", "zh"),
        ({"LANG": "C.UTF-8"}, "zh", "zh"),
        ({"LANG": "en_US.UTF-8"}, "zh", "en"),
        ({"LANG": "zh_CN.UTF-8"}, "en", "zh"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.UTF-8"}, "en", "zh"),
    ],
)
def test_the_run_speaks_the_locale_else_default_language(
    env: dict[str, str], locale: dict[str, str], default: str | None, expected: str
) -> None:
    values = {**env, "DEFAULT_LANGUAGE": default} if default else env
    result = admin(values, "stats", drop=() if default else ("DEFAULT_LANGUAGE",), **locale)
    assert result.returncode == 0, result.stderr
    assert bool(CJK.search(result.stdout)) == (expected == "zh")
    assert all(bool(CJK.search(line)) == (expected == "zh") for line in result.stdout.splitlines())


def test_default_language_is_read_from_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DEFAULT_LANGUAGE=zh\n")
    assert operator_language({}, tmp_path / ".env") == "zh"
    assert operator_language({"LANG": "en_GB.UTF-8"}, tmp_path / ".env") == "en"
    assert operator_language({"DEFAULT_LANGUAGE": "fr"}, None) == "en"


# -- discord-sync -------------------------------------------------------------------------


def test_discord_sync_without_a_token_says_what_to_set(env: dict[str, str]) -> None:
    result = run_bots(env, "discord-sync", drop=RELAY)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "DISCORD_BOT_TOKEN is required for `python -m bots discord-sync`" in result.stderr
    assert "YUNAPI" not in result.stderr.split("\n")[0]


async def test_discord_sync_needs_no_relay_settings(env: dict[str, str]) -> None:
    token = "MTAwMQ.discord-bot-token.SECRET-0123456789abcdef"
    async with FakeDiscord(token=token, application_id=1001) as dc:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bots",
            "discord-sync",
            cwd=env["DATABASE_PATH"].rsplit("/", 2)[0],
            env=child_env(
                **{k: v for k, v in env.items() if k not in RELAY},
                DISCORD_BOT_TOKEN=token,
                DISCORD_API_BASE_URL=dc.api_base_url,
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0, err.decode()
    assert out.decode().startswith("drawbot: synced ") and len(dc.sync_calls) == 1
