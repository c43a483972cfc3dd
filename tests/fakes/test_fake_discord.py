"""Run the real discord.py Client + CommandTree against the fake Discord (no mocks)."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from .base import wait_for
from .discord import EPHEMERAL, FakeDiscord, point_discord_py_at, reset_discord_py

TOKEN = "discord-test-token"
APP_ID = 1001
GUILD_ID = 10
CHANNEL_ID = 20
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
AGAIN_ID = "drawbot:again"


class AgainView(discord.ui.View):
    """A persistent view: timeout=None and a fixed custom_id."""

    def __init__(self, client: DrawClient) -> None:
        super().__init__(timeout=None)
        self.client = client

    @discord.ui.button(label="Again", custom_id=AGAIN_ID, style=discord.ButtonStyle.primary)
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.client.seen["again_by"] = interaction.user.id
        await interaction.response.send_message("again!", ephemeral=True)


class Translator(app_commands.Translator):
    """Gives zh-CN localizations so the sync carries some."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContext[Any, Any],
    ) -> str | None:
        table = {"ping": "乒", "Reply with pong": "回复 pong"}
        return table.get(string.message) if locale is discord.Locale.chinese else None


class DrawClient(discord.Client):
    """A small bot shaped like drawbot's Discord side."""

    def __init__(self, fake: FakeDiscord) -> None:
        super().__init__(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
        self.fake = fake
        self.tree = app_commands.CommandTree(self)
        self.seen: dict[str, Any] = {}

        @self.tree.command(name="ping", description=app_commands.locale_str("Reply with pong"))
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(
                "<@5> pong",
                allowed_mentions=discord.AllowedMentions(
                    everyone=False, roles=False, users=[discord.Object(5)]
                ),
            )

        @self.tree.command(name="draw", description="Draw a picture")
        @app_commands.describe(prompt="What to draw", size="WxH", steps="Sampling steps")
        async def draw(
            interaction: discord.Interaction, prompt: str, size: str = "512x512", steps: int = 20
        ) -> None:
            await interaction.response.defer(thinking=True)
            self.seen["draw"] = (prompt, size, steps, str(interaction.locale))
            await asyncio.sleep(0.05)  # "drawing"
            await interaction.followup.send(
                content=f"**{prompt}** ({size})",
                file=discord.File(io.BytesIO(PNG), filename="out.png"),
                view=AgainView(self),
            )

        @self.tree.command(name="late", description="Answers too late")
        async def late(interaction: discord.Interaction) -> None:
            await asyncio.sleep(self.fake.callback_timeout + 0.2)
            try:
                await interaction.response.defer()
            except discord.HTTPException as exc:
                self.seen["late"] = exc

        @self.tree.command(name="twice", description="Acknowledges twice")
        async def twice(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            try:  # a fresh InteractionResponse skips discord.py's own "already responded" check
                await discord.InteractionResponse(interaction).defer()
            except discord.HTTPException as exc:
                self.seen["twice"] = exc
            await interaction.followup.send("done")

    async def setup_hook(self) -> None:
        self.add_view(AgainView(self))


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord(token=TOKEN, application_id=APP_ID, bot_user_id=APP_ID)
    async with fake:
        fake.add_guild(guild_id=GUILD_ID, name="Test", channel_ids=[CHANNEL_ID])
        saved = point_discord_py_at(fake)
        try:
            yield fake
        finally:
            reset_discord_py(saved)


@asynccontextmanager
async def running(fake: FakeDiscord, min_identifies: int = 1) -> AsyncIterator[DrawClient]:
    """Start a DrawClient, wait for READY, and close it afterwards (must be quick)."""
    client = DrawClient(fake)
    task = asyncio.create_task(client.start(TOKEN))
    try:
        await fake.wait_ready(within=5, min_identifies=min_identifies)
        await asyncio.wait_for(client.wait_until_ready(), 5)  # client processed GUILD_CREATE
        yield client
    finally:
        started = time.monotonic()
        await client.close()
        await asyncio.wait_for(task, 5)
        assert time.monotonic() - started < 2.0


async def test_login_ready_and_guilds(dc: FakeDiscord) -> None:
    async with running(dc) as client:
        assert client.user is not None and client.user.id == APP_ID
        assert client.application_id == APP_ID
        guild = client.get_guild(GUILD_ID)
        assert guild is not None and guild.get_channel(CHANNEL_ID) is not None
        assert dc.identify_count == 1
        assert dc.identify_payloads[0]["intents"] == discord.Intents(guilds=True).value
        assert dc.gateway_queries[0]["compress"] == "zlib-stream"
        assert dc.heartbeat_count >= 1  # discord.py beats right after HELLO
        # A normal channel post with a file.
        channel = client.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("hi", file=discord.File(io.BytesIO(PNG), "a.png"))
        assert sent.attachments[0].filename == "a.png" and sent.attachments[0].size == len(PNG)
    assert dc.messages[-1].kind == "channel" and dc.messages[-1].files == [("a.png", PNG)]
    await wait_for(lambda: not dc._connections, 2, "the client to disconnect")


async def test_sync_records_commands(dc: FakeDiscord) -> None:
    async with running(dc) as client:
        await client.tree.set_translator(Translator())
        await client.tree.sync()
    assert [c.status for c in dc.sync_calls] == [200]
    names = sorted(c["name"] for c in dc.synced_commands)
    assert names == ["draw", "late", "ping", "twice"]
    ping = dc.find_command("ping")
    assert ping is not None
    assert ping["name_localizations"] == {"zh-CN": "乒"}
    assert ping["description_localizations"] == {"zh-CN": "回复 pong"}
    draw = dc.find_command("draw")
    assert draw is not None
    options = {o["name"]: (o["type"], o.get("required", False)) for o in draw["options"]}
    assert options == {"prompt": (3, True), "size": (3, False), "steps": (4, False)}


async def test_slash_defer_then_followup_with_file(dc: FakeDiscord) -> None:
    async with running(dc) as client:
        await client.tree.sync()
        i = dc.slash_command(
            "draw",
            options={"prompt": "a cat", "size": "768x512", "steps": 30},
            user_id=5,
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            locale="zh-CN",
        )
        msg = await dc.wait_for_response(i, within=5)
    assert client.seen["draw"] == ("a cat", "768x512", 30, "zh-CN")
    assert [c.type for c in i.callbacks] == [5]
    assert i.response_latency is not None and i.response_latency < 1.0
    # The first follow-up after a defer replaces the "thinking" message.
    assert msg is i.original and msg in i.followups and not msg.loading
    assert msg.content == "**a cat** (768x512)" and msg.files == [("out.png", PNG)]
    assert not msg.ephemeral and msg.interaction_id == i.id
    assert AGAIN_ID in msg.custom_ids()
    assert msg in dc.messages


async def test_persistent_button_after_restart(dc: FakeDiscord) -> None:
    async with running(dc):
        first = dc.slash_command("draw", options={"prompt": "a fox"})
        posted = await dc.wait_for_response(first, within=5)
    async with running(dc, min_identifies=2) as fresh:
        click = dc.click_button(AGAIN_ID, message=posted, user_id=7)
        answer = await dc.wait_for_response(click, within=5)
    assert dc.identify_count == 2
    assert fresh.seen["again_by"] == 7
    assert answer.content == "again!" and answer.ephemeral
    assert answer.flags & EPHEMERAL
    assert click.payload["message"]["id"] == str(posted.id)


async def test_late_callback_is_unknown_interaction(dc: FakeDiscord) -> None:
    dc.callback_timeout = 0.3
    async with running(dc) as client:
        i = dc.slash_command("late")
        await wait_for(lambda: "late" in client.seen, 5, "the late handler")
    exc = client.seen["late"]
    assert isinstance(exc, discord.NotFound) and exc.code == 10062
    assert not i.callbacks and i.rejected_callbacks[0].status == 404


async def test_double_acknowledge_is_rejected(dc: FakeDiscord) -> None:
    async with running(dc) as client:
        i = dc.slash_command("twice")
        await dc.wait_for_response(i, within=5)
    exc = client.seen["twice"]
    assert isinstance(exc, discord.HTTPException) and exc.status == 400 and exc.code == 40060
    assert len(i.callbacks) == 1 and i.rejected_callbacks[0].status == 400


async def test_allowed_mentions_recorded(dc: FakeDiscord) -> None:
    async with running(dc):
        i = dc.slash_command("ping", guild_id=None)  # DM
        msg = await dc.wait_for_response(i, within=5)
    assert [c.type for c in i.callbacks] == [4]
    assert msg.content == "<@5> pong" and msg.guild_id is None
    assert msg.allowed_mentions == {"parse": [], "users": [5], "replied_user": True}


async def test_resume_after_server_disconnect(dc: FakeDiscord) -> None:
    async with running(dc):
        dc.disconnect_clients(code=4000)
        await wait_for(lambda: dc.resume_count == 1, 5, "a RESUME")
        i = dc.slash_command("ping")
        await dc.wait_for_response(i, within=5)
    assert dc.identify_count == 1


async def test_rest_errors_and_limits(dc: FakeDiscord) -> None:
    api = dc.api_base_url
    auth = {"Authorization": f"Bot {TOKEN}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{api}/users/@me") as resp:
            assert resp.status == 401 and resp.headers["Content-Type"] == "application/json"
            assert await resp.json() == {"message": "401: Unauthorized", "code": 0}
        async with http.get(f"{api}/nope", headers=auth) as resp:
            assert resp.status == 404 and (await resp.json())["code"] == 0
        bad = [{"name": "Bad Name", "description": ""}, {"name": "ok", "description": "x" * 101}]
        async with http.put(
            f"{api}/applications/{APP_ID}/commands", json=bad, headers=auth
        ) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 50035
            errors = (await resp.json())["errors"]
            assert errors["0"]["name"]["_errors"][0]["code"] == "APPLICATION_COMMAND_INVALID_NAME"
            assert "description" in errors["0"] and "description" in errors["1"]

    dc.add_guild(guild_id=GUILD_ID, name="Test", channel_ids=[CHANNEL_ID], upload_limit=1000)
    async with running(dc) as client:
        channel = client.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x" * 2001)
        assert too_long.value.status == 400 and too_long.value.code == 50035
        assert "content" in too_long.value.text
        with pytest.raises(discord.HTTPException) as too_big:
            await channel.send(file=discord.File(io.BytesIO(b"0" * 2000), "big.png"))
        assert too_big.value.status == 413 and too_big.value.code == 40005
        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="x", custom_id="c" * 101))
        with pytest.raises(discord.HTTPException) as bad_id:
            await channel.send("hi", view=view)
        assert bad_id.value.code == 50035 and "custom_id" in bad_id.value.text
    assert dc.messages == []
