"""Text and admin commands, the command menu, errors, shutdown, webhook mode and logs."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bots.telegram import base_file_url, run, webhook_secret
from bots.web import WebServer
from core.config import SettingRejected, Settings
from core.root import Core
from tests.bots.conftest import TG_TOKEN, open_core, running
from tests.conftest import API_KEY, child_env
from tests.fakes.base import wait_for
from tests.fakes.relay import FakeRelay, Reply
from tests.fakes.telegram import FakeTelegram

GROUP = -1001234


async def reply_to(tg: FakeTelegram, text: str, user_id: int = 1, **where: object) -> str:
    """Send `text` as user `user_id` and return the bot's text answer."""
    since = len(tg.sent)
    tg.user_sends(text=text, user_id=user_id, **where)  # type: ignore[arg-type]
    sent = await tg.wait_for_sent(lambda m: m.kind == "text", since=since)
    return sent.text or ""


async def test_start_help_quota_history_forget(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    assert (await reply_to(tg, "/start", first_name="Ada")).startswith("Hi Ada! I draw pictures")
    assert (await reply_to(tg, "/help")).startswith("Commands:\n/draw <prompt> [options]")
    assert (await reply_to(tg, "/quota")).startswith("Today you have received 0 of 20 images")
    assert (
        await reply_to(tg, "/history") == "You have no drawings yet. Try /draw a cat in a spacesuit"
    )
    tg.user_sends(text="/draw a <cat> & a dog", user_id=1)
    await tg.wait_for_sent(lambda m: m.kind == "photo")
    history = await reply_to(tg, "/history")
    assert "#1" in history and "a <cat> & a dog" in history
    assert (await reply_to(tg, "/quota")).startswith("Today you have received 1 of 20 images")
    assert (await reply_to(tg, "/forget")).startswith("Done: your prompts and images are deleted")
    assert (await reply_to(tg, "/nonsense")).startswith("/nonsense is not a command")


async def test_redo_command(tg: FakeTelegram, relay: FakeRelay, tg_bot: Core) -> None:
    assert (await reply_to(tg, "/redo")).startswith("There is nothing to redo yet")
    tg.user_sends(text="/draw a cat --seed 5", user_id=1)
    await tg.wait_for_sent(lambda m: m.kind == "photo")
    tg.user_sends(text="/redo 1", user_id=1)
    again = await tg.wait_for_sent(lambda m: m.kind == "photo", since=2)
    assert again.visible_text is not None and "seed 5 · #2" in again.visible_text
    assert await reply_to(tg, "/redo 1", user_id=2) == "Drawing #1 was not found (or is not yours)."


@pytest.mark.parametrize("junk", ["abc", "../../etc/passwd"])
async def test_redo_of_something_not_a_number_is_a_sentence_and_free(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core, junk: str
) -> None:
    """`/redo abc` used to redraw the last picture (charged); core now reads ids strictly."""
    tg.user_sends(text="/draw a cat", user_id=1)
    await tg.wait_for_sent(lambda m: m.kind == "photo")
    answer = await reply_to(tg, f"/redo {junk}")
    assert answer == (
        f"{junk!r} is not the number of a drawing. Write /redo 12 with a number from /history."
    )
    assert len(relay.calls) == 1
    assert [m.kind for m in tg.sent] == ["photo", "text"]
    assert (await reply_to(tg, "/quota")).startswith("Today you have received 1 of 20 images")


async def test_original_of_a_superscript_two_is_a_sentence(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends(text="/draw a cat", user_id=1)
    await tg.wait_for_sent(lambda m: m.kind == "photo")
    answer = await reply_to(tg, "/original ²")
    assert answer == (
        "'²' is not the number of a drawing. Write /original 12 with a number from /history."
    )
    assert [m.kind for m in tg.sent] == ["photo", "text"]  # no document
    assert len(relay.calls) == 1


async def test_command_menu_in_english_and_chinese(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    english, chinese = tg.commands_for(), tg.commands_for("default", "zh")
    assert english is not None and chinese is not None
    assert [c["command"] for c in english] == [c["command"] for c in chinese]
    assert english[0] == {
        "command": "draw",
        "description": "Draw a picture: /draw <prompt> --size 768x512",
    }
    assert chinese[0]["description"].startswith("画图")
    allowed = json.loads(tg.calls_of("getUpdates")[0].params["allowed_updates"])
    assert allowed == ["message", "callback_query"]  # no edited_message


@pytest.mark.env(ADMIN_IDS="telegram:9")
async def test_admin_commands_for_group_admins_and_bot_admins(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    group = {"chat_id": GROUP, "chat_type": "supergroup"}
    tg.set_admins(GROUP, {5}, owner=7)
    assert (
        await reply_to(tg, "/disable", user_id=6, **group) == "Only the bot's admins can do that."
    )
    assert await reply_to(tg, "/disable", user_id=5, **group) == f"Done: disable telegram:{GROUP}."
    assert (await reply_to(tg, "/draw a cat", user_id=6, **group)).startswith(
        "Drawing is turned off in this chat."
    )
    assert await reply_to(tg, "/enable", user_id=7, **group) == f"Done: enable telegram:{GROUP}."
    assert await reply_to(tg, "/ban 6", user_id=5, **group) == "Only the bot's admins can do that."

    # A bot admin bans the author of the message they reply to.
    victim = tg.user_sends(text="hello all", user_id=6, **group)  # type: ignore[arg-type]
    banned = await reply_to(tg, "/ban spamming", user_id=9, reply_to=victim, **group)
    assert banned == "Done: ban telegram:6."
    assert (await reply_to(tg, "/draw a cat", user_id=6, **group)).startswith(
        "You are not allowed to draw"
    )
    assert (await reply_to(tg, "/stats", user_id=9)).startswith("Today: 0 images")
    assert (await reply_to(tg, "/admin", user_id=6)).startswith("Admin commands:")
    assert relay.calls == []


@pytest.mark.env(ADMIN_IDS="telegram:9")
async def test_in_a_forum_topic_the_topic_start_is_not_a_reply(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """Telegram makes every topic message a reply to the topic's service message; `/ban`
    in a topic must not ban whoever opened the topic."""
    chat = tg.add_chat(GROUP, "supergroup", title="Forum")
    chat["is_forum"] = True
    topic_start = {
        "message_id": 77,
        "date": 0,
        "chat": chat,
        "from": {"id": 6, "is_bot": False, "first_name": "Opener"},
        "message_thread_id": 77,
        "forum_topic_created": {"name": "cats", "icon_color": 7322096},
    }
    tg.push_update(
        {
            "message": {
                "message_id": 78,
                "date": 0,
                "chat": chat,
                "from": {"id": 9, "is_bot": False, "first_name": "Admin"},
                "message_thread_id": 77,
                "is_topic_message": True,
                "reply_to_message": topic_start,
                "text": "/ban",
                "entities": [{"type": "bot_command", "offset": 0, "length": 4}],
            }
        }
    )
    sent = await tg.wait_for_sent(lambda m: m.kind == "text")
    assert sent.text is not None and "Done: ban" not in sent.text
    tg.user_sends(text="/draw a cat", user_id=6, chat_id=GROUP, chat_type="supergroup")
    await tg.wait_for_sent(lambda m: m.kind == "photo")  # not banned


async def test_unexpected_exception_is_logged_and_the_user_told(
    tg: FakeTelegram,
    relay: FakeRelay,
    tg_bot: Core,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(tg_bot.account, "quota", broken)
    answer = await reply_to(tg, "/quota")
    assert answer == "Something went wrong while drawing. Please try again; no quota was used."
    failures = [r for r in caplog.records if r.name == "bots.telegram.handlers" and r.exc_info]
    assert failures and "database on fire" in str(failures[0].exc_info)


async def test_shutdown_with_a_draw_in_flight_still_answers(
    tg: FakeTelegram, relay: FakeRelay, tg_core: Core
) -> None:
    relay.script(Reply.hang(5))
    loop = asyncio.get_running_loop()
    async with running(tg_core, tg):
        tg.user_sends(text="/draw a slow cat", user_id=1)
        await wait_for(lambda: relay.calls, what="the relay call")
        # What `python -m bots` does on SIGTERM: close the service, then stop the adapters.
        assert await tg_core.service.close(grace=0.1) == 1
        stopping = loop.time()
    assert loop.time() - stopping < 2.0
    answer = next(m.text for m in tg.sent if m.kind == "text")
    assert answer == (
        "Your drawing was interrupted by a restart. Please send it again; no quota was used."
    )


def test_file_url_follows_the_api_url() -> None:
    assert base_file_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert base_file_url("http://tg.local:8081/bot") == "http://tg.local:8081/file/bot"
    assert base_file_url("http://x/bot{token}") == "http://x/file/bot{token}"
    assert base_file_url("http://x/api/") is None


@pytest.mark.env(HTTPS_PROXY="http://127.0.0.1:3128")
async def test_proxy_carries_requests_and_polling(
    tg: FakeTelegram, relay: FakeRelay, env: dict[str, str]
) -> None:
    """With HTTPS_PROXY, every Bot API call goes through it: here the fake Telegram plays
    the proxy for a Bot API host that does not resolve, so only proxied calls can work."""
    settings = Settings.load(
        environ={
            **env,
            "TELEGRAM_BOT_TOKEN": TG_TOKEN,
            "TELEGRAM_API_BASE_URL": "http://api.telegram.invalid/bot",
            "HTTPS_PROXY": tg.base_url,
        },
        env_file=None,
    )
    async with open_core(settings) as core, running(core, tg):
        assert (await reply_to(tg, "/help")).startswith("Commands:\n/draw")
        assert tg.calls_of("getUpdates") and tg.calls_of("sendMessage")


# ------------------------------------------------------------------------------ webhook

HOOK = "https://bot.example.test/tg/hook"


@pytest.fixture
async def web(tg_core: Core) -> AsyncIterator[WebServer]:
    server = WebServer(tg_core, 0, host="127.0.0.1")
    await server.start()
    yield server
    await server.stop()


@pytest.mark.env(TELEGRAM_WEBHOOK_URL=HOOK, TELEGRAM_WEBHOOK_SECRET="hook-secret-123")
async def test_webhook_mode(
    tg: FakeTelegram, relay: FakeRelay, tg_core: Core, web: WebServer
) -> None:
    assert web._runner is not None
    port = web._runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}/tg/hook"
    async with running(tg_core, tg, web), aiohttp.ClientSession() as http:
        assert tg.webhook_url == HOOK
        params = tg.calls_of("setWebhook")[0].params
        assert params["secret_token"] == "hook-secret-123"
        assert json.loads(params["allowed_updates"]) == ["message", "callback_query"]
        assert params["drop_pending_updates"] == "false"
        assert tg.calls_of("getUpdates") == []

        message = tg.user_sends(text="/draw a webhook cat", user_id=1)
        update = tg.pending_updates[-1]
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 403
        good = {"X-Telegram-Bot-Api-Secret-Token": "hook-secret-123"}
        async with http.post(url, json=update, headers=good) as response:
            assert response.status == 200
        sent = await tg.wait_for_sent(lambda m: m.kind == "photo")
        assert sent.visible_text is not None and sent.visible_text.startswith("a webhook cat")

        edited = {**message, "text": "/draw a webhook dog", "edit_date": 1}
        async with http.post(
            url, json={"update_id": 500, "edited_message": edited}, headers=good
        ) as response:
            assert response.status == 200
        async with http.post(url, data=b"not json", headers=good) as response:
            assert response.status == 400
        await asyncio.sleep(0.2)
        assert len(relay.calls) == 1
    assert web.ready["telegram"] is False


@pytest.mark.env(TELEGRAM_WEBHOOK_URL=HOOK)
def test_webhook_secret_is_derived_when_not_set(tg_settings: Settings) -> None:
    secret = webhook_secret(tg_settings)
    assert secret == webhook_secret(tg_settings)
    assert re.fullmatch(r"[0-9a-f]{48}", secret)
    assert TG_TOKEN.split(":")[1] not in secret


# --------------------------------------------------------------------------------- logs

TOKEN_SHAPED = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")


async def test_no_secret_in_the_logs_of_a_running_bot(
    tg: FakeTelegram, relay: FakeRelay, tmp_path: Path
) -> None:
    """`python -m bots telegram` at DEBUG: a draw, a flood, a relay failure, SIGTERM."""
    env = child_env(
        YUNAPI_BASE_URL=relay.base_url,
        YUNAPI_API_KEY=API_KEY,
        TELEGRAM_BOT_TOKEN=TG_TOKEN,
        TELEGRAM_API_BASE_URL=f"{tg.base_url}/bot",
        DATABASE_PATH=str(tmp_path / "bot.db"),
        IMAGE_DIR=str(tmp_path / "images"),
        LOG_LEVEL="DEBUG",
        SHUTDOWN_GRACE_SECONDS="2",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "telegram",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        relay.script(Reply.ok(), Reply.openai_error(401))
        tg.flood(method="sendPhoto", times=1, retry_after=1)
        tg.user_sends(text="/draw a cat", user_id=1)
        await tg.wait_for_sent(lambda m: m.kind == "photo", within=20)
        tg.user_sends(text="/draw a dog", user_id=1)
        await tg.wait_for_sent(lambda m: m.kind == "text", within=10)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 20)
    logs = (out + err).decode()
    assert process.returncode == 0, logs
    assert "long polling as @drawbot_test_bot" in logs
    assert "Retrying after" in logs or "retry" in logs.lower()
    assert TG_TOKEN not in logs and TG_TOKEN.split(":")[1] not in logs
    assert API_KEY not in logs
    assert TOKEN_SHAPED.search(logs) is None


async def test_a_rejected_token_stops_with_a_clear_error_without_the_token(
    tg: FakeTelegram, relay: FakeRelay, tg_env: dict[str, str]
) -> None:
    wrong = "7312345678:AAHwrongwrongwrongwrongwrongwrong12"
    settings = Settings.load(environ={**tg_env, "TELEGRAM_BOT_TOKEN": wrong}, env_file=None)
    async with open_core(settings) as core:
        with pytest.raises(SettingRejected, match="TELEGRAM_BOT_TOKEN was rejected") as error:
            await run(core, asyncio.Event())
    assert wrong not in repr(error.value) and error.value.__cause__ is None
    assert error.value.__suppress_context__
