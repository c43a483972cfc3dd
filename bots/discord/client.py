"""The Discord client: discord.py pointed at DISCORD_API_BASE_URL, the command tree, the
persistent buttons, admin alerts, and the adapter's start and stop.

`run` serves until `stop` is set; `sync_commands` publishes the slash commands (done at start
only with DISCORD_SYNC_COMMANDS=on). discord.py reconnects by itself after transient
disconnects; when the gateway closes for good (4004 bad token, 4010-4013, 4014 disallowed
intents) or the client ends by itself, the adapter stops with AdapterDied. /healthz sees the age
of the last heartbeat ACK (of the shard that heard from Discord longest ago).

The client is discord.py's AutoShardedClient: it asks Discord (GET /gateway/bot) how many
shards the bot needs (one until about 2,500 servers) and runs them all in this process. When
Discord later asks for more (close 4011), the adapter stops and the restarted process asks
again. Commands are declared in bots/discord/commands.py and
answered by bots/discord/handlers.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands

from bots.discord.commands import install
from bots.discord.handlers import NO_MENTIONS, DiscordHandlers
from bots.discord.locales import Translator
from bots.liveness import AdapterDied, Liveness
from bots.web import WebServer
from core import messages
from core.answer import Answer, Pictures, Receipt, Say
from core.config import SettingRejected
from core.root import Core

log = logging.getLogger(__name__)

DISCORD_GATEWAY = "wss://gateway.discord.gg/"
DISCORD_HOSTS = ("discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com")
DRAIN_SECONDS = 15.0
UPLOAD_LIMIT = 8 * 1024 * 1024  # a channel message's, for a bot without boosts (25 MB)
# Heartbeats come every ~41 s; discord.py itself reconnects after 60 s of silence.
STALE_AFTER = 90.0
# Gateway close codes discord.py does not reconnect from (Discord's "reconnect: false").
FATAL_CLOSES = {
    4004: "authentication failed: DISCORD_BOT_TOKEN was rejected (see the Developer Portal)",
    4010: "invalid shard",
    4011: "sharding required",
    4012: "invalid API version (check DISCORD_API_BASE_URL)",
    4013: "invalid intents",
    4014: "disallowed intents: the bot asks for a privileged intent it is not granted",
}


# -- where discord.py talks to ----------------------------------------------------------------


def rest_root(base_url: str) -> str:
    """DISCORD_API_BASE_URL as a REST root ending in /api/vN."""
    url = base_url.rstrip("/")
    if re.search(r"/api/v\d+$", url):
        return url
    return f"{url}/v10" if url.endswith("/api") else f"{url}/api/v10"


def gateway_url(root: str) -> str:
    """Discord's gateway for Discord's API, else ws(s)://HOST[:PORT][/prefix]/gateway."""
    parts = urlsplit(root)
    if parts.hostname in DISCORD_HOSTS:
        return DISCORD_GATEWAY
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    prefix = re.sub(r"/api/v\d+$", "", parts.path)
    return urlunsplit((scheme, parts.netloc, f"{prefix}/gateway", "", ""))


def point_discord_at(base_url: str) -> None:
    """Send discord.py's REST, interaction webhooks and gateway to `base_url` (process-wide)."""
    root = rest_root(base_url)
    discord.http.Route.BASE = root
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url(root))


# -- the client -------------------------------------------------------------------------------


