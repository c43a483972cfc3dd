"""A fake Discord (REST API + gateway WebSocket) on 127.0.0.1 for tests.

The real discord.py ``Client`` / ``app_commands.CommandTree`` runs against it unchanged:

.. code-block:: python

    dc = FakeDiscord(token="discord-test-token", application_id=1001)
    async with dc:
        dc.add_guild(guild_id=10, name="Test", channel_ids=[20])
        saved = point_discord_py_at(dc.api_base_url)   # REST, webhooks and gateway
        try:
            client = discord.Client(intents=discord.Intents(guilds=True))
            task = asyncio.create_task(client.start(dc.token))
            await dc.wait_ready(timeout=5)
            i = dc.slash_command("ping", options={}, user_id=5, guild_id=10, channel_id=20)
            msg = await dc.wait_for_response(i, timeout=5)
            await client.close()
            await task
        finally:
            reset_discord_py(saved)

How discord.py 2.7 is pointed at another Discord (see :func:`point_discord_py_at`):

* REST: ``discord.http.Route.BASE`` (a class attribute read when each ``Route`` is built). The
  interaction webhook adapter (``discord.webhook.async_``: interaction callbacks, follow-ups,
  ``@original`` edits) imports that same ``Route`` class, so this one attribute covers it too.
* Gateway: ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (a ``yarl.URL``). A plain
  ``Client`` never calls ``GET /gateway/bot``; it connects to ``DEFAULT_GATEWAY`` with
  ``?v=10&encoding=json&compress=zlib-stream`` appended, and after READY it reconnects/resumes
  to READY's ``resume_gateway_url``. ``ws://`` is used as is (never rewritten to ``wss://``).
  Only ``AutoShardedClient`` without ``shard_count`` asks ``GET /gateway/bot`` for the URL.

This fake serves REST under ``/api/v{N}/...`` and the gateway at ``/gateway``, so the gateway URL
follows from the REST root (:func:`gateway_url_for`). Transport compression ``zlib-stream`` is
honoured (one ``compressobj`` per connection, every message ends in ``Z_SYNC_FLUSH``); without a
``compress`` query parameter (or with ``zstd-stream``) plain text frames are sent, which
discord.py also accepts.

Requests that arrive in proxy form (``GET http://host/path``, i.e. ``Client(proxy=dc.base_url)``
with an ``http://`` REST root) are served too and recorded in :attr:`FakeDiscord.proxied_requests`.
"""

# The test-facing API takes ``timeout=`` seconds on purpose (dc.wait_ready(timeout=5), ...).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from aiohttp import BodyPartReader, WSMsgType, web

__all__ = [
    "DEFAULT_API_BASE_URL",
    "DEFAULT_GATEWAY_URL",
    "DEFAULT_UPLOAD_LIMIT",
    "EPHEMERAL",
    "CallbackRecord",
    "DiscordPyTargets",
    "FakeAttachment",
    "FakeDiscord",
    "FakeFile",
    "FakeInteraction",
    "FakeMessage",
    "RequestRecord",
    "SyncCall",
    "gateway_url_for",
    "point_discord_py_at",
    "reset_discord_py",
]

T = TypeVar("T")

API_VERSION = 10
DEFAULT_API_BASE_URL = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
DISCORD_EPOCH_MS = 1_420_070_400_000
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # non-boosted guilds and DMs

# Message flags.
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_VOICE_MESSAGE = 1 << 13
IS_COMPONENTS_V2 = 1 << 15

# Gateway opcodes and intents.
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_VOICE_STATE = 0, 1, 2, 3, 4
OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION = 6, 7, 8, 9
OP_HELLO, OP_HEARTBEAT_ACK = 10, 11
INTENT_GUILDS = 1 << 0
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content

# Interaction types and callback types.
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CB_PONG, CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE = 1, 4, 5, 6, 7
CB_AUTOCOMPLETE, CB_MODAL = 8, 9

# Application command option types.
OPT_SUBCOMMAND, OPT_GROUP, OPT_STRING, OPT_INTEGER, OPT_BOOLEAN = 1, 2, 3, 4, 5
OPT_USER, OPT_CHANNEL, OPT_ROLE, OPT_MENTIONABLE, OPT_NUMBER, OPT_ATTACHMENT = 6, 7, 8, 9, 10, 11

DEFAULT_PERMISSIONS = (1 << 41) - 1  # "everything" that matters for a bot in tests
KNOWN_LOCALES = frozenset(
    "id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el "
    "bg ru uk hi th zh-CN ja zh-TW ko".split()
)
_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
_ABSOLUTE_TARGET = ("http://", "https://", "ws://", "wss://")


# --------------------------------------------------------------------------------------------
# Pointing discord.py at a Discord
# --------------------------------------------------------------------------------------------


def _rest_root(api_base_url: str) -> str:
    """Normalise ``http://h:p``, ``http://h:p/api`` or ``http://h:p/api/v10`` to a REST root."""
    url = api_base_url.rstrip("/")
    if re.search(r"/api/v\d+$", url):
        return url
    if url.endswith("/api"):
        return f"{url}/v{API_VERSION}"
    return f"{url}/api/v{API_VERSION}"


def gateway_url_for(api_base_url: str) -> str:
    """Gateway URL that follows from a REST root (``DISCORD_API_BASE_URL``).

    ``https://discord.com/api/v10`` gives Discord's ``wss://gateway.discord.gg/``; any other root
    ``SCHEME://HOST[:PORT][/prefix]/api/vN`` gives ``ws(s)://HOST[:PORT][/prefix]/gateway``
    (the layout this fake serves).
    """
    root = _rest_root(api_base_url)
    parts = urlsplit(root)
    if parts.hostname in ("discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com"):
        return DEFAULT_GATEWAY_URL
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    prefix = re.sub(r"/api/v\d+$", "", parts.path)
    return urlunsplit((scheme, parts.netloc, f"{prefix}/gateway", "", ""))


@dataclass(frozen=True)
class DiscordPyTargets:
    """The discord.py class attributes that decide where it talks to (saved for restoring)."""

    route_base: str
    default_gateway: str


def point_discord_py_at(api_base_url: str) -> DiscordPyTargets:
    """Point discord.py's REST, interaction-webhook and gateway traffic at ``api_base_url``.

    Sets ``discord.http.Route.BASE`` (also used by ``discord.webhook.async_``) and
    ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``. Call before ``Client.start``/``login``.
    These are process-wide class attributes. Returns the previous values for
    :func:`reset_discord_py`.
    """
    import discord.gateway
    import discord.http
    import yarl

    previous = DiscordPyTargets(
        route_base=discord.http.Route.BASE,
        default_gateway=str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY),
    )
    root = _rest_root(api_base_url)
    discord.http.Route.BASE = root
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url_for(root))
    return previous


def reset_discord_py(previous: DiscordPyTargets | None = None) -> None:
    """Undo :func:`point_discord_py_at` (to ``previous`` or to Discord's real addresses)."""
    import discord.gateway
    import discord.http
    import yarl

    target = previous or DiscordPyTargets(DEFAULT_API_BASE_URL, DEFAULT_GATEWAY_URL)
    discord.http.Route.BASE = target.route_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(target.default_gateway)


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).isoformat()


@dataclass
class FakeFile:
    """A file the bot uploaded (an attachment of a :class:`FakeMessage`)."""

    id: int
    filename: str
    data: bytes
    content_type: str | None
    description: str | None
    url: str

    def payload(self) -> dict[str, Any]:
        """The attachment object as Discord returns it."""
        out: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type:
            out["content_type"] = self.content_type
        if self.description:
            out["description"] = self.description
        return out


@dataclass
class FakeAttachment:
    """A user upload for an attachment option (create with :meth:`FakeDiscord.make_attachment`)."""

    id: int
    filename: str
    data: bytes
    content_type: str
    url: str

    def payload(self) -> dict[str, Any]:
        """Resolved attachment object for an interaction."""
        return {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
            "ephemeral": True,
        }


@dataclass
class FakeMessage:
    """A message the bot posted (or a synthetic one a component click refers to)."""

    id: int
    channel_id: int
    guild_id: int | None
    kind: str  # "channel", "response" (callback 4/5/7 or @original), "followup", "synthetic"
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeFile] = field(default_factory=list)
    allowed_mentions: dict[str, Any] | None = None
    flags: int = 0
    type: int = 0
    author_id: int = 0
    interaction_id: int | None = None
    webhook_token: str | None = None
    created_at: float = field(default_factory=time.monotonic)
    edited_at: float | None = None
    deleted: bool = False
    tts: bool = False
    raw: dict[str, Any] = field(default_factory=dict)  # the last JSON body received for it
    edits: list[dict[str, Any]] = field(default_factory=list)  # every PATCH body, in order

    @property
    def files(self) -> list[tuple[str, bytes]]:
        """``[(filename, bytes), ...]`` of the attachments."""
        return [(f.filename, f.data) for f in self.attachments]

    @property
    def ephemeral(self) -> bool:
        """Whether the EPHEMERAL (64) flag is set."""
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """Whether this is still a deferred "is thinking..." placeholder."""
        return bool(self.flags & LOADING)

    def custom_ids(self) -> list[str]:
        """Every component ``custom_id`` in the message (nested components included)."""
        found: list[str] = []

        def walk(items: Iterable[Any]) -> None:
            for item in items:
                if isinstance(item, dict):
                    if isinstance(item.get("custom_id"), str):
                        found.append(item["custom_id"])
                    walk(item.get("components") or [])
                    if isinstance(item.get("accessory"), dict):
                        walk([item["accessory"]])

        walk(self.components)
        return found


