"""A fake Discord (the REST calls and gateway drawbot uses) on 127.0.0.1, for tests.

The real discord.py ``Client`` and ``CommandTree`` run against it unchanged, once pointed at it
(:func:`point_discord_py_at`, or drawbot's own ``DISCORD_API_BASE_URL`` handling)::

    async with FakeDiscord(token="t", application_id=1001) as dc:
        dc.add_guild(10, "Test", [20])
        ...  # start the client
        await dc.wait_ready()
        i = dc.slash_command("draw", {"prompt": "a cat"})
        message = await dc.wait_for_response(i)

REST is served under ``/api/v10``, the gateway at ``/gateway`` (zlib-stream honoured; HELLO,
heartbeat ACKs, IDENTIFY, RESUME with replay). Interactions follow Discord's rules: one
callback within ``callback_timeout`` (else 10062), a second one is 40060, the first follow-up
after a defer replaces the placeholder and keeps its visibility, uploads over the guild's limit
are 413/40005, content over 2000 characters or bad components are 50035.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

from .base import FakeServer, notify, wait_for
from .discord_records import (
    EPHEMERAL,
    LOADING,
    ApiError,
    CallbackRecord,
    FakeFile,
    FakeInteraction,
    FakeMessage,
    SyncCall,
    check_commands,
    check_message,
    check_not_empty,
)

__all__ = [
    "EPHEMERAL",
    "DiscordPyTargets",
    "FakeDiscord",
    "FakeInteraction",
    "FakeMessage",
    "point_discord_py_at",
    "reset_discord_py",
]

DISCORD_EPOCH_MS = 1_420_070_400_000
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
EVERYTHING = (1 << 41) - 1  # the permissions of the guild's @everyone unless given
# What a user install may do where the bot is not a member: answer through the interaction
# (send messages, embed links, attach files, use external emojis).
USER_INSTALL_APP_PERMISSIONS = (1 << 11) | (1 << 14) | (1 << 15) | (1 << 18)
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_RESUME = 0, 1, 2, 6
OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 9, 10, 11
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE = 2, 3, 4
CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_AUTOCOMPLETE = 4, 5, 6, 8
ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {CB_MESSAGE, CB_DEFERRED_MESSAGE},
    MESSAGE_COMPONENT: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE},
    AUTOCOMPLETE: {CB_AUTOCOMPLETE},
}
OPTION_TYPES: dict[int, Callable[[Any], Any]] = {3: str, 4: int, 5: bool, 10: float}
OPT_SUBCOMMAND, OPT_USER, OPT_ATTACHMENT = 1, 6, 11


@dataclass(frozen=True)
class DiscordPyTargets:
    """Where discord.py talks to (saved to restore after a test)."""

    route_base: str
    default_gateway: str


def point_discord_py_at(fake: FakeDiscord) -> DiscordPyTargets:
    """Send discord.py's REST, interaction webhooks and gateway to ``fake``; returns the old."""
    import discord.gateway
    import discord.http
    import yarl

    previous = DiscordPyTargets(
        discord.http.Route.BASE, str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    )
    discord.http.Route.BASE = fake.api_base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    return previous


def reset_discord_py(previous: DiscordPyTargets) -> None:
    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = previous.route_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(previous.default_gateway)


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).isoformat()


def _json(data: Any, status: int = 200) -> web.Response:
    """``Content-Type: application/json`` exactly (discord.py compares it)."""
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


@dataclass
class _Upload:
    filename: str
    data: bytes
    content_type: str | None


@dataclass
class _Guild:
    id: int
    name: str
    channel_ids: list[int]
    upload_limit: int
    permissions: int


class _Connection:
    """One gateway WebSocket: an ordered writer, zlib-stream compressed when asked."""

    def __init__(self, ws: web.WebSocketResponse, *, zlib_stream: bool) -> None:
        self.ws = ws
        self._compressor = zlib.compressobj() if zlib_stream else None
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write())
        self.session: _Session | None = None
        self.closing = False
        self.close_sent = False

    def send(self, payload: dict[str, Any]) -> None:
        if self.closing:
            return
        text = json.dumps(payload)
        if self._compressor is None:
            self._queue.put_nowait(("text", text))
            return
        data = self._compressor.compress(text.encode()) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        self._queue.put_nowait(("bytes", data))

    def close(self, code: int) -> None:
        """Close after everything queued so far was sent."""
        if not self.closing:
            self.closing = True
            self._queue.put_nowait(("close", code))

    async def _write(self) -> None:
        while True:
            kind, value = await self._queue.get()
            try:
                if kind == "bytes":
                    await self.ws.send_bytes(value)
                elif kind == "text":
                    await self.ws.send_str(value)
                else:
                    self.close_sent = True
                    await self.ws.close(code=value)
                    return
            except (ConnectionError, RuntimeError):
                return

    async def stop(self) -> None:
        if self.close_sent:  # a close we started: let the client's reply complete it (else 1006)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._writer), 2.0)
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


