"""The Discord adapter: the real discord.py client against FakeDiscord and FakeRelay."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import discord
import discord.gateway
import discord.http
import pytest

from bots.discord import DrawbotClient, serve, sync_commands
from bots.discord.client import gateway_url, rest_root
from bots.discord.commands import draw_text
from bots.discord.handlers import upload_batches
from core.command import parse_draw
from core.config import SettingRejected, Settings
from core.images import Image
from core.records import Limits
from core.root import Core
from core.store import Store
from tests.conftest import EDIT_KEY, EDIT_TABLE, child_env
from tests.fakes.base import wait_for
from tests.fakes.discord import (
    EPHEMERAL,
    DiscordPyTargets,
    FakeDiscord,
    FakeInteraction,
    FakeMessage,
    reset_discord_py,
)
from tests.fakes.png import make_png
from tests.fakes.relay import FakeRelay, Reply

TOKEN = "MTAwMQ.discord-bot-token.SECRET-0123456789abcdef"
APP_ID = 1001
GUILD_ID = 10
CHANNEL_ID = 20
ADMIN_ID = 99
MANAGE_GUILD = 1 << 5


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    saved = DiscordPyTargets(
        discord.http.Route.BASE, str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    )
    async with FakeDiscord(token=TOKEN, application_id=APP_ID) as fake:
        fake.add_guild(GUILD_ID, "Test", [CHANNEL_ID])
        try:
            yield fake
        finally:
            reset_discord_py(saved)
    assert fake.internal_errors == []


@pytest.fixture
def settings(env: dict[str, str], dc: FakeDiscord) -> Settings:
    """The shared settings, plus the bot token and the fake Discord (commands synced)."""
    values = {
        "DISCORD_SYNC_COMMANDS": "on",
        "ADMIN_IDS": f"discord:{ADMIN_ID}",
        **env,
        "DISCORD_BOT_TOKEN": TOKEN,
        "DISCORD_API_BASE_URL": dc.api_base_url,
    }
    return Settings.load(environ=values, env_file=None)


@asynccontextmanager
async def running(core: Core, dc: FakeDiscord) -> AsyncIterator[DrawbotClient]:
    """The adapter's own `serve`, started and stopped the way `python -m bots` does."""
    # retries of busy/unreachable answers are instant: tests/conftest.py fast_retries
    client = DrawbotClient(core, guild_ready_timeout=0.05)
    stop = asyncio.Event()
    before = dc.identify_count
    task = asyncio.create_task(serve(client, stop))
    try:
        await dc.wait_ready(within=5, min_identifies=before + 1)
        await asyncio.wait_for(client.wait_until_ready(), 5)  # READY handled before any close
        yield client
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert client.is_closed()


@pytest.fixture
async def bot(core: Core, dc: FakeDiscord) -> AsyncIterator[DrawbotClient]:
    async with running(core, dc) as client:
        yield client


async def image_of(dc: FakeDiscord, i: FakeInteraction, within: float = 10) -> FakeMessage:
    """The public message with the picture(s)."""
    return await dc.wait_for_response(
        i, within, predicate=lambda m: not m.ephemeral and bool(m.files or m.custom_ids())
    )


async def sentence_of(dc: FakeDiscord, i: FakeInteraction, within: float = 10) -> str:
    """The ephemeral sentence that answers `i`."""
    message = await dc.wait_for_response(
        i, within, predicate=lambda m: m.ephemeral and not m.content.startswith("✅")
    )
    return message.content


def existing(paths: list[str]) -> list[str]:
    return [p for p in paths if Path(p).exists()]


async def history(core: Core, user_id: int = 5) -> list[Any]:
    return await core.store.run(Store.history, f"discord:{user_id}", 50)


async def noted(core: Core, user_id: int = 5) -> list[Any]:
    """The history once every posted picture's delivery is noted (just after it is posted)."""

    async def probe() -> list[Any] | None:
        rows = await history(core, user_id)
        return rows if all(r.status != "generated" for r in rows) else None

    return await wait_for(probe, 5.0, "the deliveries to be noted")


# -- pure helpers ---------------------------------------------------------------------------


def test_gateway_follows_the_api_base() -> None:
    assert gateway_url(rest_root("https://discord.com/api/v10")) == "wss://gateway.discord.gg/"
    assert gateway_url(rest_root("http://127.0.0.1:81/api/v10")) == "ws://127.0.0.1:81/gateway"
    assert rest_root("https://p.example/discord") == "https://p.example/discord/api/v10"
    assert gateway_url(rest_root("https://p.example/discord/api")) == (
        "wss://p.example/discord/gateway"
    )


def test_options_become_flags_the_core_parses() -> None:
    text = draw_text(
        'a "quoted" fox',
        size="768 x 512",
        seed=7,
        steps=30,
        scale=4.5,
        expand=False,
        super_res=False,
        watermark='my "bot"',
    )
    params = parse_draw(text)
    assert params.prompt == 'a "quoted" fox'
    assert (params.width, params.height, params.seed, params.steps) == (768, 512, 7, 30)
    assert (params.scale, params.expand, params.super_res) == (4.5, False, False)
    assert params.watermark.text == 'my "bot"'
    assert parse_draw(draw_text("x", no_watermark=True)).watermark.enabled is False