@dataclass
class CallbackRecord:
    """One ``POST /interactions/{id}/{token}/callback``."""

    type: int
    data: dict[str, Any] | None
    at: float  # time.monotonic()
    elapsed: float  # seconds since the interaction was created
    status: int  # HTTP status the fake answered
    files: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class FakeInteraction:
    """An interaction the fake dispatched, with everything the bot answered."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    guild_id: int | None
    channel_id: int
    user_id: int
    created_at: float = field(default_factory=time.monotonic)
    callbacks: list[CallbackRecord] = field(default_factory=list)  # accepted ones
    rejected_callbacks: list[CallbackRecord] = field(default_factory=list)
    followups: list[FakeMessage] = field(default_factory=list)
    original: FakeMessage | None = None  # response message / deferred placeholder / component msg
    answers: list[FakeMessage] = field(default_factory=list)  # messages that answer it, in order
    modal: dict[str, Any] | None = None  # data of a type-9 callback
    choices: list[dict[str, Any]] | None = None  # data.choices of a type-8 callback

    @property
    def name(self) -> str | None:
        """Command name (application commands) or ``None``."""
        name = self.payload.get("data", {}).get("name")
        return str(name) if name is not None else None

    @property
    def custom_id(self) -> str | None:
        """Component / modal ``custom_id`` or ``None``."""
        custom_id = self.payload.get("data", {}).get("custom_id")
        return str(custom_id) if custom_id is not None else None

    @property
    def acknowledged(self) -> bool:
        """Whether a callback was accepted."""
        return bool(self.callbacks)

    @property
    def response_latency(self) -> float | None:
        """Seconds from creation to the first accepted callback (e.g. the defer)."""
        return self.callbacks[0].elapsed if self.callbacks else None

    @property
    def deferred(self) -> bool:
        """Whether the first callback was a defer (type 5 or 6)."""
        return bool(self.callbacks) and self.callbacks[0].type in (
            CB_DEFERRED_MESSAGE,
            CB_DEFERRED_UPDATE,
        )


@dataclass
class SyncCall:
    """One bulk overwrite of application commands."""

    guild_id: int | None
    commands: list[dict[str, Any]]
    at: float
    status: int


@dataclass
class RequestRecord:
    """One HTTP request the fake received."""

    method: str
    path: str
    proxied: bool
    at: float
    authorized: bool


@dataclass
class _Guild:
    id: int
    name: str
    channel_ids: list[int]
    upload_limit: int
    locale: str
    owner_id: int
    permissions: int
    premium_tier: int
    member_ids: list[int]


class _ApiError(Exception):
    """Raised by handlers; becomes a JSON error answer."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code}
        if errors:
            self.body["errors"] = errors


class _FormErrors:
    """Collects Discord-style nested ``errors`` for a 400 / 50035 Invalid Form Body."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: Sequence[str | int], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def length(self, path: Sequence[str | int], value: Any, maximum: int, minimum: int = 0) -> None:
        if value is None and minimum == 0:
            return
        if not isinstance(value, str):
            self.add(path, "BASE_TYPE_STRING", "Must be a string.")
        elif not minimum <= len(value) <= maximum:
            if minimum:
                self.add(
                    path,
                    "BASE_TYPE_BAD_LENGTH",
                    f"Must be between {minimum} and {maximum} in length.",
                )
            else:
                self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {maximum} or fewer in length.")

    def count(self, path: Sequence[str | int], items: Any, maximum: int, minimum: int = 0) -> None:
        if not isinstance(items, list):
            self.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        elif len(items) > maximum:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {maximum} or fewer in length.")
        elif len(items) < minimum:
            self.add(path, "BASE_TYPE_MIN_LENGTH", f"Must be {minimum} or more in length.")

    def raise_if_any(self) -> None:
        if self.tree:
            raise _ApiError(400, 50035, "Invalid Form Body", self.tree)


@dataclass
class _Upload:
    field: str
    filename: str
    data: bytes
    content_type: str | None


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _validate_embeds(errors: _FormErrors, path: tuple[str | int, ...], embeds: Any) -> None:
    errors.count(path, embeds, 10)
    if not isinstance(embeds, list):
        return
    total = 0
    for n, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            errors.add((*path, n), "DICT_TYPE_CONVERT", "Only dictionaries may be used.")
            continue
        here = (*path, n)
        for key, limit in (("title", 256), ("description", 4096)):
            if embed.get(key) is not None:
                errors.length((*here, key), embed[key], limit)
                total += len(str(embed[key]))
        if isinstance(embed.get("footer"), dict):
            errors.length((*here, "footer", "text"), embed["footer"].get("text"), 2048, 1)
            total += len(str(embed["footer"].get("text") or ""))
        if isinstance(embed.get("author"), dict):
            errors.length((*here, "author", "name"), embed["author"].get("name"), 256, 1)
            total += len(str(embed["author"].get("name") or ""))
        fields = embed.get("fields")
        if fields is not None:
            errors.count((*here, "fields"), fields, 25)
            for f, item in enumerate(fields if isinstance(fields, list) else []):
                item = item if isinstance(item, dict) else {}
                errors.length((*here, "fields", f, "name"), item.get("name"), 256, 1)
                errors.length((*here, "fields", f, "value"), item.get("value"), 1024, 1)
                total += len(str(item.get("name") or "")) + len(str(item.get("value") or ""))
    if total > 6000:
        errors.add(path, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def _validate_components(
    errors: _FormErrors, path: tuple[str | int, ...], rows: Any, flags: int
) -> None:
    if not isinstance(rows, list):
        errors.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    seen: set[str] = set()

    def check_custom_id(where: tuple[str | int, ...], item: dict[str, Any]) -> None:
        custom_id = item.get("custom_id")
        errors.length((*where, "custom_id"), custom_id, 100, 1)
        if isinstance(custom_id, str):
            if custom_id in seen:
                errors.add(
                    (*where, "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(custom_id)

    if flags & IS_COMPONENTS_V2:  # layout components: only check the ids

        def walk(items: list[Any], where: tuple[str | int, ...]) -> None:
            for n, item in enumerate(items):
                if isinstance(item, dict):
                    if "custom_id" in item:
                        check_custom_id((*where, n), item)
                    walk(item.get("components") or [], (*where, n, "components"))

        walk(rows, path)
        return

    errors.count(path, rows, 5)
    for r, row in enumerate(rows):
        here = (*path, r)
        if not isinstance(row, dict) or row.get("type") != 1:
            errors.add(
                (*here, "type"),
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1,).',
            )
            continue
        children = row.get("components")
        errors.count((*here, "components"), children, 5, 1)
        children = children if isinstance(children, list) else []
        if any(isinstance(c, dict) and c.get("type") != 2 for c in children) and len(children) > 1:
            errors.add(
                (*here, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for c, child in enumerate(children):
            where = (*here, "components", c)
            if not isinstance(child, dict):
                errors.add(where, "DICT_TYPE_CONVERT", "Only dictionaries may be used.")
                continue
            ctype = child.get("type")
            if ctype == 2:
                style = child.get("style")
                if style not in (1, 2, 3, 4, 5, 6):
                    errors.add((*where, "style"), "BASE_TYPE_CHOICES", "Value must be one of 1-6.")
                errors.length((*where, "label"), child.get("label"), 80)
                if style == 5:
                    errors.length((*where, "url"), child.get("url"), 512, 1)
                    if "custom_id" in child:
                        errors.add(
                            (*where, "custom_id"),
                            "BUTTON_COMPONENT_CUSTOM_ID_FORBIDDEN",
                            "A custom id cannot be set on a link button",
                        )
                elif style != 6:
                    check_custom_id(where, child)
            elif ctype in (3, 5, 6, 7, 8):
                check_custom_id(where, child)
                errors.length((*where, "placeholder"), child.get("placeholder"), 150)
                if ctype == 3:
                    errors.count((*where, "options"), child.get("options"), 25, 1)
            else:
                errors.add(
                    (*where, "type"),
                    "UNION_TYPE_CHOICES",
                    'Value of field "type" must be one of (2, 3, 5, 6, 7, 8).',
                )


def _validate_message(
    payload: dict[str, Any],
    *,
    path: tuple[str | int, ...] = (),
    errors: _FormErrors | None = None,
) -> _FormErrors:
    """Check content / embeds / components / allowed_mentions like Discord does."""
    errors = errors or _FormErrors()
    if payload.get("content") is not None:
        errors.length((*path, "content"), payload["content"], 2000)
    if payload.get("embeds") is not None:
        _validate_embeds(errors, (*path, "embeds"), payload["embeds"])
    if payload.get("components") is not None:
        flags = payload.get("flags") or 0
        _validate_components(errors, (*path, "components"), payload["components"], int(flags))
    mentions = payload.get("allowed_mentions")
    if isinstance(mentions, dict):
        parse = mentions.get("parse") or []
        for n, item in enumerate(parse):
            if item not in ("roles", "users", "everyone"):
                errors.add(
                    (*path, "allowed_mentions", "parse", n),
                    "BASE_TYPE_CHOICES",
                    "Value must be one of {'roles', 'users', 'everyone'}.",
                )
        for kind in ("users", "roles"):
            if kind in parse and mentions.get(kind):
                errors.add(
                    (*path, "allowed_mentions"),
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                )
            errors.count((*path, "allowed_mentions", kind), mentions.get(kind) or [], 100)
    return errors


def _validate_commands(commands: Any) -> None:
    """Validate a bulk-overwrite body like Discord (names, descriptions, options, locales)."""
    errors = _FormErrors()
    if not isinstance(commands, list):
        raise _ApiError(400, 50035, "Invalid Form Body", {"_errors": [{"code": "BASE_TYPE_ARRAY"}]})
    errors.count((), commands, 100)
    seen: set[tuple[str, int]] = set()

    def check_localizations(where: tuple[str | int, ...], values: Any, limit: int) -> None:
        if not isinstance(values, dict):
            return
        for locale, text in values.items():
            if locale not in KNOWN_LOCALES:
                errors.add(
                    (*where, locale),
                    "ENUM_TYPE_COERCE",
                    f'Value "{locale}" is not a valid enum value.',
                )
            else:
                errors.length((*where, locale), text, limit, 1)

    def check_options(where: tuple[str | int, ...], options: Any) -> None:
        errors.count(where, options, 25)
        optional_seen = False
        names: set[str] = set()
        for n, opt in enumerate(options if isinstance(options, list) else []):
            here = (*where, n)
            name = opt.get("name")
            if not isinstance(name, str) or not _COMMAND_NAME.match(name) or name != name.lower():
                errors.add((*here, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
            elif name in names:
                errors.add(
                    (*here, "name"),
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                    "Option names must be unique",
                )
            names.add(str(name))
            errors.length((*here, "description"), opt.get("description"), 100, 1)
            check_localizations((*here, "name_localizations"), opt.get("name_localizations"), 32)
            check_localizations(
                (*here, "description_localizations"), opt.get("description_localizations"), 100
            )
            if opt.get("type") in (OPT_SUBCOMMAND, OPT_GROUP):
                check_options((*here, "options"), opt.get("options") or [])
                continue
            if opt.get("required"):
                if optional_seen:
                    errors.add(
                        (*here, "required"),
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                optional_seen = True
            if opt.get("choices") is not None:
                errors.count((*here, "choices"), opt["choices"], 25)

    for n, cmd in enumerate(commands):
        if not isinstance(cmd, dict):
            errors.add((n,), "DICT_TYPE_CONVERT", "Only dictionaries may be used.")
            continue
        ctype = cmd.get("type", 1)
        name = cmd.get("name")
        if ctype == 1:
            if not isinstance(name, str) or not _COMMAND_NAME.match(name) or name != name.lower():
                errors.add((n, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
            errors.length((n, "description"), cmd.get("description"), 100, 1)
            check_options((n, "options"), cmd.get("options") or [])
        else:
            errors.length((n, "name"), name, 32, 1)
        check_localizations((n, "name_localizations"), cmd.get("name_localizations"), 32)
        check_localizations(
            (n, "description_localizations"), cmd.get("description_localizations"), 100
        )
        key = (str(name), int(ctype))
        if key in seen:
            errors.add(
                (n, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                f"Application command names must be unique: {name}",
            )
        seen.add(key)
    errors.raise_if_any()


def _infer_option_type(value: Any) -> int:
    if isinstance(value, bool):
        return OPT_BOOLEAN
    if isinstance(value, int):
        return OPT_INTEGER
    if isinstance(value, float):
        return OPT_NUMBER
    if isinstance(value, FakeAttachment):
        return OPT_ATTACHMENT
    return OPT_STRING


def _public(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a route as not needing ``Authorization: Bot <token>`` (webhooks, callbacks)."""
    handler._fake_public = True  # type: ignore[attr-defined]
    return handler