class DrawbotClient(discord.AutoShardedClient):
    """discord.py's sharding Client with drawbot's command tree, persistent buttons and admin
    alerts."""

    def __init__(self, core: Core, *, sync: bool | None = None, **options: Any) -> None:
        super().__init__(
            intents=discord.Intents(guilds=True),  # starts from none: no privileged intent
            allowed_mentions=NO_MENTIONS,
            proxy=core.settings.https_proxy,
            max_messages=None,
            **options,
        )
        self.core = core
        self.handlers = DiscordHandlers(core)
        self.sync_on_start = core.settings.discord_sync_commands if sync is None else sync
        self.tree = app_commands.CommandTree(self)
        self.tree.error(self._command_error)
        install(self.tree, self.handlers, core.settings.models)
        self.liveness = Liveness("heartbeat_ack", STALE_AFTER, probe=self.last_ack)

    async def setup_hook(self) -> None:
        await self.tree.set_translator(Translator())
        self.add_dynamic_items(self.handlers.button_type)
        if self.sync_on_start:
            synced = await self.tree.sync()
            log.info("discord: synced %d application commands", len(synced))

    async def launch_shards(self) -> None:
        """As discord.py's, but connect where DISCORD_API_BASE_URL says (point_discord_at), not
        to the URL /gateway/bot names: behind an API proxy that is Discord's own gateway."""
        if self.shard_count is None and not self.is_closed():
            self.shard_count, _, _ = await self.http.get_bot_gateway()
            log.info("discord: %d shard(s)", self.shard_count)
        await super().launch_shards()  # with shard_count known: DiscordWebSocket.DEFAULT_GATEWAY

    async def on_ready(self) -> None:
        log.info("discord: connected as %s (%s)", self.user, self.user.id if self.user else "?")
        self.liveness.up = True
        self.liveness.seen()
        await self.core.front.attach("discord", self.courier)

    async def courier(self, address: str, answer: Answer) -> Receipt | None:
        """Post an answer in the channel where it was asked, without an interaction (core,
        after a restart): the asker is named, not pinged."""
        channel_id, user_id = address.split(":")
        channel = self.get_channel(int(channel_id)) or await self.fetch_channel(int(channel_id))
        if not isinstance(channel, discord.abc.Messageable):
            return None
        if isinstance(answer, Say):
            await channel.send(f"<@{user_id}> {answer.text}"[:2000], allowed_mentions=NO_MENTIONS)
            return None
        if not isinstance(answer, Pictures):
            return None
        answer = await self.handlers.fitted(answer, UPLOAD_LIMIT)
        messages = self.handlers.messages_of(answer, UPLOAD_LIMIT, mention=f"<@{user_id}> ")
        if not any(m["files"] for m in messages):
            return None  # nothing could be attached: core refunds it and keeps the file
        for message in messages:
            await channel.send(allowed_mentions=NO_MENTIONS, **message)
        return Receipt(answer.generation.id, "discord", [])

    def last_ack(self) -> float | None:
        """When the gateway last acknowledged a heartbeat (monotonic), on the shard whose last
        ACK is oldest; None before every shard is connected and while one is reconnecting.

        Read from each shard's keep-alive handler (`_last_ack`, a perf_counter time): it has
        no public equivalent (`latency` is a round trip, not an age). None if that ever
        changes."""
        acks = [shard_ack(info) for info in self.shards.values()]
        if not acks or any(acked is None for acked in acks):
            return None
        oldest = min(acked for acked in acks if acked is not None)
        return time.monotonic() - (time.perf_counter() - oldest)

    async def _command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        log.error("discord: command failed: %r", error)
        with contextlib.suppress(discord.HTTPException):
            lang = self.handlers.lang(interaction)
            await self.handlers.say(interaction, messages.text("error", lang))

    async def alert(self, kind: str, text: str) -> None:
        """Admin alert sink: DM every discord:<id> in ADMIN_IDS (best effort)."""
        for user_id in self.core.settings.admins_on("discord"):
            try:
                user = self.get_user(int(user_id)) or await self.fetch_user(int(user_id))
                await user.send(text, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as error:
                log.warning("discord: could not alert %s about %s: %s", user_id, kind, error)

    async def drain(self) -> None:
        """Let handlers still answering (their draws finished or were refunded) send replies."""
        running = set(self.handlers.running)
        if running:
            await asyncio.wait(running, timeout=DRAIN_SECONDS)


def shard_ack(info: discord.ShardInfo) -> float | None:
    """A shard's last heartbeat ACK (perf_counter), from discord.py's private keep-alive."""
    socket = getattr(getattr(info, "_parent", None), "ws", None)
    acked = getattr(getattr(socket, "_keep_alive", None), "_last_ack", None)
    return acked if isinstance(acked, float) else None


def _token(core: Core) -> str:
    """The bot token, after checking what discord.py cannot work with."""
    token = core.settings.discord_bot_token
    if token is None or not token.reveal():
        raise SettingRejected("DISCORD_BOT_TOKEN", "is required for the Discord adapter")
    proxy = core.settings.https_proxy
    if proxy and not proxy.startswith(("http://", "https://")):
        raise SettingRejected(
            "HTTPS_PROXY",
            "is a SOCKS proxy, which discord.py cannot use; "
            "give an http:// or https:// proxy for Discord",
        )
    return token.reveal()


async def serve(
    client: DrawbotClient,
    stop: asyncio.Event,
    web: WebServer | None = None,
    *,
    stale_after: float = STALE_AFTER,
) -> None:
    """Run `client` until `stop` is set, then let answers in progress finish and close.

    Raises AdapterDied when the gateway closes for good or the client ends by itself, and
    SettingRejected when Discord refuses the token at login. `stale_after`: seconds without a
    heartbeat ACK after which /healthz reports the adapter stale."""
    core = client.core
    token = _token(core)
    point_discord_at(core.settings.discord_api_base_url)
    client.liveness.stale_after = stale_after
    if web is not None:
        web.track("discord", client.liveness)
    core.service.alert_sinks.append(client.alert)
    runner = asyncio.create_task(client.start(token), name="discord-client")
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({runner, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done and not stop.is_set():
            _ended(runner)
        await client.drain()
    finally:
        stopping.cancel()
        core.front.detach("discord")
        core.service.alert_sinks.remove(client.alert)
        client.liveness.up = False
        await client.close()
        if not runner.done():
            await asyncio.wait({runner}, timeout=10)
        await asyncio.sleep(0)  # let events scheduled while closing (on_disconnect) start


def _ended(runner: asyncio.Task[None]) -> None:
    """Why the client ended without being asked to: always raises."""
    try:
        runner.result()
    except discord.LoginFailure:
        raise SettingRejected("DISCORD_BOT_TOKEN", "was rejected by Discord") from None
    except discord.PrivilegedIntentsRequired:
        raise AdapterDied(gateway_closed(4014)) from None
    except discord.ConnectionClosed as closed:
        raise AdapterDied(gateway_closed(closed.code)) from None
    raise AdapterDied("the Discord client ended by itself")


def gateway_closed(code: int) -> str:
    """One line for a gateway close discord.py does not reconnect from."""
    reason = FATAL_CLOSES.get(code, "discord.py does not reconnect from it")
    return f"Discord closed the gateway with code {code}: {reason}"


async def run(core: Core, stop: asyncio.Event, web: WebServer | None = None) -> None:
    """The adapter entry point used by `python -m bots`."""
    await serve(DrawbotClient(core), stop, web)


async def sync_commands(core: Core) -> int:
    """Publish the slash commands (global) and return how many; for an operator command."""
    token = _token(core)
    point_discord_at(core.settings.discord_api_base_url)
    client = DrawbotClient(core, sync=False)
    async with client:
        await client.login(token)
        synced = await client.tree.sync()
    log.info("discord: synced %d application commands", len(synced))
    return len(synced)