def test_upload_batches_fit_the_limit() -> None:
    def image(size: int) -> Image:
        return Image(b"0" * size, "image/png", 1, 1)

    images = [image(3), image(3), image(9), image(4)]
    assert upload_batches(images, 8) == ([[0, 1], [3]], [2])
    assert upload_batches([image(1)] * 12, 100) == ([list(range(10)), [10, 11]], [])


# -- drawing --------------------------------------------------------------------------------


async def test_draw_defers_then_posts_image_caption_and_buttons(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay, core: Core
) -> None:
    i = dc.slash_command("draw", {"prompt": "a red fox", "size": "768x512", "seed": 42})
    posted = await image_of(dc, i)
    assert i.callbacks[0].type == 5 and i.response_latency is not None
    assert i.response_latency < 3.0
    assert i.callbacks[0].data is not None and i.callbacks[0].data["flags"] & EPHEMERAL
    (generation,) = await noted(core)
    assert generation.status == "delivered" and (
        generation.params.width,
        generation.params.height,
    ) == (768, 512)
    assert relay.calls[0].body["seed"] == 42 and relay.calls[0].body["width"] == 768
    assert posted.files[0][0] == f"drawbot-{generation.id}-1.png"
    assert posted.files[0][1].startswith(b"\x89PNG")
    assert "a red fox" in posted.content and "768x512" in posted.content
    assert "seed 42" in posted.content and f"#{generation.id}" in posted.content
    assert posted.custom_ids() == [
        f"g:again:{generation.id}",
        f"g:resize:{generation.id}",
        f"g:original:{generation.id}",
    ]
    assert not posted.ephemeral and posted in i.followups
    await wait_for(lambda: i.original is not None and i.original.deleted, 5, "cleanup")


async def test_typed_options_and_out_of_range_values(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay
) -> None:
    options = {
        "prompt": "a boat",
        "size": "512x768",
        "steps": 30,
        "scale": 7.5,
        "expand": False,
        "super_res": False,
        "watermark": "drawbot",
    }
    await image_of(dc, dc.slash_command("draw", options))
    body = relay.calls[0].body
    assert (body["width"], body["height"], body["ddim_steps"], body["scale"]) == (512, 768, 30, 7.5)
    assert body["use_pre_llm"] is False and body["use_sr"] is False
    assert body["logo_info"]["logo_text_content"] == "drawbot"
    i = dc.slash_command("draw", {"prompt": "a boat", "no_watermark": True})
    await image_of(dc, i)
    assert relay.calls[1].body["logo_info"]["add_logo"] is False

    cases = [
        ({"scale": 12.0}, "--scale must be from 1.0 to 10.0"),
        ({"steps": 500}, "--steps must be from 1 to 200"),
        ({"size": "1024x1024"}, "must each be 256–768"),
    ]
    for extra, expected in cases:
        i = dc.slash_command("draw", {"prompt": "a boat", **extra})
        assert expected in await sentence_of(dc, i)
        assert [c.type for c in i.callbacks] == [5]  # deferred; the sentence replaced it
    zh = dc.slash_command("draw", {"prompt": "船", "steps": 0}, locale="zh-CN")
    assert "--steps 须在 1 到 200 之间" in await sentence_of(dc, zh)
    assert len(relay.calls) == 2


async def test_size_autocomplete_offers_common_and_typed_sizes(
    bot: DrawbotClient, dc: FakeDiscord
) -> None:
    i = dc.autocomplete("draw", {"prompt": "x", "size": "768"}, focused="size")
    await dc.wait_for_callback(i)
    values = [c["value"] for c in i.choices or []]
    assert values[0] == "768" and "768x512" in values and "512x512" not in values


async def test_flags_inside_the_prompt(bot: DrawbotClient, dc: FakeDiscord, core: Core) -> None:
    i = dc.slash_command("draw", {"prompt": "a cat ——size 512x768 --seed 7 --steps 12 --no-sr"})
    posted = await image_of(dc, i)
    (generation,) = await history(core)
    assert generation.params.prompt == "a cat"
    assert (
        generation.params.width,
        generation.params.height,
        generation.params.seed,
        generation.params.steps,
    ) == (
        512,
        768,
        7,
        12,
    )
    assert generation.params.super_res is False and "seed 7" in posted.content
    typo = dc.slash_command("draw", {"prompt": "a cat --sed 5"})
    assert "Did you mean --seed?" in await sentence_of(dc, typo)


@pytest.mark.env(DAILY_LIMIT="2")
async def test_refusals_are_ephemeral_sentences_in_the_users_language(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay, core: Core
) -> None:
    async def refusal(script: list[Reply] | None, locale: str = "en-US", user: int = 5) -> str:
        if script:
            relay.script(*script)
        i = dc.slash_command("draw", {"prompt": "something"}, user_id=user, locale=locale)
        text = await sentence_of(dc, i)
        assert i.callbacks[0].type == 5  # deferred first, then the sentence replaced it
        assert not any(not m.ephemeral for m in i.answers)
        return text

    assert "refused this prompt" in await refusal([Reply.volc_error(50412)])
    assert "提示词未通过内容审核" in await refusal([Reply.volc_error(50412)], "zh-CN")
    assert "did not answer in time" in await refusal([Reply.drop()] * 4)
    assert "内部出错" in await refusal([Reply.html(502)] * 4, "zh-CN")
    # Failures were refunded: two images remain for today, then the quota is spent.
    for _ in range(2):
        await image_of(dc, dc.slash_command("draw", {"prompt": "ok"}))
    spent = await refusal(None)
    assert "used all 2 images for today" in spent and "resets at 00:00 (UTC)" in spent
    assert "额度已用完" in await refusal(None, "zh-CN")
    await core.admin.ban("discord:6")
    assert "not allowed to draw" in await refusal(None, user=6)
    assert "已被禁止" in await refusal(None, "zh-CN", user=6)