def _json(data: Any, status: int = 200) -> web.Response:
    """JSON answer with ``Content-Type: application/json`` exactly (discord.py compares it)."""
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


# --------------------------------------------------------------------------------------------
# Gateway plumbing
# --------------------------------------------------------------------------------------------


class _Connection:
    """One gateway WebSocket: ordered, optionally zlib-stream compressed writer."""

    def __init__(self, ws: web.WebSocketResponse, *, zlib_stream: bool) -> None:
        self.ws = ws
        self.zlib_stream = zlib_stream
        self._compressor = zlib.compressobj() if zlib_stream else None
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write())
        self.session: _Session | None = None
        self.heartbeats = 0
        self.closing = False

    def send(self, payload: dict[str, Any]) -> None:
        """Queue a payload; compression happens here so the zlib stream stays in order."""
        if self.closing:
            return
        text = json.dumps(payload)
        if self._compressor is not None:
            data = self._compressor.compress(text.encode()) + self._compressor.flush(
                zlib.Z_SYNC_FLUSH
            )
            self._queue.put_nowait(("bytes", data))
        else:
            self._queue.put_nowait(("text", text))

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
                    await self.ws.close(code=value)
                    return
            except (ConnectionError, RuntimeError):
                return

    async def stop(self) -> None:
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


@dataclass
class _Session:
    id: str
    intents: int
    identify: dict[str, Any]
    conn: _Connection | None
    seq: int = 0
    ready: bool = False
    invalidated: bool = False
    backlog: deque[tuple[int, dict[str, Any]]] = field(default_factory=lambda: deque(maxlen=2000))


class _Default:
    """Sentinel type for "use the first configured guild / channel"."""


DEFAULT: Any = _Default()


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