@dataclass
class _Session:
    id: str
    conn: _Connection | None
    seq: int = 0
    invalidated: bool = False
    shard: tuple[int, int] | None = None  # [shard_id, num_shards] as IDENTIFY gave it
    backlog: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))


class FakeDiscord(FakeServer):
    """Fake Discord REST API and gateway on one aiohttp server."""

    client_max_size = 1 << 30
    shutdown_timeout = 1.0
    handler_cancellation = False  # gateway handlers clean up after their socket closes

    def __init__(
        self,
        token: str = "discord-test-token",
        application_id: int = 1001,
        bot_user_id: int | None = None,
        *,
        callback_timeout: float = 3.0,
        token_lifetime: float = 15 * 60,
        upload_limit: int = DEFAULT_UPLOAD_LIMIT,
    ) -> None:
        super().__init__()
        self.token = token
        self.application_id = application_id
        self.bot_user_id = bot_user_id if bot_user_id is not None else application_id
        self.callback_timeout = callback_timeout  # Discord: 3 s to acknowledge an interaction
        self.token_lifetime = token_lifetime  # Discord: 15 min for follow-ups and edits
        self.upload_limit = upload_limit  # DMs and guilds without their own
        self.messages: list[FakeMessage] = []
        self.interactions: list[FakeInteraction] = []
        self.synced_commands: list[dict[str, Any]] = []
        self.sync_calls: list[SyncCall] = []
        self.identify_count = 0
        self.identify_payloads: list[dict[str, Any]] = []
        self.resume_count = 0
        self.heartbeat_count = 0
        self.gateway_queries: list[dict[str, str]] = []
        self.shards = 1  # what GET /gateway/bot recommends
        self.token_revoked = False  # disconnect_clients(4004): the gateway refuses the token
        self.bot_gateway_calls = 0
        self._guilds: dict[int, _Guild] = {}
        self._channel_guild: dict[int, int] = {}
        self._dm_channels: dict[int, int] = {}  # channel id -> user id
        self._messages_by_id: dict[int, FakeMessage] = {}
        self._interactions_by_id: dict[int, FakeInteraction] = {}
        self._command_ids: dict[str, int] = {}
        self._sessions: dict[str, _Session] = {}
        self._connections: set[_Connection] = set()
        self._last_snowflake = 0
        self._attachments: dict[str, tuple[dict[str, Any], bytes]] = {}  # id -> payload, data
        self.attachment_downloads: list[str] = []  # ids of attachments downloaded from the CDN

    @property
    def api_base_url(self) -> str:
        """The REST root, the value for ``DISCORD_API_BASE_URL``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/gateway"

    def routes(self, app: web.Application) -> None:
        api = "/api/v{version:\\d+}"
        webhook_message = api + "/webhooks/{app_id}/{token}/messages/{message_id}"
        for method, path, handler in (
            ("GET", "/users/@me", self._get_me),
            ("GET", "/users/{user_id:\\d+}", self._get_user),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/gateway/bot", self._get_bot_gateway),
            ("PUT", "/applications/{app_id}/commands", self._put_commands),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app_id}/{token}", self._followup),
            ("POST", "/channels/{channel_id}/messages", self._channel_post),
        ):
            app.router.add_route(method, api + path, handler)
        app.router.add_patch(webhook_message, self._edit_webhook_message)
        app.router.add_delete(webhook_message, self._edit_webhook_message)
        app.router.add_get("/attachments/{id}/{filename}", self._attachment_file)
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_get("/gateway/", self._handle_gateway)

    def middlewares(self) -> list[Any]:
        public = ("/interactions/", "/webhooks/")

        @web.middleware
        async def auth_and_errors(request: web.Request, handler: Any) -> web.StreamResponse:
            if request.match_info.http_exception is not None:
                status = request.match_info.http_exception.status
                return _json({"message": f"{status}: Not Found", "code": 0}, status)
            needs_token = request.path.startswith("/api/") and not any(
                p in request.path for p in public
            )
            if needs_token and request.headers.get("Authorization") != f"Bot {self.token}":
                return _json({"message": "401: Unauthorized", "code": 0}, 401)
            try:
                response: web.StreamResponse = await handler(request)
                return response
            except ApiError as error:
                return _json(error.body, error.status)

        return [auth_and_errors]

    async def closing(self) -> None:
        """Close gateway connections (1001) and give them a moment to go."""
        for conn in list(self._connections):
            conn.close(1001)
        with contextlib.suppress(TimeoutError):
            await wait_for(lambda: not self._connections, 2.0, "gateway connections to close")

    # -------------------------------------------------------------------- world and waiting

    def add_guild(
        self,
        guild_id: int,
        name: str = "Test",
        channel_ids: Sequence[int] = (),
        upload_limit: int | None = None,
        *,
        permissions: int = EVERYTHING,
    ) -> None:
        """A guild with text channels; connected clients get its GUILD_CREATE."""
        limit = upload_limit if upload_limit is not None else self.upload_limit
        guild = _Guild(guild_id, name, list(channel_ids), limit, permissions)
        self._guilds[guild_id] = guild
        for channel_id in channel_ids:
            self._channel_guild[channel_id] = guild_id
        for session in self._live_sessions():
            if self._on_shard(session, guild_id):
                self._send_dispatch(session, "GUILD_CREATE", self._guild_payload(guild))

    async def wait_ready(self, within: float = 5.0, *, min_identifies: int = 1) -> None:
        """A client identified (``min_identifies`` times in all) and holds a live session."""
        await wait_for(
            lambda: (
                self.identify_count >= min_identifies
                and any(s.conn is not None for s in self._live_sessions())
            ),
            within,
            "a client to identify and get READY",
        )

    async def wait_for_response(
        self,
        interaction: FakeInteraction,
        within: float = 5.0,
        predicate: Callable[[FakeMessage], bool] | None = None,
    ) -> FakeMessage:
        """The first message answering ``interaction`` (matching ``predicate``, if given)."""
        return await wait_for(
            lambda: next((m for m in interaction.answers if not predicate or predicate(m)), None),
            within,
            f"an answer to interaction {interaction.id}",
        )

    async def wait_for_callback(
        self, interaction: FakeInteraction, within: float = 5.0
    ) -> CallbackRecord:
        return await wait_for(
            lambda: interaction.callbacks[0] if interaction.callbacks else None,
            within,
            f"a callback for interaction {interaction.id}",
        )

    async def wait_for_message(
        self, predicate: Callable[[FakeMessage], bool], within: float = 5.0
    ) -> FakeMessage:
        """Any bot message matching ``predicate``."""
        return await wait_for(
            lambda: next((m for m in self.messages if predicate(m)), None), within, "a message"
        )

    async def wait_for_sync(self, count: int = 1, within: float = 5.0) -> SyncCall:
        """The latest command sync once ``count`` happened."""
        return await wait_for(
            lambda: self.sync_calls[-1] if len(self.sync_calls) >= count else None,
            within,
            f"{count} command sync(s)",
        )

    def find_command(self, name: str) -> dict[str, Any] | None:
        """The synced chat-input command ``name``."""
        return next((c for c in self.synced_commands if c["name"] == name), None)

    # ------------------------------------------------------------------------- payloads

    def _snowflake(self) -> int:
        value = max((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22, self._last_snowflake + 1)
        self._last_snowflake = value
        return value

    def _user(self, user_id: int) -> dict[str, Any]:
        bot = user_id == self.bot_user_id
        name = "drawbot" if bot else f"user{user_id}"
        return {
            "id": str(user_id),
            "username": name,
            "discriminator": "0001" if bot else "0",
            "global_name": None if bot else f"User {user_id}",
            "avatar": None,
            "bot": bot,
            "public_flags": 0,
        }

    def _member(self, user_id: int, permissions: int | None = None) -> dict[str, Any]:
        member: dict[str, Any] = {
            "user": self._user(user_id),
            "roles": [],
            "joined_at": _iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
        }
        if permissions is not None:
            member["permissions"] = str(permissions)
        return member

    def _channel_payload(self, channel_id: int) -> dict[str, Any]:
        if channel_id in self._dm_channels:
            recipient = self._user(self._dm_channels[channel_id])
            return {"id": str(channel_id), "type": 1, "recipients": [recipient]}
        guild_id = self._channel_guild[channel_id]
        position = self._guilds[guild_id].channel_ids.index(channel_id)
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": f"channel-{position}",
            "position": position,
            "permission_overwrites": [],
        }

    def _guild_payload(self, guild: _Guild) -> dict[str, Any]:
        everyone = {"id": str(guild.id), "name": "@everyone", "position": 0}
        everyone.update(permissions=str(guild.permissions), color=0, hoist=False, managed=False)
        return {
            "id": str(guild.id),
            "name": guild.name,
            "owner_id": "1",
            "unavailable": False,
            "member_count": 1,
            "features": [],
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "channels": [self._channel_payload(c) for c in guild.channel_ids],
            "threads": [],
            "members": [self._member(self.bot_user_id)],
            "presences": [],
            "voice_states": [],
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "joined_at": _iso(),
        }

    def _upload_limit(self, guild_id: int | None) -> int:
        guild = self._guilds.get(guild_id) if guild_id is not None else None
        return guild.upload_limit if guild else self.upload_limit

    def message_payload(self, msg: FakeMessage) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(msg.id),
            "type": msg.type,
            "channel_id": str(msg.channel_id),
            "content": msg.content,
            "author": self._user(msg.author_id),
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [f.payload() for f in msg.attachments],
            "embeds": [],
            "components": msg.components,
            "pinned": False,
            "flags": msg.flags,
            "timestamp": _iso(((msg.id >> 22) + DISCORD_EPOCH_MS) / 1000),
            "edited_timestamp": _iso() if msg.edits else None,
        }
        if msg.guild_id is not None:
            out["guild_id"] = str(msg.guild_id)
        if msg.interaction_id is not None:
            out["webhook_id"] = out["application_id"] = str(self.application_id)
        return out

    def _files(self, uploads: list[_Upload], guild_id: int | None) -> list[FakeFile]:
        if sum(len(u.data) for u in uploads) > self._upload_limit(guild_id):
            raise ApiError(413, 40005, "Request entity too large")
        return [FakeFile(self._snowflake(), u.filename, u.data, u.content_type) for u in uploads]

    def _new_message(
        self,
        body: dict[str, Any],
        files: list[FakeFile],
        channel_id: int,
        guild_id: int | None,
        kind: str,
        interaction: FakeInteraction | None = None,
        *,
        flags: int = 0,
        record: bool = True,
    ) -> FakeMessage:
        msg = FakeMessage(
            id=self._snowflake(),
            channel_id=channel_id,
            guild_id=guild_id,
            kind=kind,
            content=body.get("content") or "",
            components=list(body.get("components") or []),
            attachments=files,
            allowed_mentions=body.get("allowed_mentions"),
            flags=int(body.get("flags") or 0) | flags,
            type=20 if interaction and interaction.type == APPLICATION_COMMAND else 0,
            author_id=self.bot_user_id,
            interaction_id=interaction.id if interaction else None,
        )
        self._messages_by_id[msg.id] = msg
        if record:
            self.messages.append(msg)
        return msg

    def _edit(
        self, msg: FakeMessage, body: dict[str, Any], files: list[FakeFile], *, fill: bool
    ) -> None:
        """PATCH semantics: only the fields sent change (``fill`` resolves a placeholder)."""
        if "content" in body:
            msg.content = body["content"] or ""
        if "components" in body:
            msg.components = list(body["components"] or [])
        if "allowed_mentions" in body:
            msg.allowed_mentions = body["allowed_mentions"]
        if "attachments" in body:
            keep = {str(a.get("id")) for a in body["attachments"] or []}
            msg.attachments = [f for f in msg.attachments if str(f.id) in keep]
        msg.attachments.extend(files)
        if fill:
            msg.flags &= ~LOADING
        else:
            msg.edits.append(body)
        if msg not in self.messages:
            self.messages.append(msg)

    # ---------------------------------------------------------------- gateway: test side

    @staticmethod
    def _on_shard(session: _Session, guild_id: int) -> bool:
        """Whether the guild's events go to this session: Discord's (guild_id >> 22) % shards."""
        if session.shard is None:
            return True
        shard_id, count = session.shard
        return (guild_id >> 22) % count == shard_id

    def _live_sessions(self) -> list[_Session]:
        return [s for s in self._sessions.values() if not s.invalidated]

    def _send_dispatch(self, session: _Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
        session.backlog.append(payload)
        if session.conn is not None:
            session.conn.send(payload)

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH event to every live session (kept for a RESUME)."""
        sessions = self._live_sessions()
        if not sessions:
            raise RuntimeError("no client session to dispatch to; await dc.wait_ready() first")
        for session in sessions:
            self._send_dispatch(session, event, data)

    def disconnect_clients(self, code: int = 4000) -> None:
        """Close every gateway connection from the server side (4000: the client resumes).

        4004 means the token is no longer accepted: later IDENTIFY and RESUME get 4004 too (a
        client that missed the code, as a close racing the client's reply reads as 1006, is
        told again)."""
        if code == 4004:
            self.token_revoked = True
        for conn in list(self._connections):
            conn.close(code)

    def _interaction(
        self,
        itype: int,
        data: dict[str, Any],
        user_id: int,
        guild_id: int | None,
        channel_id: int | None,
        locale: str,
        permissions: int | None = None,
        message: FakeMessage | None = None,
        *,
        user_install: bool = False,
    ) -> FakeInteraction:
        if guild_id is not None and guild_id not in self._guilds and not user_install:
            raise ValueError(f"unknown guild {guild_id}; call add_guild() first")
        if user_install:
            return self._user_install_interaction(
                itype, data, user_id, guild_id, channel_id, locale, permissions
            )
        if channel_id is None:
            if guild_id is not None:
                channel_id = self._guilds[guild_id].channel_ids[0]
            else:
                dms = (c for c, u in self._dm_channels.items() if u == user_id)
                channel_id = next(dms, None) or self._snowflake()
        payload = self._interaction_payload(
            itype, data, channel_id, locale, self._upload_limit(guild_id)
        )
        if guild_id is not None:
            guild = self._guilds[guild_id]
            perms = guild.permissions if permissions is None else permissions
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=self._member(user_id, perms),
                app_permissions=str(guild.permissions),
                context=0,
            )
        else:
            self._dm_channels.setdefault(channel_id, user_id)
            payload.update(user=self._user(user_id), app_permissions="0", context=1)
        payload["channel"] = self._channel_payload(channel_id)
        if message is not None:
            payload["message"] = self.message_payload(message)
        payload["authorizing_integration_owners"] = {"0": str(guild_id or 0)}
        return self._deliver(itype, payload, guild_id, channel_id, user_id)

    def _interaction_payload(
        self, itype: int, data: dict[str, Any], channel_id: int, locale: str, upload_limit: int
    ) -> dict[str, Any]:
        """What every interaction carries, with a fresh id and token."""
        return {
            "id": str(self._snowflake()),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(32),
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "channel_id": str(channel_id),
            "attachment_size_limit": upload_limit,
        }

    def _user_install_interaction(
        self,
        itype: int,
        data: dict[str, Any],
        user_id: int,
        guild_id: int | None,
        channel_id: int | None,
        locale: str,
        permissions: int | None,
    ) -> FakeInteraction:
        """Through the asker's own install of the app (integration type 1): in a server where
        the bot is not a member (context 0; no GUILD_CREATE ever came, and the bot cannot post
        in its channels), or in a DM with another person (context 2, a private channel)."""
        channel_id = channel_id or self._snowflake()
        payload = self._interaction_payload(itype, data, channel_id, locale, self.upload_limit)
        payload["authorizing_integration_owners"] = {"1": str(user_id)}
        payload["app_permissions"] = str(USER_INSTALL_APP_PERMISSIONS)
        if guild_id is not None:
            channel = {"id": str(channel_id), "type": 0, "guild_id": str(guild_id)}
            channel.update(name="elsewhere", position=0, permission_overwrites=[])
            perms = EVERYTHING if permissions is None else permissions
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=self._member(user_id, perms),
                channel=channel,
                context=0,
            )
        else:
            friend = self._user(user_id + 1)
            channel = {"id": str(channel_id), "type": 1, "recipients": [friend]}
            payload.update(user=self._user(user_id), channel=channel, context=2)
        return self._deliver(itype, payload, guild_id, channel_id, user_id)

    def _deliver(
        self,
        itype: int,
        payload: dict[str, Any],
        guild_id: int | None,
        channel_id: int,
        user_id: int,
    ) -> FakeInteraction:
        iid, token = int(payload["id"]), payload["token"]
        interaction = FakeInteraction(iid, token, itype, payload, guild_id, channel_id, user_id)
        self._interactions_by_id[iid] = interaction
        self.interactions.append(interaction)
        self.dispatch("INTERACTION_CREATE", payload)
        interaction.created_at = time.monotonic()
        return interaction

    def _command_data(
        self, name: str, values: Mapping[str, Any], guild_id: int | None, focused: str | None
    ) -> dict[str, Any]:
        """``data`` of a command interaction, typed from the synced command when there is one.

        ``name`` may be "group sub"; a user option takes a user id.
        """
        root, *path = name.split()
        synced = self.find_command(root)
        defs: list[dict[str, Any]] | None = synced.get("options", []) if synced else None
        chain: list[dict[str, Any]] = []
        for part in path:
            sub = next((d for d in defs or [] if d["name"] == part), None)
            if defs is not None and sub is None:
                raise ValueError(f"/{root} has no subcommand {part!r}")
            chain.append({"name": part, "type": OPT_SUBCOMMAND})
            defs = sub.get("options", []) if sub else None
        by_name = {d["name"]: d for d in defs or []}
        resolved: dict[str, Any] = {}
        options: list[dict[str, Any]] = []
        for key, value in values.items():
            if defs is not None and key not in by_name:
                raise ValueError(f"/{name} has no option {key!r} (synced: {sorted(by_name)})")
            otype = by_name[key]["type"] if key in by_name else _infer_type(value)
            if key == focused:
                options.append({"name": key, "type": otype, "value": str(value), "focused": True})
                continue
            if otype == OPT_USER:
                resolved.setdefault("users", {})[str(value)] = self._user(int(value))
                value = str(value)
            elif otype == OPT_ATTACHMENT:  # the id `attachment()` gave
                resolved.setdefault("attachments", {})[value] = self._attachments[value][0]
            else:
                value = OPTION_TYPES[otype](value)
            options.append({"name": key, "type": otype, "value": value})
        for item in defs or []:
            if focused is None and item.get("required") and item["name"] not in values:
                raise ValueError(f"/{name} needs option {item['name']!r}")
        for link in reversed(chain):
            link["options"], options = options, [link]
        data = {"id": synced["id"] if synced else str(self._snowflake()), "name": root, "type": 1}
        data["options"] = options
        if resolved:
            data["resolved"] = resolved
        return data

    def attachment(
        self, data: bytes, filename: str = "picture.png", content_type: str | None = "image/png"
    ) -> str:
        """A file a user attaches to a command option (type 11): its id, the option's value.
        It is served at its URL on this server (Discord's CDN)."""
        attachment_id = str(self._snowflake())
        url = f"{self.base_url}/attachments/{attachment_id}/{filename}"
        payload: dict[str, Any] = {"id": attachment_id, "filename": filename, "size": len(data)}
        payload.update(url=url, proxy_url=url, ephemeral=True)
        if content_type:
            payload["content_type"] = content_type
        self._attachments[attachment_id] = (payload, data)
        return attachment_id

    async def _attachment_file(self, request: web.Request) -> web.Response:
        found = self._attachments.get(request.match_info["id"])
        if found is None or found[0]["filename"] != request.match_info["filename"]:
            return web.Response(status=404, text="404: Not Found")
        self.attachment_downloads.append(request.match_info["id"])
        notify()
        payload, data = found
        return web.Response(body=data, content_type=payload.get("content_type", "image/png"))

    def slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user_id: int = 5,
        guild_id: int | None = -1,
        channel_id: int | None = None,
        locale: str = "en-US",
        permissions: int | None = None,
        user_install: bool = False,
    ) -> FakeInteraction:
        """Dispatch a slash command (type 2) and return its record.

        By default in the first guild's first channel; ``guild_id=None`` is a DM. ``permissions``
        are the member's (default: the guild's @everyone). ``user_install``: through the
        user's own install of the app, in a server the bot is not in (any ``guild_id``) or,
        with ``guild_id=None``, in the user's DM with someone else.
        """
        if guild_id == -1:
            guild_id = next(iter(self._guilds), None)
        data = self._command_data(name, options or {}, guild_id, None)
        synced = self.find_command(name.split()[0])
        if user_install and synced is not None:  # Discord offers only what may be used there
            context = 0 if guild_id is not None else 2
            if 1 not in (synced.get("integration_types") or [0]):
                raise ValueError(f"/{name} cannot be installed by a user")
            if context not in (synced.get("contexts") or [0, 1, 2]):
                raise ValueError(f"/{name} cannot be used in context {context}")
        return self._interaction(
            APPLICATION_COMMAND,
            data,
            user_id,
            guild_id,
            channel_id,
            locale,
            permissions,
            user_install=user_install,
        )

    def dm_slash_command(
        self, name: str, options: Mapping[str, Any] | None = None, *, user_id: int = 5, **kw: Any
    ) -> FakeInteraction:
        """:meth:`slash_command` in the user's DM with the bot."""
        return self.slash_command(name, options, user_id=user_id, guild_id=None, **kw)

    def autocomplete(
        self, name: str, options: Mapping[str, Any], focused: str, *, user_id: int = 5
    ) -> FakeInteraction:
        """Dispatch an autocomplete (type 4) for option ``focused``; the answer is ``.choices``."""
        guild_id = next(iter(self._guilds), None)
        data = self._command_data(name, options, guild_id, focused)
        return self._interaction(AUTOCOMPLETE, data, user_id, guild_id, None, "en-US")

    def click_button(
        self, custom_id: str, message: FakeMessage, *, user_id: int = 5, locale: str = "en-US"
    ) -> FakeInteraction:
        """A user clicks the button ``custom_id`` on ``message`` (type 3)."""
        if custom_id not in message.custom_ids():
            raise ValueError(f"no {custom_id!r} on the message: {message.custom_ids()}")
        data = {"custom_id": custom_id, "component_type": 2}
        return self._interaction(
            MESSAGE_COMPONENT,
            data,
            user_id,
            message.guild_id,
            message.channel_id,
            locale,
            message=message,
        )

    # ---------------------------------------------------------------- gateway: server side

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=0)
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        conn = _Connection(ws, zlib_stream=request.query.get("compress") == "zlib-stream")
        self._connections.add(conn)
        conn.send({"op": OP_HELLO, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    payload = json.loads(msg.data)
                except ValueError:
                    conn.close(4002)  # decode error
                    continue
                self._on_gateway_payload(conn, payload)
        finally:
            self._connections.discard(conn)
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                if ws.close_code in (1000, 1001) and not conn.closing:
                    session.invalidated = True  # a clean close by the client ends the session
            conn.closing = True
            await conn.stop()
            notify()
        return ws

    def _on_gateway_payload(self, conn: _Connection, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        data = data if isinstance(data, dict) else {}
        if op == OP_HEARTBEAT:
            self.heartbeat_count += 1
            conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            self._identify(conn, data)
        elif op == OP_RESUME:
            self._resume(conn, data)
        elif conn.session is None:
            conn.close(4003)  # not authenticated

    def _identify(self, conn: _Connection, data: dict[str, Any]) -> None:
        self.identify_payloads.append(data)
        if data.get("token") != self.token or self.token_revoked:
            conn.close(4004)  # authentication failed
            return
        self.identify_count += 1
        session = _Session(id=secrets.token_hex(16), conn=conn)
        shard = data.get("shard")
        if isinstance(shard, list) and len(shard) == 2:
            session.shard = (int(shard[0]), int(shard[1]))
        self._sessions[session.id] = session
        conn.session = session
        guilds = [g for g in self._guilds.values() if self._on_shard(session, g.id)]
        ready = {
            "v": 10,
            "user": {**self._user(self.bot_user_id), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        self._send_dispatch(session, "READY", ready)
        for guild in guilds:
            self._send_dispatch(session, "GUILD_CREATE", self._guild_payload(guild))
        notify()

    def _resume(self, conn: _Connection, data: dict[str, Any]) -> None:
        if self.token_revoked:
            conn.close(4004)
            return
        session = self._sessions.get(str(data.get("session_id")))
        if data.get("token") != self.token or session is None or session.invalidated:
            conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        if session.conn is not None and session.conn is not conn:
            session.conn.close(4000)
        session.conn, conn.session = conn, session
        last = int(data.get("seq") or 0)
        for payload in list(session.backlog):
            if payload["s"] > last:
                conn.send(payload)
        self.resume_count += 1
        self._send_dispatch(session, "RESUMED", {})
        notify()

    # ------------------------------------------------------------------------- REST

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[_Upload]]:
        """A JSON body, or multipart ``payload_json`` plus ``files[n]`` parts."""
        if not request.content_type.startswith("multipart/"):
            raw = await request.read()
            try:
                return (json.loads(raw) if raw else {}), []
            except ValueError:
                raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
        reader = await request.multipart()
        body: Any = {}
        uploads: list[_Upload] = []
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                data = bytes(await part.read(decode=False))
                kind = part.headers.get("Content-Type")
                uploads.append(_Upload(part.filename or "file", data, kind))
        return body, uploads

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json({**self._user(self.bot_user_id), "verified": True, "mfa_enabled": False})

    async def _get_user(self, request: web.Request) -> web.Response:
        return _json(self._user(int(request.match_info["user_id"])))

    async def _create_dm(self, request: web.Request) -> web.Response:
        body, _ = await self._read_body(request)
        user_id = int(body.get("recipient_id", 0))
        channel_id = next((c for c, u in self._dm_channels.items() if u == user_id), None)
        if channel_id is None:
            channel_id = self._snowflake()
            self._dm_channels[channel_id] = user_id
        return _json(self._channel_payload(channel_id))

    async def _get_application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": str(self.application_id),
                "name": "drawbot",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": self._user(1),
                "summary": "",
            }
        )

    async def _get_bot_gateway(self, request: web.Request) -> web.Response:
        self.bot_gateway_calls += 1
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": self.shards, "session_start_limit": limit})

    async def _put_commands(self, request: web.Request) -> web.Response:
        if request.match_info["app_id"] != str(self.application_id):
            raise ApiError(403, 50001, "Missing Access")
        body, _ = await self._read_body(request)
        call = SyncCall(body if isinstance(body, list) else [], 200)
        self.sync_calls.append(call)
        try:
            check_commands(body)
        except ApiError:
            call.status = 400
            raise
        stored = []
        for command in body:
            command_id = self._command_ids.setdefault(command["name"], self._snowflake())
            stored.append(
                {
                    "id": str(command_id),
                    "application_id": str(self.application_id),
                    "version": str(self._snowflake()),
                    "type": 1,
                    "description": "",
                    "name_localizations": None,
                    "description_localizations": None,
                    **command,
                }
            )
        self.synced_commands = stored
        return _json(stored)

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        interaction = self._interactions_by_id.get(int(request.match_info["interaction_id"]))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        elapsed = time.monotonic() - interaction.created_at
        body, uploads = await self._read_body(request)
        cb_type, data = body.get("type"), body.get("data") or {}
        record = CallbackRecord(cb_type if isinstance(cb_type, int) else -1, data, elapsed, 200)
        try:
            if interaction.callbacks:
                raise ApiError(400, 40060, "Interaction has already been acknowledged.")
            if elapsed > self.callback_timeout:
                raise ApiError(404, 10062, "Unknown interaction")
            if cb_type not in ALLOWED_CALLBACKS[interaction.type]:
                raise ApiError(400, 50035, "Invalid Form Body", {"type": {"_errors": []}})
            files: list[FakeFile] = []
            if cb_type == CB_MESSAGE:
                check_message(data, len(uploads), path=("data",))
                check_not_empty(data, len(uploads))
                files = self._files(uploads, interaction.guild_id)
        except ApiError as error:
            record.status = error.status
            interaction.rejected_callbacks.append(record)
            raise
        interaction.callbacks.append(record)
        message: FakeMessage | None = None
        if cb_type in (CB_MESSAGE, CB_DEFERRED_MESSAGE):
            deferred = cb_type == CB_DEFERRED_MESSAGE
            message = self._new_message(
                {"flags": int(data.get("flags") or 0) & EPHEMERAL} if deferred else data,
                files,
                interaction.channel_id,
                interaction.guild_id,
                "response",
                interaction,
                flags=LOADING if deferred else 0,
                record=not deferred,
            )
            interaction.original = message
            if not deferred:
                interaction.answers.append(message)
        elif cb_type == CB_AUTOCOMPLETE:
            interaction.choices = list(data.get("choices") or [])
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        info: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        resource: dict[str, Any] = {"type": cb_type}
        if message is not None:
            info.update(
                response_message_id=str(message.id),
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
            resource["message"] = self.message_payload(message)
        return _json({"interaction": info, "resource": resource})

    def _webhook_interaction(self, request: web.Request) -> FakeInteraction:
        token = request.match_info["token"]
        interaction = next((i for i in self.interactions if i.token == token), None)
        if interaction is None or request.match_info["app_id"] != str(self.application_id):
            raise ApiError(404, 10015, "Unknown Webhook")
        if time.monotonic() - interaction.created_at > self.token_lifetime:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return interaction

    async def _followup(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        if not interaction.callbacks:
            raise ApiError(404, 10015, "Unknown Webhook")
        body, uploads = await self._read_body(request)
        check_message(body, len(uploads))
        check_not_empty(body, len(uploads))
        files = self._files(uploads, interaction.guild_id)
        placeholder = interaction.original
        if placeholder is not None and placeholder.loading:
            # Discord: the first follow-up after a defer replaces the "thinking" message and
            # keeps the defer's visibility (the follow-up's own ephemeral flag is ignored).
            self._edit(placeholder, body, files, fill=True)
            message, message.kind = placeholder, "followup"
        else:
            message = self._new_message(
                body, files, interaction.channel_id, interaction.guild_id, "followup", interaction
            )
        interaction.followups.append(message)
        if message not in interaction.answers:
            interaction.answers.append(message)
        return _json(self.message_payload(message))

    async def _edit_webhook_message(self, request: web.Request) -> web.StreamResponse:
        interaction = self._webhook_interaction(request)
        key = request.match_info["message_id"]
        candidates = [interaction.original, *interaction.followups]
        if key == "@original":
            message = interaction.original if interaction.callbacks else None
        else:
            message = next((m for m in candidates if m is not None and str(m.id) == key), None)
        if message is None or message.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        if request.method == "DELETE":
            message.deleted = True
            return web.Response(status=204)
        body, uploads = await self._read_body(request)
        check_message(body, len(uploads))
        self._edit(message, body, self._files(uploads, interaction.guild_id), fill=message.loading)
        if message not in interaction.answers:
            interaction.answers.append(message)
        return _json(self.message_payload(message))

    async def _channel_post(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        if channel_id not in self._channel_guild and channel_id not in self._dm_channels:
            raise ApiError(404, 10003, "Unknown Channel")
        guild_id = self._channel_guild.get(channel_id)
        body, uploads = await self._read_body(request)
        check_message(body, len(uploads))
        check_not_empty(body, len(uploads))
        files = self._files(uploads, guild_id)
        message = self._new_message(body, files, channel_id, guild_id, "channel")
        return _json(self.message_payload(message))


def _infer_type(value: Any) -> int:
    """The option type of a value given for a command that was never synced."""
    for kind, otype in ((bool, 5), (int, 4), (float, 10)):
        if isinstance(value, kind):
            return otype
    return 3