async def test_buttons_work_after_a_restart(
    core: Core, dc: FakeDiscord, relay: FakeRelay, settings: Settings
) -> None:
    async with running(core, dc):
        first = dc.slash_command("draw", {"prompt": "a lighthouse", "seed": 5})
        posted = await image_of(dc, first)
    (original,) = await history(core)

    async with Core.open(settings, ["discord"]) as fresh, running(fresh, dc):
        again = dc.click_button(f"g:again:{original.id}", message=posted, user_id=7)
        again_post = await image_of(dc, again)
        resize = dc.click_button(f"g:resize:{original.id}", message=posted, user_id=5)
        await image_of(dc, resize)
        file = dc.click_button(f"g:original:{original.id}", message=posted, user_id=8)
        file_answer = await dc.wait_for_response(file, 10, predicate=lambda m: bool(m.files))
        redrawn = await core.store.run(Store.history, "discord:7", 5)
        resized = (await history(core))[0]
    assert again_post.files and again_post.custom_ids()[0] == f"g:again:{redrawn[0].id}"
    assert redrawn[0].parent_id == original.id and redrawn[0].params.prompt == "a lighthouse"
    assert redrawn[0].params.seed != 5 and relay.calls[1].body["seed"] == redrawn[0].params.seed
    assert resized.parent_id == original.id and resized.params.seed == 5
    assert (resized.params.width, resized.params.height) == (
        768,
        512,
    )  # 512x512 turned into the other shape
    assert file_answer.ephemeral and file_answer.files[0][1] == posted.files[0][1]
    assert len(relay.calls) == 3  # the original file is not drawn again
    assert await core.store.run(Store.history, "discord:8", 5) == []  # nor charged


async def test_no_mention_ever_pings(bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay) -> None:
    prompt = "@everyone <@&123> <@5> @here a party"
    await image_of(dc, dc.slash_command("draw", {"prompt": prompt}))
    relay.script(Reply.volc_error(50412))
    await sentence_of(dc, dc.slash_command("draw", {"prompt": prompt}))
    await sentence_of(dc, dc.slash_command("draw", {"prompt": prompt + " --seed -3"}))
    await sentence_of(dc, dc.slash_command("history"))
    await sentence_of(dc, dc.dm_slash_command("quota"))
    assert len(dc.messages) >= 6
    for message in dc.messages:
        assert message.allowed_mentions == {"parse": []}, message


async def test_direct_messages(
    bot: DrawbotClient, dc: FakeDiscord, core: Core, relay: FakeRelay
) -> None:
    i = dc.dm_slash_command("draw", {"prompt": "a moon"}, user_id=12)
    posted = await image_of(dc, i)
    assert posted.guild_id is None and posted.files
    (generation,) = await history(core, 12)
    assert generation.chat_key == f"discord:{i.channel_id}"
    relay.script(Reply.volc_error(50511), Reply.volc_error(50511))
    refused = dc.dm_slash_command("draw", {"prompt": "a moon"}, user_id=12, locale="zh-CN")
    assert "图片未通过内容审核" in await sentence_of(dc, refused)


@pytest.mark.env(MAX_CONCURRENT_DRAWS="4")
async def test_many_users_at_once(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay, capsys: pytest.CaptureFixture[str]
) -> None:
    relay.latency = 1.0
    started = time.monotonic()
    interactions = [
        dc.slash_command("draw", {"prompt": f"cat {n}"}, user_id=100 + n) for n in range(8)
    ]
    await asyncio.gather(*(image_of(dc, i) for i in interactions))
    makespan = time.monotonic() - started
    # Discord's rule: every interaction acknowledged within 3 s, also under load.
    assert all(i.response_latency is not None and i.response_latency < 3.0 for i in interactions)
    assert relay.max_concurrency_seen == 4  # MAX_CONCURRENT_DRAWS, the window's ceiling
    with capsys.disabled():
        print(f"\n8 draws, relay latency 1 s, cap 4: makespan {makespan:.2f}s")


async def test_a_redelivered_interaction_is_charged_once(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay, core: Core
) -> None:
    relay.latency = 0.5
    i = dc.slash_command("draw", {"prompt": "a kite"})
    dc.dispatch("INTERACTION_CREATE", i.payload)  # the same interaction again, at once
    await image_of(dc, i)
    dc.dispatch("INTERACTION_CREATE", i.payload)  # and after it was answered
    await asyncio.sleep(0.5)
    assert len(relay.calls) == 1
    assert len(await history(core)) == 1
    public = [m for m in dc.messages if m.files and not m.ephemeral]
    assert len(public) == 1
    assert [r.status for r in i.rejected_callbacks] == [400, 400]  # 40060 twice