class FakeDiscord:
    """Fake Discord REST API and gateway on 127.0.0.1 (one aiohttp server, random port)."""

    def __init__(
        self,
        token: str = "discord-test-token",
        application_id: int = 1001,
        bot_user_id: int | None = None,
        *,
        bot_name: str = "drawbot",
        heartbeat_interval_ms: int = 41250,
        callback_timeout: float = 3.0,
        token_lifetime: float = 15 * 60,
        upload_limit: int = DEFAULT_UPLOAD_LIMIT,
        allowed_intents: int | None = None,
        application_flags: int = 0,
        owner_id: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.bot_user_id = bot_user_id if bot_user_id is not None else application_id
        self.bot_name = bot_name
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.callback_timeout = callback_timeout  # Discord: 3 s to answer an interaction
        self.token_lifetime = token_lifetime  # Discord: 15 min for follow-ups / edits
        self.upload_limit = upload_limit  # default for DMs and guilds without their own
        self.allowed_intents = allowed_intents  # None: every privileged intent is enabled
        self.application_flags = application_flags
        self.owner_id = owner_id
        self.host = host
        self.port = port

        # What happened (inspect in tests).
        self.messages: list[FakeMessage] = []
        self.interactions: list[FakeInteraction] = []
        self.synced_commands: list[dict[str, Any]] = []  # current global commands
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.sync_calls: list[SyncCall] = []
        self.requests: list[RequestRecord] = []
        self.proxied_requests: list[RequestRecord] = []
        self.typing: list[int] = []  # channel ids of "trigger typing"
        self.identify_count = 0
        self.identify_payloads: list[dict[str, Any]] = []
        self.resume_count = 0
        self.heartbeat_count = 0
        self.presence_updates: list[dict[str, Any]] = []
        self.dispatched: list[tuple[str, dict[str, Any]]] = []
        self.gateway_queries: list[dict[str, str]] = []  # query strings of gateway connects

        self._guilds: dict[int, _Guild] = {}
        self._channel_guild: dict[int, int] = {}
        self._channel_names: dict[int, str] = {}
        self._dm_channels: dict[int, int] = {}  # channel id -> user id
        self._users: dict[int, dict[str, Any]] = {}
        self._messages_by_id: dict[int, FakeMessage] = {}
        self._interactions_by_id: dict[int, FakeInteraction] = {}
        self._interactions_by_token: dict[str, FakeInteraction] = {}
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self._blobs: dict[int, tuple[str, bytes, str | None]] = {}
        self._sessions: dict[str, _Session] = {}
        self._connections: set[_Connection] = set()
        self._last_snowflake = 0
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start listening (``self.port`` is filled in when it was 0)."""
        app = web.Application(client_max_size=1 << 30, middlewares=[self._middleware()])
        self._add_routes(app.router)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Close gateway connections (code 1001) and stop the server."""
        for conn in list(self._connections):
            conn.close(1001)
        with contextlib.suppress(TimeoutError):
            await self.wait_until(
                lambda: not self._connections, 2.0, "gateway connections to close"
            )
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (server root)."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """REST root, the value for ``DISCORD_API_BASE_URL``: ``http://127.0.0.1:PORT/api/v10``."""
        return f"{self.base_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """``ws://127.0.0.1:PORT/gateway``."""
        return f"ws://{self.host}:{self.port}/gateway"

    # ---------------------------------------------------------------- world setup

    def add_guild(
        self,
        guild_id: int,
        name: str = "Test",
        channel_ids: Sequence[int] = (),
        upload_limit: int | None = None,
        *,
        locale: str = "en-US",
        owner_id: int | None = None,
        permissions: int = DEFAULT_PERMISSIONS,
        premium_tier: int = 0,
        member_ids: Sequence[int] = (),
        channel_names: Mapping[int, str] | None = None,
    ) -> None:
        """Add a guild with text channels; a connected client gets a GUILD_CREATE for it."""
        guild = _Guild(
            id=guild_id,
            name=name,
            channel_ids=list(channel_ids),
            upload_limit=upload_limit if upload_limit is not None else self.upload_limit,
            locale=locale,
            owner_id=owner_id if owner_id is not None else self.owner_id,
            permissions=permissions,
            premium_tier=premium_tier,
            member_ids=list(member_ids),
        )
        self._guilds[guild_id] = guild
        for n, channel_id in enumerate(guild.channel_ids):
            self._channel_guild[channel_id] = guild_id
            self._channel_names[channel_id] = (channel_names or {}).get(channel_id, f"channel-{n}")
        for session in self._live_sessions():
            if session.intents & INTENT_GUILDS:
                self._send_dispatch(session, "GUILD_CREATE", self._guild_payload(guild))

    def add_user(self, user_id: int, username: str | None = None, **extra: Any) -> dict[str, Any]:
        """Register (or update) a user object; unknown ids get ``user{id}`` automatically."""
        user = {
            "id": str(user_id),
            "username": username or f"user{user_id}",
            "discriminator": "0",
            "global_name": username or f"User {user_id}",
            "avatar": None,
            "bot": False,
            "public_flags": 0,
            **extra,
        }
        self._users[user_id] = user
        return user

    def make_attachment(
        self, filename: str, data: bytes, content_type: str = "image/png"
    ) -> FakeAttachment:
        """A user upload for an attachment option; its URL is served by the fake."""
        att_id = self._snowflake()
        url = f"{self.base_url}/attachments/0/{att_id}/{filename}"
        self._blobs[att_id] = (filename, data, content_type)
        return FakeAttachment(att_id, filename, data, content_type, url)

    # ---------------------------------------------------------------- waiting

    def _pulse(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(
        self, check: Callable[[], T | None], timeout: float = 5.0, what: str = "a condition"
    ) -> T:
        """Wait until ``check()`` returns neither ``None`` nor ``False``, and return that.

        Re-checks on every change in the fake and at least every 50 ms, so ``check`` may also look
        at client-side state.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result is not None and result is not False:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"FakeDiscord: timed out after {timeout}s waiting for {what}")
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.05))

    async def wait_ready(self, timeout: float = 5.0, *, min_identifies: int | None = None) -> None:
        """Wait until a client is connected and got READY (and ``identify_count`` is enough).

        After a client restart use ``min_identifies=2`` (etc.) so the old session doesn't count.
        """

        def check() -> bool:
            if min_identifies is not None and self.identify_count < min_identifies:
                return False
            return any(s.ready and s.conn is not None for s in self._live_sessions())

        await self.wait_until(check, timeout, "a client to identify and get READY")

    async def wait_disconnected(self, timeout: float = 5.0) -> None:
        """Wait until no gateway connection is open."""
        await self.wait_until(
            lambda: not self._connections, timeout, "gateway clients to disconnect"
        )

    async def wait_for_response(
        self,
        interaction: FakeInteraction,
        timeout: float = 5.0,
        predicate: Callable[[FakeMessage], bool] | None = None,
    ) -> FakeMessage:
        """Wait for a message answering ``interaction`` and return it.

        Answers are callback 4/7 messages, follow-ups, and ``@original`` edits after a defer
        (messages are re-checked when edited). With ``predicate`` (e.g. ``lambda m: m.files``)
        the first answer that satisfies it is returned, which skips progress messages.
        """

        def check() -> FakeMessage | None:
            for msg in interaction.answers:
                if predicate is None or predicate(msg):
                    return msg
            return None

        return await self.wait_until(check, timeout, f"an answer to interaction {interaction.id}")

    async def wait_for_callback(
        self, interaction: FakeInteraction, timeout: float = 5.0
    ) -> CallbackRecord:
        """Wait for the first accepted callback (defer, message, modal, ...)."""
        return await self.wait_until(
            lambda: interaction.callbacks[0] if interaction.callbacks else None,
            timeout,
            f"a callback for interaction {interaction.id}",
        )

    async def wait_for_message(
        self, predicate: Callable[[FakeMessage], bool] | None = None, timeout: float = 5.0
    ) -> FakeMessage:
        """Wait for any bot message (of any kind) matching ``predicate``."""

        def check() -> FakeMessage | None:
            for msg in self.messages:
                if predicate is None or predicate(msg):
                    return msg
            return None

        return await self.wait_until(check, timeout, "a bot message")

    async def wait_for_sync(self, count: int = 1, timeout: float = 5.0) -> SyncCall:
        """Wait until ``count`` command syncs happened; returns the latest."""
        return await self.wait_until(
            lambda: self.sync_calls[-1] if len(self.sync_calls) >= count else None,
            timeout,
            f"{count} command sync(s)",
        )

    # ---------------------------------------------------------------- helpers

    def _snowflake(self) -> int:
        value = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        value = max(value, self._last_snowflake + 1)
        self._last_snowflake = value
        return value

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": str(self.bot_user_id),
            "username": self.bot_name,
            "discriminator": "0001",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "public_flags": 0,
            "flags": 0,
        }

    def _user(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_user_id:
            return self._bot_user()
        return self._users.get(user_id) or self.add_user(user_id)

    def _member(self, user_id: int, permissions: int | None = None) -> dict[str, Any]:
        member: dict[str, Any] = {
            "user": self._user(user_id),
            "roles": [],
            "joined_at": _iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
            "premium_since": None,
            "communication_disabled_until": None,
        }
        if permissions is not None:
            member["permissions"] = str(permissions)
        return member

    def _channel_payload(self, channel_id: int) -> dict[str, Any]:
        if channel_id in self._dm_channels:
            return {
                "id": str(channel_id),
                "type": 1,
                "recipients": [self._user(self._dm_channels[channel_id])],
                "last_message_id": None,
                "flags": 0,
            }
        guild_id = self._channel_guild[channel_id]
        guild = self._guilds[guild_id]
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": self._channel_names.get(channel_id, "general"),
            "position": guild.channel_ids.index(channel_id)
            if channel_id in guild.channel_ids
            else 0,
            "permission_overwrites": [],
            "nsfw": False,
            "topic": None,
            "parent_id": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }

    def _role_payload(self, guild: _Guild) -> dict[str, Any]:
        return {
            "id": str(guild.id),
            "name": "@everyone",
            "permissions": str(guild.permissions),
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def _guild_payload(self, guild: _Guild) -> dict[str, Any]:
        member_ids = [self.bot_user_id, *guild.member_ids]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "owner_id": str(guild.owner_id),
            "unavailable": False,
            "large": False,
            "member_count": len(member_ids),
            "features": [],
            "roles": [self._role_payload(guild)],
            "emojis": [],
            "stickers": [],
            "channels": [self._channel_payload(c) for c in guild.channel_ids],
            "threads": [],
            "members": [self._member(m) for m in member_ids],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "premium_tier": guild.premium_tier,
            "premium_subscription_count": 0,
            "preferred_locale": guild.locale,
            "joined_at": _iso(),
            "system_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "afk_timeout": 300,
            "max_members": 500000,
        }

    def _upload_limit_for(self, guild_id: int | None) -> int:
        guild = self._guilds.get(guild_id) if guild_id is not None else None
        return guild.upload_limit if guild else self.upload_limit

    def message_payload(self, msg: FakeMessage) -> dict[str, Any]:
        """The message object the fake returns for ``msg``."""
        out: dict[str, Any] = {
            "id": str(msg.id),
            "type": msg.type,
            "channel_id": str(msg.channel_id),
            "content": msg.content,
            "author": self._user(msg.author_id),
            "tts": msg.tts,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [f.payload() for f in msg.attachments],
            "embeds": msg.embeds,
            "components": msg.components,
            "pinned": False,
            "flags": msg.flags,
            "timestamp": _iso(((msg.id >> 22) + DISCORD_EPOCH_MS) / 1000),
            "edited_timestamp": _iso() if msg.edited_at else None,
        }
        if msg.guild_id is not None:
            out["guild_id"] = str(msg.guild_id)
        if msg.interaction_id is not None:
            out["webhook_id"] = str(self.application_id)
            out["application_id"] = str(self.application_id)
        return out

    def _store_files(
        self, channel_id: int, body: dict[str, Any], uploads: list[_Upload]
    ) -> list[FakeFile]:
        """Turn uploaded ``files[n]`` parts into attachments (descriptions from ``attachments``)."""
        meta: dict[str, dict[str, Any]] = {}
        for item in body.get("attachments") or []:
            if isinstance(item, dict):
                meta[str(item.get("id"))] = item
        files: list[FakeFile] = []
        for n, up in enumerate(uploads):
            index = up.field[6:-1] if up.field.startswith("files[") else str(n)
            info = meta.get(index, {})
            att_id = self._snowflake()
            filename = info.get("filename") or up.filename
            url = f"{self.base_url}/attachments/{channel_id}/{att_id}/{filename}"
            self._blobs[att_id] = (filename, up.data, up.content_type)
            files.append(
                FakeFile(att_id, filename, up.data, up.content_type, info.get("description"), url)
            )
        return files

    def _check_upload_size(self, uploads: list[_Upload], guild_id: int | None) -> None:
        limit = self._upload_limit_for(guild_id)
        if sum(len(u.data) for u in uploads) > limit:  # per request, so per file as well
            raise _ApiError(413, 40005, "Request entity too large")

    def _new_message(
        self,
        body: dict[str, Any],
        uploads: list[_Upload],
        *,
        channel_id: int,
        guild_id: int | None,
        kind: str,
        interaction: FakeInteraction | None = None,
        msg_type: int = 0,
        extra_flags: int = 0,
        record: bool = True,
    ) -> FakeMessage:
        msg = FakeMessage(
            id=self._snowflake(),
            channel_id=channel_id,
            guild_id=guild_id,
            kind=kind,
            content=body.get("content") or "",
            embeds=list(body.get("embeds") or []),
            components=list(body.get("components") or []),
            attachments=self._store_files(channel_id, body, uploads),
            allowed_mentions=body.get("allowed_mentions"),
            flags=int(body.get("flags") or 0) | extra_flags,
            type=msg_type,
            author_id=self.bot_user_id,
            interaction_id=interaction.id if interaction else None,
            webhook_token=interaction.token if interaction else None,
            tts=bool(body.get("tts")),
            raw=body,
        )
        self._messages_by_id[msg.id] = msg
        if record:
            self.messages.append(msg)
        return msg

    def _apply_edit(
        self, msg: FakeMessage, body: dict[str, Any], uploads: list[_Upload], *, fill: bool = False
    ) -> None:
        """PATCH semantics: only the fields present change; ``attachments`` lists what to keep."""
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in body:
                value = body[key]
                if key == "content":
                    value = value or ""
                elif key in ("embeds", "components"):
                    value = list(value or [])
                setattr(msg, key, value)
        if "flags" in body and body["flags"] is not None:
            keep = msg.flags & (EPHEMERAL | IS_COMPONENTS_V2)
            msg.flags = (int(body["flags"]) & ~(EPHEMERAL | LOADING)) | keep
        new_files = self._store_files(msg.channel_id, body, uploads)
        if "attachments" in body:
            keep_ids = {str(a.get("id")) for a in body["attachments"] or [] if isinstance(a, dict)}
            msg.attachments = [f for f in msg.attachments if str(f.id) in keep_ids]
        msg.attachments.extend(new_files)
        if fill:
            msg.flags &= ~LOADING
            msg.raw = body
        else:
            msg.edited_at = time.monotonic()
            msg.edits.append(body)
        if msg not in self.messages:
            self.messages.append(msg)

    def _answer(self, interaction: FakeInteraction, msg: FakeMessage) -> None:
        if msg not in interaction.answers:
            interaction.answers.append(msg)

    # ---------------------------------------------------------------- gateway: test side

    def _live_sessions(self) -> list[_Session]:
        return [s for s in self._sessions.values() if s.ready and not s.invalidated]

    def _send_dispatch(self, session: _Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
        session.backlog.append((session.seq, payload))
        if session.conn is not None:
            session.conn.send(payload)

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH event to every live session (buffered for resumable ones)."""
        sessions = self._live_sessions()
        if not sessions:
            raise RuntimeError(
                "FakeDiscord: no client session to dispatch to; await dc.wait_ready() first"
            )
        self.dispatched.append((event, data))
        for session in sessions:
            self._send_dispatch(session, event, data)

    def disconnect_clients(self, code: int = 4000) -> None:
        """Close every gateway connection from the server side (4000: client will RESUME)."""
        for conn in list(self._connections):
            conn.close(code)

    def send_reconnect(self) -> None:
        """Send op 7 RECONNECT to every connection (discord.py then resumes)."""
        for conn in list(self._connections):
            conn.send({"op": OP_RECONNECT, "d": None, "s": None, "t": None})

    def invalidate_sessions(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; ``resumable=False`` makes the client identify again."""
        for conn in list(self._connections):
            if conn.session is not None and not resumable:
                conn.session.invalidated = True
            conn.send({"op": OP_INVALID_SESSION, "d": resumable, "s": None, "t": None})

    def _interaction_payload(
        self,
        itype: int,
        data: dict[str, Any],
        *,
        user_id: int,
        guild_id: int | None,
        channel_id: int,
        locale: str,
        permissions: Any,
        app_permissions: int | None,
        message: FakeMessage | None = None,
    ) -> FakeInteraction:
        iid = self._snowflake()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(32)
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "channel_id": str(channel_id),
            "attachment_size_limit": self._upload_limit_for(guild_id),
        }
        if guild_id is not None:
            guild = self._guilds.get(guild_id)
            if guild is None:
                raise ValueError(f"unknown guild {guild_id}; call add_guild() first")
            if channel_id not in self._channel_guild:
                raise ValueError(f"unknown channel {channel_id} in guild {guild_id}")
            perms = getattr(permissions, "value", permissions)
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": guild.locale, "features": []},
                guild_locale=guild.locale,
                member=self._member(
                    user_id, int(perms) if perms is not None else guild.permissions
                ),
                app_permissions=str(
                    app_permissions if app_permissions is not None else guild.permissions
                ),
                authorizing_integration_owners={"0": str(guild_id)},
                context=0,
            )
        else:
            if channel_id in self._channel_guild:
                raise ValueError(f"channel {channel_id} is a guild channel; DMs need a DM channel")
            self._dm_channels.setdefault(channel_id, user_id)
            payload.update(
                user=self._user(user_id),
                app_permissions=str(app_permissions if app_permissions is not None else 0),
                authorizing_integration_owners={"0": str(user_id)},
                context=1,
            )
        payload["channel"] = self._channel_payload(channel_id)
        if message is not None:
            payload["message"] = self.message_payload(message)
        interaction = FakeInteraction(
            id=iid,
            token=token,
            type=itype,
            payload=payload,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
        )
        self._interactions_by_id[iid] = interaction
        self._interactions_by_token[token] = interaction
        self.interactions.append(interaction)
        self.dispatch("INTERACTION_CREATE", payload)
        interaction.created_at = time.monotonic()
        return interaction

    def _where(self, guild_id: Any, channel_id: Any, user_id: int) -> tuple[int | None, int]:
        """Resolve DEFAULT guild / channel (first guild and its first channel, or a DM)."""
        if guild_id is DEFAULT:
            guild_id = next(iter(self._guilds), None)
        if channel_id is DEFAULT:
            if guild_id is not None:
                if not self._guilds[guild_id].channel_ids:
                    raise ValueError(f"guild {guild_id} has no channels; pass channel_id")
                channel_id = self._guilds[guild_id].channel_ids[0]
            else:
                channel_id = (
                    next((c for c, u in self._dm_channels.items() if u == user_id), None)
                    or self._snowflake()
                )
        return guild_id, int(channel_id)

    def find_command(self, name: str, guild_id: int | None = None) -> dict[str, Any] | None:
        """The synced chat-input command ``name`` (guild commands first, then global)."""
        pools = []
        if guild_id is not None:
            pools.append(self.guild_commands.get(guild_id, []))
        pools.append(self.synced_commands)
        for pool in pools:
            for cmd in pool:
                if cmd["name"] == name and cmd.get("type", 1) == 1:
                    return cmd
        return None

    def _option_value(
        self, otype: int, value: Any, resolved: dict[str, Any], guild_id: int | None
    ) -> Any:
        if otype == OPT_STRING:
            return str(value)
        if otype == OPT_INTEGER:
            return int(value)
        if otype == OPT_NUMBER:
            return float(value)
        if otype == OPT_BOOLEAN:
            return bool(value)
        if otype == OPT_ATTACHMENT:
            if not isinstance(value, FakeAttachment):
                raise TypeError("attachment options take dc.make_attachment(...)")
            resolved.setdefault("attachments", {})[str(value.id)] = value.payload()
            return str(value.id)
        if otype in (OPT_USER, OPT_MENTIONABLE):
            user_id = int(value)
            resolved.setdefault("users", {})[str(user_id)] = self._user(user_id)
            if guild_id is not None:
                member = self._member(user_id, self._guilds[guild_id].permissions)
                member.pop("user")
                resolved.setdefault("members", {})[str(user_id)] = member
            return str(user_id)
        if otype == OPT_CHANNEL:
            channel = self._channel_payload(int(value))
            channel["permissions"] = str(DEFAULT_PERMISSIONS)
            resolved.setdefault("channels", {})[str(value)] = channel
            return str(value)
        if otype == OPT_ROLE:
            guild = self._guilds[int(guild_id or 0)]
            resolved.setdefault("roles", {})[str(value)] = self._role_payload(guild)
            return str(value)
        raise ValueError(f"unsupported option type {otype}")

    def _build_options(
        self,
        command: str,
        defs: list[dict[str, Any]] | None,
        values: Mapping[str, Any],
        resolved: dict[str, Any],
        guild_id: int | None,
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        by_name = {d["name"]: d for d in defs or []}
        for name, value in values.items():
            opt_def = by_name.get(name)
            if defs is not None and opt_def is None:
                raise ValueError(f"/{command} has no option {name!r} (synced: {sorted(by_name)})")
            otype = opt_def["type"] if opt_def else _infer_option_type(value)
            if name == focused:  # autocomplete: the partial text the user typed so far
                out.append({"name": name, "type": otype, "value": str(value), "focused": True})
                continue
            option_value = self._option_value(otype, value, resolved, guild_id)
            choices = (opt_def or {}).get("choices")
            if choices and option_value not in [c["value"] for c in choices]:
                raise ValueError(f"/{command} {name}={option_value!r} is not one of its choices")
            out.append({"name": name, "type": otype, "value": option_value})
        for opt_def in defs or []:
            if focused is None and opt_def.get("required") and opt_def["name"] not in values:
                raise ValueError(f"/{command} needs option {opt_def['name']!r}")
        return out

    def _command_data(
        self,
        name: str,
        options: Mapping[str, Any],
        guild_id: int | None,
        focused: str | None = None,
    ) -> dict[str, Any]:
        """``data`` of an application-command interaction, typed from the synced command."""
        root, *path = name.split()
        synced = self.find_command(root, guild_id)
        resolved: dict[str, Any] = {}
        defs = synced.get("options", []) if synced else None
        chain: list[dict[str, Any]] = []
        for part in path:
            sub = None
            if defs is not None:
                sub = next((d for d in defs if d["name"] == part), None)
                if sub is None:
                    raise ValueError(f"/{root} has no subcommand {part!r}")
            chain.append({"name": part, "type": sub["type"] if sub else OPT_SUBCOMMAND})
            defs = sub.get("options", []) if sub else None
        opts = self._build_options(name, defs, options, resolved, guild_id, focused)
        for link in reversed(chain):
            link["options"] = opts
            opts = [link]
        data: dict[str, Any] = {
            "id": synced["id"] if synced else str(self._snowflake()),
            "name": root,
            "type": 1,
            "options": opts,
        }
        if synced and synced.get("guild_id"):
            data["guild_id"] = synced["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    def slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user_id: int = 5,
        guild_id: Any = DEFAULT,
        channel_id: Any = DEFAULT,
        locale: str = "en-US",
        permissions: Any = None,
        app_permissions: int | None = None,
    ) -> FakeInteraction:
        """Dispatch a chat-input INTERACTION_CREATE (type 2) and return its record.

        ``name`` may be ``"group sub"`` for subcommands. Option types come from the synced
        command (guild, then global) when there is one (unknown / missing-required options then
        raise ``ValueError``), else they are inferred (str/int/float/bool/FakeAttachment).
        ``guild_id=None`` makes it a DM. ``permissions`` (int or ``discord.Permissions``) are the
        member's resolved permissions. Guild / channel default to the first guild and its first
        channel.
        """
        guild_id, channel_id = self._where(guild_id, channel_id, user_id)
        return self._interaction_payload(
            APPLICATION_COMMAND,
            self._command_data(name, options or {}, guild_id),
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            permissions=permissions,
            app_permissions=app_permissions,
        )

    def dm_slash_command(
        self, name: str, options: Mapping[str, Any] | None = None, *, user_id: int = 5, **kw: Any
    ) -> FakeInteraction:
        """:meth:`slash_command` in the user's DM with the bot."""
        return self.slash_command(name, options, user_id=user_id, guild_id=None, **kw)

    def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        user_id: int = 5,
        guild_id: Any = DEFAULT,
        channel_id: Any = DEFAULT,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """Dispatch an autocomplete interaction (type 4); the answer lands in ``.choices``."""
        guild_id, channel_id = self._where(guild_id, channel_id, user_id)
        values = {**options, focused: options.get(focused, "")}
        data = self._command_data(name, values, guild_id, focused=focused)
        return self._interaction_payload(
            AUTOCOMPLETE,
            data,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            permissions=None,
            app_permissions=None,
        )

    def _latest_with_custom_id(self, custom_id: str) -> FakeMessage | None:
        for msg in reversed(self.messages):
            if custom_id in msg.custom_ids() and not msg.deleted:
                return msg
        return None

    def _component_message(
        self,
        custom_id: str,
        message: FakeMessage | Mapping[str, Any] | int | None,
        channel_id: int,
        guild_id: int | None,
    ) -> FakeMessage:
        if isinstance(message, FakeMessage):
            return message
        if isinstance(message, int):
            return self._messages_by_id[message]
        if message is None:
            components = [
                {
                    "type": 1,
                    "components": [
                        {"type": 2, "style": 1, "custom_id": custom_id, "label": custom_id[:80]}
                    ],
                }
            ]
            body: dict[str, Any] = {"content": "", "components": components}
        else:
            body = dict(message)
        return self._new_message(
            body, [], channel_id=channel_id, guild_id=guild_id, kind="synthetic", record=False
        )

    def click_button(
        self,
        custom_id: str,
        message: FakeMessage | Mapping[str, Any] | int | None = None,
        *,
        user_id: int = 5,
        guild_id: Any = DEFAULT,
        channel_id: Any = DEFAULT,
        locale: str = "en-US",
        permissions: Any = None,
        app_permissions: int | None = None,
        component_type: int = 2,
        values: Sequence[str] | None = None,
    ) -> FakeInteraction:
        """Dispatch a component interaction (type 3) for ``custom_id``.

        ``message`` is the message carrying the component: a :class:`FakeMessage`, its id, a
        message body dict, or ``None`` for the latest bot message with that ``custom_id`` (a
        synthetic one-button message when there is none). Guild / channel default to the
        message's. ``component_type=3`` with ``values`` simulates a string select.
        """
        if message is None:
            message = self._latest_with_custom_id(custom_id)
        if isinstance(message, FakeMessage):
            if guild_id is DEFAULT:
                guild_id = message.guild_id
            if channel_id is DEFAULT:
                channel_id = message.channel_id
        guild_id, channel_id = self._where(guild_id, channel_id, user_id)
        msg = self._component_message(custom_id, message, channel_id, guild_id)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        return self._interaction_payload(
            MESSAGE_COMPONENT,
            data,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            permissions=permissions,
            app_permissions=app_permissions,
            message=msg,
        )

    def select_menu(self, custom_id: str, values: Sequence[str], **kw: Any) -> FakeInteraction:
        """A string-select interaction (component type 3)."""
        return self.click_button(custom_id, component_type=3, values=values, **kw)

    def submit_modal(
        self,
        custom_id: str,
        fields: Mapping[str, str],
        *,
        user_id: int = 5,
        guild_id: Any = DEFAULT,
        channel_id: Any = DEFAULT,
        locale: str = "en-US",
        permissions: Any = None,
        message: FakeMessage | None = None,
    ) -> FakeInteraction:
        """Dispatch a modal submit (type 5) with text-input ``fields`` {custom_id: value}."""
        guild_id, channel_id = self._where(guild_id, channel_id, user_id)
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
            for k, v in fields.items()
        ]
        return self._interaction_payload(
            MODAL_SUBMIT,
            {"custom_id": custom_id, "components": rows},
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            permissions=permissions,
            app_permissions=None,
            message=message,
        )

    def user_message(
        self, content: str, *, channel_id: int, user_id: int = 5, **extra: Any
    ) -> dict[str, Any]:
        """Dispatch MESSAGE_CREATE for a user's message (returns the payload)."""
        guild_id = self._channel_guild.get(channel_id)
        payload: dict[str, Any] = {
            "id": str(self._snowflake()),
            "type": 0,
            "channel_id": str(channel_id),
            "content": content,
            "author": self._user(user_id),
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "flags": 0,
            "timestamp": _iso(),
            "edited_timestamp": None,
            **extra,
        }
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
            member = self._member(user_id)
            member.pop("user")
            payload["member"] = member
        self.dispatch("MESSAGE_CREATE", payload)
        return payload

    # ---------------------------------------------------------------- gateway: server side

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=0)
        await ws.prepare(request)
        query = dict(request.query)
        self.gateway_queries.append(query)
        conn = _Connection(ws, zlib_stream=query.get("compress") == "zlib-stream")
        self._connections.add(conn)
        if query.get("encoding", "json") != "json":
            conn.close(4002)
        conn.send(
            {
                "op": OP_HELLO,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    raw = msg.data if isinstance(msg.data, str) else msg.data.decode()
                    payload = json.loads(raw)
                except (ValueError, UnicodeDecodeError):
                    conn.close(4002)
                    continue
                self._on_gateway_payload(conn, payload)
        finally:
            self._connections.discard(conn)
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                if ws.close_code in (1000, 1001) and not conn.closing:
                    session.invalidated = True  # a clean client close ends the session
            conn.closing = True
            await conn.stop()
            self._pulse()
        return ws

    def _on_gateway_payload(self, conn: _Connection, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        raw = payload.get("d")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if op == OP_HEARTBEAT:
            conn.heartbeats += 1
            self.heartbeat_count += 1
            conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            self._identify(conn, data)
        elif op == OP_RESUME:
            self._resume(conn, data)
        elif conn.session is None:
            conn.close(4003)  # not authenticated
        elif op == OP_PRESENCE:
            self.presence_updates.append(data)
        elif op == OP_VOICE_STATE:
            pass
        elif op == OP_REQUEST_MEMBERS:
            guild = self._guilds.get(int(data.get("guild_id", 0)))
            if guild is not None:
                self._send_dispatch(
                    conn.session,
                    "GUILD_MEMBERS_CHUNK",
                    {
                        "guild_id": str(guild.id),
                        "members": [self._member(m) for m in [self.bot_user_id, *guild.member_ids]],
                        "chunk_index": 0,
                        "chunk_count": 1,
                        "nonce": data.get("nonce"),
                    },
                )
        else:
            conn.close(4001)  # unknown opcode

    def _identify(self, conn: _Connection, data: dict[str, Any]) -> None:
        self.identify_payloads.append(data)
        if conn.session is not None:
            conn.close(4005)  # already authenticated
            return
        if data.get("token") != self.token:
            conn.close(4004)  # authentication failed
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            conn.close(4013)  # invalid intents
            return
        if (
            self.allowed_intents is not None
            and intents & PRIVILEGED_INTENTS & ~self.allowed_intents
        ):
            conn.close(4014)  # disallowed intents
            return
        self.identify_count += 1
        session = _Session(id=secrets.token_hex(16), intents=intents, identify=data, conn=conn)
        self._sessions[session.id] = session
        conn.session = session
        ready = {
            "v": API_VERSION,
            "user": {**self._bot_user(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g), "unavailable": True} for g in self._guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        self._send_dispatch(session, "READY", ready)
        if intents & INTENT_GUILDS:
            for guild in self._guilds.values():
                self._send_dispatch(session, "GUILD_CREATE", self._guild_payload(guild))
        session.ready = True
        self._pulse()

    def _resume(self, conn: _Connection, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            conn.close(4004)
            return
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or session.invalidated:
            conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        if session.conn is not None and session.conn is not conn:
            session.conn.close(4000)
        session.conn = conn
        conn.session = session
        last = int(data.get("seq") or 0)
        for seq, payload in list(session.backlog):
            if seq > last:
                conn.send(payload)
        self.resume_count += 1
        self._send_dispatch(session, "RESUMED", {})
        self._pulse()

    # ---------------------------------------------------------------- REST plumbing

    def _middleware(self) -> Any:
        fake = self

        @web.middleware
        async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
            proxied = request.raw_path.startswith(_ABSOLUTE_TARGET)
            route_handler = request.match_info.handler
            public = getattr(route_handler, "_fake_public", False) or not request.path.startswith(
                "/api/"
            )
            authorized = request.headers.get("Authorization") == f"Bot {fake.token}"
            record = RequestRecord(
                request.method, request.path, proxied, time.monotonic(), authorized
            )
            fake.requests.append(record)
            if proxied:
                fake.proxied_requests.append(record)
            http_exc = request.match_info.http_exception
            if http_exc is not None:
                status = http_exc.status
                text = "405: Method Not Allowed" if status == 405 else "404: Not Found"
                return _json({"message": text, "code": 0}, status)
            if not public and not authorized:
                return _json({"message": "401: Unauthorized", "code": 0}, 401)
            try:
                response: web.StreamResponse = await handler(request)
                return response
            except _ApiError as err:
                return _json(err.body, err.status)
            finally:
                fake._pulse()

        return middleware

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        p = r"/api/v{version:\d+}"
        routes: list[tuple[str, str, Any]] = [
            ("GET", "/users/@me", self._get_me),
            ("GET", "/users/{user_id:\\d+}", self._get_user),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/applications/{app_id}/commands", self._get_commands),
            ("PUT", "/applications/{app_id}/commands", self._put_commands),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app_id}/{token}", self._followup),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self._webhook_message),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", self._webhook_message),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}", self._webhook_message),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("POST", "/channels/{channel_id}/messages", self._channel_post),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._channel_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._channel_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._channel_message),
            ("POST", "/channels/{channel_id}/typing", self._typing),
            ("GET", "/guilds/{guild_id}", self._get_guild),
        ]
        for method, path, handler in routes:
            router.add_route(method, p + path, handler)
        router.add_get("/gateway", self._handle_gateway)
        router.add_get("/gateway/", self._handle_gateway)
        router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._get_blob)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[_Upload]]:
        """JSON body (an object unless the route takes a list), or multipart ``payload_json`` +
        ``files[n]`` parts."""
        body, uploads = await self._read_raw_body(request)
        wants_list = request.method == "PUT" and request.path.endswith("/commands")
        if not isinstance(body, list if wants_list else dict):
            kind = "BASE_TYPE_ARRAY" if wants_list else "DICT_TYPE_CONVERT"
            raise _ApiError(
                400,
                50035,
                "Invalid Form Body",
                {"_errors": [{"code": kind, "message": "Bad type"}]},
            )
        return body, uploads

    async def _read_raw_body(self, request: web.Request) -> tuple[Any, list[_Upload]]:
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            body: dict[str, Any] = {}
            uploads: list[_Upload] = []
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    try:
                        body = json.loads(await part.text())
                    except ValueError as exc:
                        raise _ApiError(
                            400, 50109, "The request body contains invalid JSON."
                        ) from exc
                elif part.filename is not None or (part.name or "").startswith("files["):
                    data = bytes(await part.read(decode=False))
                    uploads.append(
                        _Upload(
                            part.name or "",
                            part.filename or "file",
                            data,
                            part.headers.get("Content-Type"),
                        )
                    )
                else:
                    body[part.name or ""] = await part.text()
            return body, uploads
        raw = await request.read()
        if not raw:
            return ([] if request.method == "PUT" else {}), []
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise _ApiError(400, 50109, "The request body contains invalid JSON.") from exc
        return data, []

    @staticmethod
    def _int(request: web.Request, key: str) -> int:
        try:
            return int(request.match_info[key])
        except ValueError as exc:
            raise _ApiError(404, 0, "404: Not Found") from exc

    # ---------------------------------------------------------------- REST: identity

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json(
            {**self._bot_user(), "verified": True, "mfa_enabled": False, "locale": "en-US"}
        )

    async def _get_user(self, request: web.Request) -> web.Response:
        return _json(self._user(self._int(request, "user_id")))

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
                "name": self.bot_name,
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": self.application_flags,
                "owner": self._user(self.owner_id),
                "team": None,
                "bot": self._bot_user(),
                "summary": "",
                "redirect_uris": [],
                "interactions_endpoint_url": None,
            }
        )

    @_public
    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - self.identify_count,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self._guilds.get(self._int(request, "guild_id"))
        if guild is None:
            raise _ApiError(404, 10004, "Unknown Guild")
        return _json(self._guild_payload(guild))

    # ---------------------------------------------------------------- REST: commands

    def _check_app(self, request: web.Request) -> None:
        if request.match_info["app_id"] != str(self.application_id):
            raise _ApiError(403, 50001, "Missing Access")

    async def _get_commands(self, request: web.Request) -> web.Response:
        self._check_app(request)
        if "guild_id" in request.match_info:
            return _json(self.guild_commands.get(self._int(request, "guild_id"), []))
        return _json(self.synced_commands)

    async def _put_commands(self, request: web.Request) -> web.Response:
        self._check_app(request)
        guild_id = self._int(request, "guild_id") if "guild_id" in request.match_info else None
        body, _ = await self._read_body(request)
        call = SyncCall(guild_id, body if isinstance(body, list) else [], time.monotonic(), 200)
        self.sync_calls.append(call)
        if guild_id is not None and guild_id not in self._guilds:
            call.status = 403
            raise _ApiError(403, 50001, "Missing Access")
        try:
            _validate_commands(body)
        except _ApiError:
            call.status = 400
            raise
        stored: list[dict[str, Any]] = []
        for cmd in body:
            ctype = int(cmd.get("type", 1))
            key = (guild_id, cmd["name"], ctype)
            cmd_id = self._command_ids.setdefault(key, self._snowflake())
            item = {
                "id": str(cmd_id),
                "application_id": str(self.application_id),
                "version": str(self._snowflake()),
                "type": ctype,
                "description": "",
                "default_member_permissions": None,
                "dm_permission": True,
                "nsfw": False,
                "name_localizations": None,
                "description_localizations": None,
                **cmd,
            }
            if guild_id is not None:
                item["guild_id"] = str(guild_id)
            stored.append(item)
        if guild_id is None:
            self.synced_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        return _json(stored)

    # ---------------------------------------------------------------- REST: interactions

    @_public
    async def _callback(self, request: web.Request) -> web.StreamResponse:
        interaction = self._interactions_by_id.get(self._int(request, "interaction_id"))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise _ApiError(404, 10062, "Unknown interaction")
        now = time.monotonic()
        elapsed = now - interaction.created_at
        body, uploads = await self._read_body(request)
        cb_type = body.get("type")
        data = body.get("data")
        record = CallbackRecord(
            int(cb_type) if isinstance(cb_type, int) else -1,
            data,
            now,
            elapsed,
            200,
            [(u.filename, u.data) for u in uploads],
        )

        def reject(
            status: int, code: int, message: str, errors: dict[str, Any] | None = None
        ) -> _ApiError:
            record.status = status
            interaction.rejected_callbacks.append(record)
            return _ApiError(status, code, message, errors)

        if interaction.callbacks:
            raise reject(400, 40060, "Interaction has already been acknowledged.")
        if elapsed > self.callback_timeout:
            raise reject(404, 10062, "Unknown interaction")
        allowed = {
            PING: {CB_PONG},
            APPLICATION_COMMAND: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_MODAL},
            MESSAGE_COMPONENT: {
                CB_MESSAGE,
                CB_DEFERRED_MESSAGE,
                CB_DEFERRED_UPDATE,
                CB_UPDATE,
                CB_MODAL,
            },
            AUTOCOMPLETE: {CB_AUTOCOMPLETE},
            MODAL_SUBMIT: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE},
        }[interaction.type]
        if cb_type not in allowed:
            raise reject(
                400,
                50035,
                "Invalid Form Body",
                {
                    "type": {
                        "_errors": [
                            {
                                "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                "message": "Invalid interaction response type",
                            }
                        ]
                    }
                },
            )
        data = data if isinstance(data, dict) else {}
        if cb_type in (CB_MESSAGE, CB_UPDATE):
            errors = _validate_message(data, path=("data",))
            if cb_type == CB_MESSAGE and not (
                data.get("content")
                or data.get("embeds")
                or data.get("components")
                or uploads
                or data.get("poll")
            ):
                raise reject(400, 50006, "Cannot send an empty message")
            if errors.tree:
                raise reject(400, 50035, "Invalid Form Body", errors.tree)
            try:
                self._check_upload_size(uploads, interaction.guild_id)
            except _ApiError as err:
                raise reject(err.status, err.body["code"], err.body["message"]) from None
        elif cb_type == CB_MODAL:
            errors = _FormErrors()
            errors.length(("data", "custom_id"), data.get("custom_id"), 100, 1)
            errors.length(("data", "title"), data.get("title"), 45, 1)
            errors.count(("data", "components"), data.get("components"), 5, 1)
            if errors.tree:
                raise reject(400, 50035, "Invalid Form Body", errors.tree)

        interaction.callbacks.append(record)
        message: FakeMessage | None = None
        msg_type = 20 if interaction.type == APPLICATION_COMMAND else 0
        if cb_type == CB_MESSAGE:
            message = self._new_message(
                data,
                uploads,
                channel_id=interaction.channel_id,
                guild_id=interaction.guild_id,
                kind="response",
                interaction=interaction,
                msg_type=msg_type,
            )
            interaction.original = message
            self._answer(interaction, message)
        elif cb_type == CB_DEFERRED_MESSAGE:
            message = self._new_message(
                {"flags": int(data.get("flags") or 0) & EPHEMERAL},
                [],
                channel_id=interaction.channel_id,
                guild_id=interaction.guild_id,
                kind="response",
                interaction=interaction,
                msg_type=msg_type,
                extra_flags=LOADING,
                record=False,
            )
            interaction.original = message
        elif cb_type in (CB_DEFERRED_UPDATE, CB_UPDATE):
            message_id = int(interaction.payload.get("message", {}).get("id", 0))
            message = self._messages_by_id.get(message_id)
            interaction.original = message
            if cb_type == CB_UPDATE and message is not None:
                self._apply_edit(message, data, uploads)
                self._answer(interaction, message)
        elif cb_type == CB_MODAL:
            interaction.modal = data
        elif cb_type == CB_AUTOCOMPLETE:
            interaction.choices = list(data.get("choices") or [])

        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        info: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        out: dict[str, Any] = {"interaction": info}
        if message is not None and cb_type in (CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_UPDATE):
            info.update(
                response_message_id=str(message.id),
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
            out["resource"] = {"type": cb_type, "message": self.message_payload(message)}
        else:
            out["resource"] = {"type": cb_type}
        return _json(out)

    def _webhook_interaction(self, request: web.Request) -> FakeInteraction:
        interaction = self._interactions_by_token.get(request.match_info["token"])
        if interaction is None or request.match_info["app_id"] != str(self.application_id):
            raise _ApiError(404, 10015, "Unknown Webhook")
        if time.monotonic() - interaction.created_at > self.token_lifetime:
            raise _ApiError(401, 50027, "Invalid Webhook Token")
        return interaction

    @_public
    async def _followup(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        if not interaction.callbacks:
            raise _ApiError(404, 10015, "Unknown Webhook")
        body, uploads = await self._read_body(request)
        errors = _validate_message(body)
        if not (
            body.get("content")
            or body.get("embeds")
            or body.get("components")
            or uploads
            or body.get("poll")
        ):
            raise _ApiError(400, 50006, "Cannot send an empty message")
        errors.raise_if_any()
        self._check_upload_size(uploads, interaction.guild_id)
        placeholder = interaction.original
        if (
            placeholder is not None
            and placeholder.loading
            and interaction.callbacks[0].type == CB_DEFERRED_MESSAGE
        ):
            # Discord: the first follow-up after a deferred response replaces the "thinking"
            # message, and its ephemerality is the defer's (the follow-up's flag is ignored).
            body_flags = int(body.get("flags") or 0) & ~EPHEMERAL
            self._apply_edit(placeholder, {**body, "flags": body_flags}, uploads, fill=True)
            message = placeholder
            message.kind = "followup"
        else:
            message = self._new_message(
                body,
                uploads,
                channel_id=interaction.channel_id,
                guild_id=interaction.guild_id,
                kind="followup",
                interaction=interaction,
            )
        interaction.followups.append(message)
        self._answer(interaction, message)
        return _json(self.message_payload(message))

    @_public
    async def _webhook_message(self, request: web.Request) -> web.StreamResponse:
        interaction = self._webhook_interaction(request)
        key = request.match_info["message_id"]
        if key == "@original":
            message = interaction.original if interaction.callbacks else None
        else:
            message = next((m for m in interaction.followups if str(m.id) == key), None)
            if message is None and interaction.original and str(interaction.original.id) == key:
                message = interaction.original
        if message is None or message.deleted:
            raise _ApiError(404, 10008, "Unknown Message")
        if request.method == "GET":
            return _json(self.message_payload(message))
        if request.method == "DELETE":
            message.deleted = True
            return web.Response(status=204)
        body, uploads = await self._read_body(request)
        _validate_message(body).raise_if_any()
        self._check_upload_size(uploads, interaction.guild_id)
        self._apply_edit(message, body, uploads, fill=message.loading)
        self._answer(interaction, message)
        return _json(self.message_payload(message))

    # ---------------------------------------------------------------- REST: channels

    def _channel_id(self, request: web.Request) -> int:
        channel_id = self._int(request, "channel_id")
        if channel_id not in self._channel_guild and channel_id not in self._dm_channels:
            raise _ApiError(404, 10003, "Unknown Channel")
        return channel_id

    async def _get_channel(self, request: web.Request) -> web.Response:
        return _json(self._channel_payload(self._channel_id(request)))

    async def _typing(self, request: web.Request) -> web.Response:
        self.typing.append(self._channel_id(request))
        return web.Response(status=204)

    async def _channel_post(self, request: web.Request) -> web.Response:
        channel_id = self._channel_id(request)
        guild_id = self._channel_guild.get(channel_id)
        body, uploads = await self._read_body(request)
        errors = _validate_message(body)
        if not (
            body.get("content")
            or body.get("embeds")
            or body.get("components")
            or uploads
            or body.get("sticker_ids")
            or body.get("poll")
        ):
            raise _ApiError(400, 50006, "Cannot send an empty message")
        errors.raise_if_any()
        if int(body.get("flags") or 0) & EPHEMERAL:
            raise _ApiError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "flags": {
                        "_errors": [
                            {
                                "code": "MESSAGE_FLAGS_INVALID",
                                "message": "Ephemeral messages need an interaction",
                            }
                        ]
                    }
                },
            )
        self._check_upload_size(uploads, guild_id)
        msg_type = 19 if body.get("message_reference") else 0
        message = self._new_message(
            body,
            uploads,
            channel_id=channel_id,
            guild_id=guild_id,
            kind="channel",
            msg_type=msg_type,
        )
        return _json(self.message_payload(message))

    async def _channel_message(self, request: web.Request) -> web.StreamResponse:
        channel_id = self._channel_id(request)
        message = self._messages_by_id.get(self._int(request, "message_id"))
        if message is None or message.channel_id != channel_id or message.deleted:
            raise _ApiError(404, 10008, "Unknown Message")
        if request.method == "GET":
            return _json(self.message_payload(message))
        if request.method == "DELETE":
            message.deleted = True
            return web.Response(status=204)
        if message.author_id != self.bot_user_id or message.ephemeral:
            raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        body, uploads = await self._read_body(request)
        _validate_message(body).raise_if_any()
        self._check_upload_size(uploads, message.guild_id)
        self._apply_edit(message, body, uploads)
        return _json(self.message_payload(message))

    async def _get_blob(self, request: web.Request) -> web.Response:
        blob = self._blobs.get(self._int(request, "attachment_id"))
        if blob is None:
            return web.Response(status=404)
        _, data, content_type = blob
        return web.Response(body=data, content_type=content_type or "application/octet-stream")