async def test_quota_history_help_forget(bot: DrawbotClient, dc: FakeDiscord, core: Core) -> None:
    assert "0 of 20 images" in await sentence_of(dc, dc.slash_command("quota"))
    assert "no drawings yet" in await sentence_of(dc, dc.slash_command("history"))
    await image_of(dc, dc.slash_command("draw", {"prompt": "a tree"}))
    assert "1 of 20 images; 19 left" in await sentence_of(dc, dc.slash_command("quota"))
    listed = await sentence_of(dc, dc.slash_command("history"))
    assert "#1" in listed and "a tree" in listed
    assert "--size WxH" in await sentence_of(dc, dc.slash_command("help"))
    assert "用法" in await sentence_of(dc, dc.slash_command("help", locale="zh-CN"))
    redo = dc.slash_command("redo", {"id": 1})
    again = await image_of(dc, redo)
    assert "a tree" in again.content
    (latest, first) = await history(core)
    assert latest.params.seed == first.params.seed and latest.parent_id == first.id
    assert "was not found" in await sentence_of(dc, dc.slash_command("redo", {"id": 1}, user_id=6))
    assert "2 drawings" in await sentence_of(dc, dc.slash_command("forget"))
    assert not existing([*latest.image_paths, *first.image_paths])


async def test_upload_limit(core: Core, dc: FakeDiscord, relay: FakeRelay) -> None:
    dc.add_guild(11, "Small", [21], upload_limit=5000)
    async with running(core, dc):
        relay.script(Reply.ok(images=2, image_bytes=3000))
        i = dc.slash_command("draw", {"prompt": "two"}, guild_id=11)
        first = await image_of(dc, i)
        await wait_for(lambda: len([m for m in i.followups if m.files]) == 2, 5, "2 files")
        second = next(m for m in i.followups if m.files and m is not first)
        assert len(first.files) == 1 and len(second.files) == 1
        assert first.custom_ids() and not second.custom_ids() and "two" in first.content

        # cut short (undecodable), so not even re-encoding fits them: nothing can be attached
        relay.script(Reply.ok(images=2, image_bytes=8000))
        i = dc.slash_command("draw", {"prompt": "huge"}, guild_id=11)
        said = await dc.wait_for_response(i, 10, predicate=lambda m: "upload limit" in m.content)
        assert said.ephemeral and not said.files and "did not count" in said.content
        assert "Image 1" in said.content and "Image 2" in said.content
        links = relay.calls[-1].image_urls  # the too-large images are linked instead
        assert links and all(f"at {url} for about a day" in said.content for url in links)
        assert not [m for m in i.followups if not m.ephemeral]


# -- admin, sync, logs, alerts ----------------------------------------------------------------


async def test_admin_commands(bot: DrawbotClient, dc: FakeDiscord, core: Core) -> None:
    async def admin(name: str, options: dict[str, Any] | None = None, **kw: Any) -> str:
        return await sentence_of(dc, dc.slash_command(f"admin {name}", options or {}, **kw))

    member = {"user_id": 5, "permissions": 0}
    manager = {"user_id": 6, "permissions": MANAGE_GUILD}
    owner = {"user_id": ADMIN_ID, "permissions": 0}
    assert "Only the bot's admins" in await admin("ban", {"user": 7}, **member)
    assert "Only the bot's admins" in await admin("ban", {"user": 7}, **manager)
    assert "Done: ban discord:7" in await admin("ban", {"user": 7, "reason": "spam"}, **owner)
    user = await core.store.run(Store.user, "discord:7")
    assert user is not None and user["banned"] == 1 and user["ban_reason"] == "spam"
    assert "Done: unban discord:7" in await admin("unban", {"user": 7}, **owner)

    assert "Only the bot's admins" in await admin("disable", **member)
    assert f"Done: disable discord:{GUILD_ID}" in await admin("disable", **manager)
    refused = dc.slash_command("draw", {"prompt": "x"}, user_id=8)
    assert "turned off in this chat" in await sentence_of(dc, refused)
    assert "Done: enable" in await admin("enable", **manager)
    chat_limit = await admin("limit", {"scope": "chat", "value": "3"}, **manager)
    assert chat_limit.startswith("Done:") and f"discord:{GUILD_ID} = 3" in chat_limit
    with_user = await admin("limit", {"scope": "member", "value": "4", "user": 7}, **manager)
    assert f"member limit of discord:{GUILD_ID} = 4" in with_user  # the user is not its subject
    limit_user = {"scope": "user", "value": "5", "user": 7}
    assert "Only the bot's admins" in await admin("limit", limit_user, **manager)
    assert "Done: limit discord:7 = 5" in await admin("limit", limit_user, **owner)
    assert "Done: watermark off" in await admin("chatwatermark", {"mode": "off"}, **manager)
    assert "Today: 0 images" in await admin("stats", **owner)
    assert "Only the bot's admins" in await admin("stats", **manager)
    assert "管理员" in await admin("balance", locale="zh-CN", **member)
    assert "balance" in (await admin("balance", **owner)).lower()
    dm = dc.dm_slash_command("admin stats", user_id=ADMIN_ID)
    assert "Today:" in await sentence_of(dc, dm)


async def test_admins_make_the_bot_private_and_block_words(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay
) -> None:
    async def admin(name: str, options: dict[str, Any] | None = None) -> str:
        command = dc.slash_command(f"admin {name}", options or {}, user_id=ADMIN_ID)
        return await sentence_of(dc, command)

    assert "Done: allow user discord:7" in await admin("allow", {"user": 7})
    assert "Only the bot's admins" in await sentence_of(
        dc, dc.slash_command("admin allow", {"this_server": True}, user_id=7)
    )
    in_dm = dc.dm_slash_command("draw", {"prompt": "a fox"}, user_id=8)
    assert "this bot is private" in await sentence_of(dc, in_dm)
    here = f"Done: allow chat discord:{GUILD_ID}"
    assert here in await admin("allow", {"this_server": True})
    assert "Done: blockword blood" in await admin("blockword", {"word": "blood"})
    spaced = dc.slash_command("draw", {"prompt": "a Ｂ l o o d moon"}, user_id=8)
    assert "a word this bot does not draw" in await sentence_of(dc, spaced)
    assert relay.calls == []


@pytest.mark.env(DISCORD_SYNC_COMMANDS="off")
async def test_commands_are_synced_only_when_asked(core: Core, dc: FakeDiscord) -> None:
    async with running(core, dc):
        await asyncio.sleep(0.1)
    assert dc.sync_calls == []
    assert await sync_commands(core) == 11
    assert [c.status for c in dc.sync_calls] == [200]
    names = sorted(c["name"] for c in dc.synced_commands)
    assert names == [
        "admin",
        "cancel",
        "draw",
        "forget",
        "help",
        "history",
        "model",
        "models",
        "original",
        "quota",
        "redo",
    ]
    draw = dc.find_command("draw")
    assert draw is not None
    assert draw["name_localizations"] == {"zh-CN": "画图"}
    assert draw["description_localizations"]["zh-CN"] == "用即梦 2.1 画一张图"
    options = {o["name"]: o for o in draw["options"]}
    types = {name: o["type"] for name, o in options.items()}
    assert types == {
        "prompt": 3,
        "size": 3,
        "seed": 4,
        "steps": 4,
        "scale": 10,
        "expand": 5,
        "super_res": 5,
        "watermark": 3,
        "no_watermark": 5,
        "model": 3,
        "image": 11,
    }
    # without MODELS_FILE: one choice, Jimeng 2.1
    assert options["model"]["choices"] == [{"name": "Jimeng 2.1", "value": "jimeng21"}]
    assert options["model"].get("required") is not True
    assert options["size"]["autocomplete"] is True
    assert (options["steps"]["min_value"], options["steps"]["max_value"]) == (1, 200)
    assert options["prompt"]["required"] is True
    assert options["prompt"]["name_localizations"] == {"zh-CN": "提示词"}
    admin = dc.find_command("admin")
    assert admin is not None
    subs = sorted(o["name"] for o in admin["options"])
    assert subs == [
        "allow",
        "allowed",
        "balance",
        "ban",
        "blockword",
        "blockwords",
        "chatwatermark",
        "disable",
        "disallow",
        "enable",
        "limit",
        "stats",
        "unban",
        "unblockword",
    ]


async def test_sync_at_start_when_enabled(bot: DrawbotClient, dc: FakeDiscord) -> None:
    assert len(dc.sync_calls) == 1 and dc.sync_calls[0].guild_id is None


async def test_the_token_never_reaches_the_logs(
    core: Core, dc: FakeDiscord, relay: FakeRelay, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(core, dc):
        await image_of(dc, dc.slash_command("draw", {"prompt": "a key"}))
        relay.script(Reply.openai_error(401))
        await sentence_of(dc, dc.slash_command("draw", {"prompt": "a key"}))
        await sentence_of(dc, dc.slash_command("draw", {"prompt": "--bogus"}))
    await sync_commands(core)
    dc.token = "another-token"  # the next login is refused
    with pytest.raises(SettingRejected, match="DISCORD_BOT_TOKEN was rejected by Discord"):
        await serve(DrawbotClient(core), asyncio.Event())
    assert len(caplog.records) > 20  # discord.py's own DEBUG logs included
    assert "discord.http" in {r.name for r in caplog.records}
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
    assert TOKEN not in caplog.text  # tracebacks included


@pytest.mark.env(HTTPS_PROXY="socks5://127.0.0.1:1080")
async def test_a_socks_proxy_is_refused_clearly(core: Core) -> None:
    with pytest.raises(SettingRejected, match="http:// or https:// proxy"):
        await serve(DrawbotClient(core), asyncio.Event())


async def test_shutdown_lets_draws_in_flight_answer(
    core: Core, dc: FakeDiscord, relay: FakeRelay
) -> None:
    relay.latency = 0.5
    async with running(core, dc):
        finishing = dc.slash_command("draw", {"prompt": "in time"})
        await wait_for(lambda: relay.in_flight == 1, 5, "the draw to start")
        await core.service.close(grace=5)  # what `python -m bots` does before setting stop
        late = dc.slash_command("draw", {"prompt": "too late"})
        await dc.wait_for_response(late, 5)
    assert (await image_of(dc, finishing, within=0.1)).files
    assert "restarting" in await sentence_of(dc, late, within=0.1)

    relay.latency = 5.0
    core.service._closing = False
    async with running(core, dc):
        cut = dc.slash_command("draw", {"prompt": "interrupted"})
        await wait_for(lambda: relay.in_flight == 1, 5, "the draw to start")
        await core.service.close(grace=0.1)
    assert "interrupted by a restart" in await sentence_of(dc, cut, within=0.1)
    statuses = [g.status for g in await history(core)]
    assert statuses == ["interrupted", "delivered"]


async def test_admins_get_relay_alerts_by_dm(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay
) -> None:
    relay.script(Reply.openai_error(403))
    refused = dc.slash_command("draw", {"prompt": "x"})
    assert "out of balance" in await sentence_of(dc, refused)
    alert = await dc.wait_for_message(lambda m: m.kind == "channel" and "balance" in m.content)
    assert alert.guild_id is None and dc._dm_channels[alert.channel_id] == ADMIN_ID
    assert alert.allowed_mentions == {"parse": []}


async def test_original_command_is_private_and_free(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay
) -> None:
    drawn = dc.slash_command("draw", {"prompt": "a kite"})
    posted = await image_of(dc, drawn)
    mine = dc.slash_command("original", {"id": 1})
    answer = await dc.wait_for_response(mine, 10, predicate=lambda m: bool(m.files))
    assert answer.ephemeral and answer.files[0][1] == posted.files[0][1]
    stranger = dc.dm_slash_command("original", {"id": 1}, user_id=12)
    assert "was not found" in await sentence_of(dc, stranger)
    assert len(relay.calls) == 1


async def test_discord_sync_command_line(dc: FakeDiscord, env: dict[str, str]) -> None:
    """`python -m bots discord-sync` publishes the commands and says how many."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "discord-sync",
        cwd=str(Path(env["IMAGE_DIR"]).parent),
        env=child_env(**env, DISCORD_BOT_TOKEN=TOKEN, DISCORD_API_BASE_URL=dc.api_base_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0, err.decode()
    assert out.decode().strip() == "drawbot: synced 11 Discord commands"
    assert len(dc.sync_calls) == 1 and TOKEN not in err.decode()


# -- odd interactions and old buttons ---------------------------------------------------------


async def test_an_interaction_without_a_locale_still_gets_a_reply(
    bot: DrawbotClient, dc: FakeDiscord, core: Core
) -> None:
    no_locale: Any = None  # Discord has sent "locale": null
    quota = dc.slash_command("quota", locale=no_locale)
    assert "0 of 20 images" in await sentence_of(dc, quota)  # DEFAULT_LANGUAGE
    posted = await image_of(dc, dc.slash_command("draw", {"prompt": "a fox"}, locale=no_locale))
    (generation,) = await history(core)
    press = dc.click_button(f"g:original:{generation.id}", message=posted, locale=no_locale)
    file = await dc.wait_for_response(press, 10, predicate=lambda m: bool(m.files))
    assert file.ephemeral and file.files[0][1] == posted.files[0][1]


async def test_original_of_someone_elses_drawing_is_not_found(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay
) -> None:
    """Someone else's drawing, asked for in a server where it was not posted."""
    dc.add_guild(11, "Elsewhere", [21])
    await image_of(dc, dc.slash_command("draw", {"prompt": "a kite"}, user_id=5))
    other = dc.slash_command("original", {"id": 1}, user_id=6, guild_id=11)
    assert "was not found" in await sentence_of(dc, other)
    assert not any(m.files for m in other.answers)
    # In the server where it was posted, its file is anyone's to ask for (as the button).
    here = dc.slash_command("original", {"id": 1}, user_id=6)
    assert (await dc.wait_for_response(here, 10, predicate=lambda m: bool(m.files))).ephemeral
    assert len(relay.calls) == 1


def legacy_post(posted: FakeMessage, *custom_ids: str) -> FakeMessage:
    """A picture's message as posted before the g:<action>:<id> custom_ids."""
    buttons = [{"type": 2, "style": 2, "label": c, "custom_id": c} for c in custom_ids]
    return replace(posted, components=[{"type": 1, "components": buttons}])


async def test_a_legacy_drawbot_button_still_works(
    bot: DrawbotClient, dc: FakeDiscord, core: Core, relay: FakeRelay
) -> None:
    """Buttons posted before the g:<action>:<id> custom_ids say drawbot:<action>:<id>."""
    posted = await image_of(dc, dc.slash_command("draw", {"prompt": "a lighthouse", "seed": 5}))
    (first,) = await history(core)
    old = legacy_post(posted, f"drawbot:again:{first.id}", f"drawbot:original:{first.id}")
    again = await image_of(dc, dc.click_button(f"drawbot:again:{first.id}", old, user_id=7))
    (redrawn,) = await core.store.run(Store.history, "discord:7", 5)
    assert redrawn.parent_id == first.id and redrawn.params.seed != 5
    assert again.custom_ids()[0] == f"g:again:{redrawn.id}"
    press = dc.click_button(f"drawbot:original:{first.id}", old, user_id=8)
    file = await dc.wait_for_response(press, 10, predicate=lambda m: bool(m.files))
    assert file.ephemeral and file.files[0][1] == posted.files[0][1]
    assert len(relay.calls) == 2


async def test_a_button_core_does_not_know_is_let_go(bot: DrawbotClient, dc: FakeDiscord) -> None:
    posted = await image_of(dc, dc.slash_command("draw", {"prompt": "a lighthouse"}))
    press = dc.click_button("g:explode:1", legacy_post(posted, "g:explode:1"))
    await wait_for(lambda: press.original is not None and press.original.deleted, 5, "gone")
    assert [c.type for c in press.callbacks] == [5]


# -- images over the upload limit -------------------------------------------------------------


async def test_an_image_over_the_upload_limit_is_re_encoded_to_fit(
    core: Core, dc: FakeDiscord, relay: FakeRelay
) -> None:
    dc.add_guild(12, "Small", [22], upload_limit=1_000_000)
    async with running(core, dc):
        relay.script(Reply.ok(images=1, image_bytes=3_000_000))
        i = dc.slash_command("draw", {"prompt": "huge", "size": "768x512"}, guild_id=12)
        posted = await image_of(dc, i)
        [(name, data)] = posted.files
        assert name.endswith(".jpg") and data.startswith(b"\xff\xd8")
        assert len(data) <= 1_000_000
        assert "upload limit" not in posted.content and posted.custom_ids()
        [generation] = await noted(core)
        assert generation.status == "delivered"
        usage = await core.store.run(
            Store.usage, "discord:5", f"discord:{12}", core.service.today(), Limits()
        )
        assert usage.used == 1


async def test_an_image_that_cannot_fit_gets_a_sentence_and_is_not_charged(
    core: Core, dc: FakeDiscord, relay: FakeRelay
) -> None:
    """A limit no picture worth sending fits in: the asker is told, nothing is charged."""
    dc.add_guild(13, "Tiny", [23], upload_limit=2000)
    async with running(core, dc):
        relay.script(Reply.ok(images=1, image_bytes=3_000_000))
        i = dc.slash_command("draw", {"prompt": "huge"}, guild_id=13)
        said = await dc.wait_for_response(i, 10, predicate=lambda m: "upload limit" in m.content)
        assert said.ephemeral and not said.files
        assert "Image 1 (2.9 MB)" in said.content and "did not count" in said.content
        assert not [m for m in i.followups if not m.ephemeral]
        [generation] = await history(core)
        assert generation.status == "failed" and generation.error_kind == "send_failed"
        usage = await core.store.run(
            Store.usage, "discord:5", f"discord:{13}", core.service.today(), Limits()
        )
        assert usage.used == 0


# -- user installs and sharding ---------------------------------------------------------------


async def test_user_commands_can_be_installed_by_a_person_and_admin_cannot(
    bot: DrawbotClient, dc: FakeDiscord
) -> None:
    """integration_types 0 = server install, 1 = user install; contexts 0 = server, 1 = the
    bot's DM, 2 = other DMs and group DMs."""
    await dc.wait_for_sync()
    for name in ("draw", "redo", "original", "history", "quota", "help", "forget"):
        command = dc.find_command(name)
        assert command is not None
        assert command["integration_types"] == [0, 1], name
        assert command["contexts"] == [0, 1, 2], name
    admin = dc.find_command("admin")
    assert admin is not None
    assert admin["integration_types"] == [0] and admin["contexts"] == [0, 1]
    with pytest.raises(ValueError, match="cannot be installed by a user"):
        dc.slash_command("admin stats", guild_id=None, user_install=True)


async def test_a_user_install_is_answered_where_the_bot_is_not_a_member(
    bot: DrawbotClient, dc: FakeDiscord, core: Core, relay: FakeRelay
) -> None:
    elsewhere = 777  # a server that never added the bot: no GUILD_CREATE, no channel access
    i = dc.slash_command("draw", {"prompt": "a heron"}, guild_id=elsewhere, user_install=True)
    posted = await image_of(dc, i)
    assert posted.files and posted.custom_ids() and not posted.ephemeral
    (generation,) = await noted(core)
    assert generation.status == "delivered" and generation.chat_key == f"discord:{elsewhere}"
    quota = dc.slash_command("quota", guild_id=elsewhere, user_install=True, permissions=0)
    assert "1 of 20 images" in await sentence_of(dc, quota)

    # context 2: the user's DM with someone else, where the bot has no channel of its own
    dm = dc.slash_command("draw", {"prompt": "a crane"}, guild_id=None, user_install=True)
    assert dm.payload["context"] == 2
    again = await image_of(dc, dm)
    assert again.guild_id is None and again.files
    latest = (await noted(core))[0]
    assert latest.status == "delivered" and latest.chat_key == f"discord:{dm.channel_id}"
    help_there = dc.slash_command("help", guild_id=None, user_install=True, locale="zh-CN")
    assert "用法" in await sentence_of(dc, help_there)
    press = dc.click_button(f"g:original:{latest.id}", message=again)
    file = await dc.wait_for_response(press, 10, predicate=lambda m: bool(m.files))
    assert file.ephemeral and file.files[0][1] == again.files[0][1]
    assert len(relay.calls) == 2


async def test_the_client_shards_as_discord_says(bot: DrawbotClient, dc: FakeDiscord) -> None:
    """AutoShardedClient: it asks /gateway/bot for the shard count (one here) and connects to
    the gateway DISCORD_API_BASE_URL implies, identifying as shard 0 of 1."""
    assert isinstance(bot, discord.AutoShardedClient)
    assert dc.bot_gateway_calls == 1 and bot.shard_count == 1
    assert dc.identify_payloads[-1]["shard"] == [0, 1]
    assert set(bot.shards) == {0}
    await wait_for(lambda: bot.last_ack() is not None, 5, "a heartbeat ACK")
    report = bot.liveness.report()
    assert report["ok"] is True and report["age_seconds"] is not None
    i = dc.slash_command("quota")
    assert "0 of 20 images" in await sentence_of(dc, i)


@pytest.mark.env(MAX_CONCURRENT_DRAWS="1", DAILY_LIMIT="5")
async def test_a_waiting_draw_shows_its_place_in_the_deferred_reply_and_can_cancel(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay, core: Core
) -> None:
    """The "thinking…" reply of a draw that waits says where it stands, with a cancel button;
    pressing it refunds the draw and the reply says so."""
    relay.latency = 3.0
    first = dc.slash_command("draw", {"prompt": "a fox"}, user_id=101)
    # the first holds the relay before the second is asked: two at once may be taken in either
    # order (each answers its interaction first), and then the other one waits
    await wait_for(lambda: relay.in_flight, 10, "the first draw at the relay")
    waiting = dc.slash_command("draw", {"prompt": "a cat"}, user_id=102)

    def status() -> FakeMessage | None:
        placeholder = waiting.original
        if placeholder is None:
            return None
        shown = "#1 in the queue" in placeholder.content
        return placeholder if shown and placeholder.custom_ids() else None

    placeholder = await wait_for(status, 10, "the queue status in the deferred reply")
    (cancel,) = placeholder.custom_ids()
    assert cancel.startswith("g:cancel:")
    dc.click_button(cancel, placeholder, user_id=102)
    said = await dc.wait_for_response(waiting, 10, predicate=lambda m: "cancelled" in m.content)
    assert said.ephemeral and "was cancelled; no quota was used" in said.content
    await image_of(dc, first)
    rows = await history(core, 102)
    assert [r.status for r in rows] == ["failed"] and rows[0].error_kind == "cancelled"
    assert len(relay.calls) == 1


# -- editing a picture: the /draw image option ------------------------------------------------


@pytest.mark.env(MODELS_FILE=EDIT_TABLE)
async def test_draw_with_an_image_attachment_edits_it(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay, core: Core
) -> None:
    relay.req_keys |= {EDIT_KEY}
    picture = make_png(400, 300, 9)
    i = dc.slash_command("draw", {"prompt": "make it blue", "image": dc.attachment(picture)})
    message = await image_of(dc, i)
    assert message.content.startswith("make it blue\n")
    (call,) = relay.calls
    assert call.body["req_key"] == EDIT_KEY and call.sources == [picture]
    assert len(dc.attachment_downloads) == 1
    assert [r.params.model for r in await noted(core)] == ["jimeng-edit"]


@pytest.mark.env(MODELS_FILE=EDIT_TABLE, MAX_INPUT_IMAGE_BYTES="2000")
async def test_an_attachment_over_the_cap_is_refused_without_downloading_it(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay, core: Core
) -> None:
    relay.req_keys |= {EDIT_KEY}
    big = make_png(400, 300, 9)
    assert len(big) > 2000
    i = dc.slash_command("draw", {"prompt": "make it blue", "image": dc.attachment(big)})
    said = await sentence_of(dc, i)
    assert said.startswith("That picture is too large to edit (") and "the most is 2 KB" in said
    assert dc.attachment_downloads == [] and relay.calls == [] and await history(core) == []
    zh = dc.slash_command(
        "draw", {"prompt": "蓝色", "image": dc.attachment(big)}, locale="zh-CN", user_id=6
    )
    assert (await sentence_of(dc, zh)).startswith("这张图片太大")


async def test_an_attachment_without_a_model_that_edits_is_ignored(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay
) -> None:
    i = dc.slash_command("draw", {"prompt": "a boat", "image": dc.attachment(make_png(64, 64))})
    await image_of(dc, i)
    assert relay.calls[0].sources == [] and dc.attachment_downloads == []


async def test_a_picture_the_keeper_cannot_download_is_refunded_with_a_sentence(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay, core: Core
) -> None:
    """Discord is answered before its picture is downloaded (core/keeper.py); when that
    download fails (the relay's link already gone), the asker is told, and not charged."""
    relay.script(Reply.ok(image_status=404))
    i = dc.slash_command("draw", {"prompt": "a fox"})
    said = await dc.wait_for_response(i, 10, predicate=lambda m: "no quota" in m.content)
    assert said.content == "The image could not be downloaded. Please try again; no quota was used."
    assert said.ephemeral and not any(m.files for m in i.followups)
    (generation,) = await history(core)
    assert generation.status == "failed" and generation.image_paths == []
    assert relay.image_fetches == 1
    assert "0 of 20 images" in await sentence_of(dc, dc.slash_command("quota"))
