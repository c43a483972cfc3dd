"""A strict fake of the Telegram Bot API methods drawbot calls, over HTTP on 127.0.0.1.

The real python-telegram-bot runs against it unchanged (``base_url=f"{tg.base_url}/bot"``)::

    async with FakeTelegram(token="123:ABC") as tg:
        tg.user_sends(text="/draw a cat", user_id=1)
        sent = await tg.wait_for_sent(lambda m: m.chat_id == 1)

Served: getMe, getUpdates (long polling, offsets, 409 conflicts), setWebhook, deleteWebhook,
setMyCommands, sendMessage, sendPhoto, sendDocument, sendMediaGroup, sendChatAction,
answerCallbackQuery, getChatMember, and getFile with the file's download at
``/file/bot<token>/<file_path>`` (users send photos and documents: ``user_sends(photo=...)``).
Telegram's checks are kept where a bot can get them wrong: text and caption limits in UTF-16
code units, reply targets, callback data size, file identifiers, photo validity and size,
callback queries answered once and in time, blocked users, injected 429 floods and getUpdates
refusals (401/404, ``fail_get_updates``). Anything else answers 404 (PTB: ``EndPointNotFound``).

Stricter than Telegram on purpose: a ``parse_mode`` is refused (drawbot sends plain text, so
prompts need no escaping); photos must be PNG or JPEG; a media group needs 2-10 items.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import mimetypes
import re
import secrets
import ssl
import struct
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from .base import FakeServer, notify, wait_for

JSON = dict[str, Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_URL_PHOTO_BYTES = 5 * 1024 * 1024  # a photo Telegram fetches from a URL itself
MAX_GET_FILE_BYTES = 20 * 1024 * 1024  # what getFile lets a bot download
ERR_URL_CONTENT = "failed to get HTTP URL content"
# How Telegram's servers name themselves when they fetch a photo URL.
AGENT = {"User-Agent": "TelegramBot (like TwitterBot)"}
ERR_URL_TYPE = "wrong type of the web page content"

ERR_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
ERR_WRONG_FILE = "wrong file identifier/HTTP URL specified"
ERR_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
ERR_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


class ApiError(Exception):
    """An error answer of the Bot API (``{"ok": false, ...}``)."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        payload: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            payload["parameters"] = self.parameters
        return web.json_response(payload, status=self.status)


def bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits."""
    return len(text.encode("utf-16-le")) // 2


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """``(format, width, height)`` of a PNG or JPEG image; None for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 9 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD8:
            pos += 1 if marker == 0xFF else 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return "jpeg", width, height
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    return None


# ------------------------------------------------------------------------ records for tests


@dataclass
class ApiCall:
    """One Bot API request as the fake received it (``status`` is None while running)."""

    method: str
    params: JSON
    at: float
    status: int | None = None
    description: str | None = None


@dataclass
class SentMessage:
    """A message the bot sent (one record per send call; a media group is one record)."""

    method: str
    chat_id: int
    message_id: int
    kind: str  # "text", "photo", "document" or "media_group"
    text: str | None
    caption: str | None
    parse_mode: str | None
    reply_markup: JSON | None
    reply_to_message_id: int | None
    files: list[bytes]
    params: JSON
    at: float  # time.monotonic()
    message: JSON  # the (first) message as Telegram returned it
    messages: list[JSON] = field(default_factory=list)  # every message of a media group

    @property
    def visible_text(self) -> str | None:
        """Text or caption as users see it."""
        return self.message.get("text", self.message.get("caption"))

    def buttons(self) -> list[JSON]:
        """Inline keyboard buttons, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # "photo" or "document"
    data: bytes
    width: int = 0
    height: int = 0
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class _Pending:
    update: JSON
    redelivered: bool = False
    delivered: bool = False


@dataclass
class _Upload:
    data: bytes
    filename: str | None
    content_type: str | None


class _Params:
    """Request parameters from JSON, urlencoded or multipart bodies (files kept apart)."""

    def __init__(self, values: Mapping[str, Any], uploads: Mapping[str, _Upload]) -> None:
        self.values = dict(values)
        self.uploads = dict(uploads)

    def string(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        return value.strip().lower() in ("true", "1") if isinstance(value, str) else bool(value)

    def parsed(self, name: str) -> Any:
        """A JSON-serialized parameter (multipart and form bodies carry JSON as text)."""
        value = self.values.get(name)
        if not isinstance(value, str) or value == "":
            return value or None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None


async def _read_params(request: web.Request) -> _Params:
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, _Upload] = {}
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            values.update(body)
        else:
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    uploads[name] = _Upload(value.file.read(), value.filename, value.content_type)
                else:
                    values[name] = value
    return _Params(values, uploads)


_SEND_METHODS = {
    "text": "sendMessage",
    "photo": "sendPhoto",
    "document": "sendDocument",
    "media_group": "sendMediaGroup",
}
_METHODS: dict[str, tuple[str, str]] = {}  # lower-case name -> (Bot API name, handler)


def _api(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        _METHODS[name.lower()] = (name, func.__name__)
        return func

    return register


class FakeTelegram(FakeServer):
    """A fake Bot API server for one bot, plus helpers that act as its users."""

    client_max_size = MAX_UPLOAD_BYTES + 1024 * 1024
    shutdown_timeout = 1.0

    def __init__(
        self,
        token: str = "123:ABC",
        bot_username: str = "drawbot_test_bot",
        *,
        callback_answer_timeout: float = 15.0,
    ) -> None:
        super().__init__()
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: JSON = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Drawbot Test",
            "username": bot_username,
        }
        self.callback_answer_timeout = callback_answer_timeout
        self.sent: list[SentMessage] = []
        self.edits: list[JSON] = []  # every editMessageText that changed a message
        self.deleted: list[tuple[int, int]] = []  # (chat id, message id) the bot deleted
        self.calls: list[ApiCall] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.callback_answers: list[JSON] = []
        self.webhook_url = ""
        # sendPhoto with an http(s) URL: Telegram fetches it (refusing it over 5 MB,
        # unreachable, not an image); every URL it was asked to fetch, in order
        self.url_photo_max_bytes = MAX_URL_PHOTO_BYTES
        self.url_fetches: list[str] = []
        self.file_downloads: list[str] = []  # the file_path of every download of a file
        self._fetcher: aiohttp.ClientSession | None = None  # Telegram's side of photo URLs
        self.trust: ssl.SSLContext | None = None  # whom that side trusts over https (test CAs)

        self._chats: dict[int, JSON] = {}
        self._users: dict[int, JSON] = {}
        self._members: dict[int, set[int]] = {}
        self._admins: dict[int, set[int]] = {}
        self._owners: dict[int, int] = {}
        self._blocked: set[int] = set()
        self._messages: dict[tuple[int, int], JSON] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._files: dict[str, StoredFile] = {}
        self._file_paths: dict[str, StoredFile] = {}  # getFile's file_path -> the file
        self._callbacks: dict[str, JSON] = {}
        self._floods: list[list[Any]] = []  # [method or None, times left, retry_after]
        self._next_update_id = 1
        self._updates: dict[int, JSON] = {}
        self._pending: list[_Pending] = []
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._closing = False
        self._refusal: tuple[int, int | None] | None = None  # (status, times left or None)

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)

    async def start(self) -> None:
        self._closing = False
        await super().start()

    async def closing(self) -> None:
        """Let long polls end at once."""
        self._closing = True
        notify()
        if self._fetcher is not None:
            await self._fetcher.close()

    # ------------------------------------------------------------------ test side: the world

    def add_chat(
        self, chat_id: int, chat_type: str = "private", *, title: str | None = None
    ) -> JSON:
        """Make a chat known (private chats have the user's id, groups a negative one)."""
        existing = self._chats.get(chat_id)
        if existing is not None and existing["type"] == chat_type:
            return existing
        if chat_type == "private":
            if chat_id <= 0:
                raise ValueError("private chats have the user's (positive) id")
            chat: JSON = {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
        elif chat_type in ("group", "supergroup"):
            if chat_id >= 0:
                raise ValueError(f"{chat_type} chats have negative ids")
            chat = {"id": chat_id, "type": chat_type, "title": title or f"Chat {chat_id}"}
        else:
            raise ValueError(f"unknown chat type {chat_type!r}")
        self._chats[chat_id] = chat
        return chat

    def set_admins(self, chat_id: int, user_ids: Iterable[int], owner: int | None = None) -> None:
        """A group's administrators (and its owner) as getChatMember reports them."""
        self._admins[chat_id] = set(user_ids) | ({owner} if owner is not None else set())
        for user_id in self._admins[chat_id]:
            self._user(user_id)
        if owner is not None:
            self._owners[chat_id] = owner

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: sending to them answers 403."""
        self._blocked.add(user_id)

    def _user(
        self, user_id: int, first_name: str | None = None, language_code: str | None = None
    ) -> JSON:
        user = self._users.setdefault(
            user_id, {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        )
        if first_name is not None:
            user["first_name"] = first_name
        if language_code is not None:
            user["language_code"] = language_code
        return user

    # ---------------------------------------------------------------- test side: updates

    def push_update(self, update: JSON) -> JSON:
        """Queue a raw update (an ``update_id`` is assigned if missing); returns it."""
        update = {"update_id": self._next_update_id, **update}
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        self._updates[update["update_id"]] = update
        self._pending.append(_Pending(update))
        notify()
        return update

    def redeliver(self, update_id: int) -> JSON:
        """Queue an already delivered update again, with the same ``update_id``."""
        update = self._updates[update_id]
        self._pending.append(_Pending(copy.deepcopy(update), redelivered=True))
        notify()
        return update

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates the bot has not confirmed yet."""
        return [p.update for p in self._pending]

    def user_sends(
        self,
        text: str,
        user_id: int = 1,
        chat_id: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "en",
        first_name: str | None = None,
        reply_to: JSON | SentMessage | None = None,
        message_thread_id: int | None = None,
        *,
        photo: bytes | None = None,
        document: bytes | None = None,
        file_name: str = "file",
        mime_type: str | None = None,
    ) -> JSON:
        """A user writes ``text``; queues a ``message`` update and returns the message. With
        ``photo`` (PNG or JPEG) or ``document`` the text is the file's caption."""
        if chat_id is None:
            if chat_type != "private":
                raise ValueError("group chats need an explicit negative chat_id")
            chat_id = user_id
        user = self._user(user_id, first_name, language_code)
        chat = self.add_chat(chat_id, chat_type)
        self._members.setdefault(chat_id, set()).add(user_id)
        message = self._new_message(chat, user)
        key = "text"
        if photo is not None or document is not None:
            upload = _Upload(photo or document or b"", file_name, mime_type)
            stored = self._store_upload("photo" if photo is not None else "document", upload)
            message.update(self._media(stored))
            key = "caption"
        if text or key == "text":
            message[key] = text
        if command := re.match(r"/\w+(@\w+)?", text):  # Telegram marks a leading command
            entity = {"type": "bot_command", "offset": 0, "length": command.end()}
            message["entities" if key == "text" else "caption_entities"] = [entity]
        if message_thread_id is not None:
            message["message_thread_id"] = message_thread_id
            message["is_topic_message"] = True
        if reply_to is not None:
            key = self._message_key(reply_to)
            if key not in self._messages:
                raise ValueError(f"reply target {key} does not exist")
            message["reply_to_message"] = self._snapshot(self._messages[key])
        self._messages[(chat_id, message["message_id"])] = message
        self.push_update({"message": copy.deepcopy(message)})
        return copy.deepcopy(message)

    def user_edits(self, message: JSON, text: str) -> JSON:
        """The user edits their message; queues an ``edited_message`` update."""
        stored = self._messages[self._message_key(message)]
        stored.update(text=text, edit_date=int(time.time()))
        self.push_update({"edited_message": copy.deepcopy(stored)})
        return copy.deepcopy(stored)

    def user_clicks(
        self, message: JSON | SentMessage, data: str, user_id: int | None = None
    ) -> str:
        """A user presses the inline button with ``callback_data == data``; returns the query id."""
        chat_id, message_id = self._message_key(message)
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise ValueError(f"message {message_id} in chat {chat_id} does not exist")
        rows = (stored.get("reply_markup") or {}).get("inline_keyboard") or []
        datas = [b.get("callback_data") for row in rows for b in row]
        if data not in datas:
            raise ValueError(f"no button with callback_data {data!r} on the message: {datas}")
        if user_id is None:
            if stored["chat"]["type"] != "private":
                raise ValueError("user_id is required for clicks in groups")
            user_id = chat_id
        query_id = str(4_000_000_000_000 + len(self._callbacks))
        self._callbacks[query_id] = {"answered": False, "at": time.monotonic()}
        query = {
            "id": query_id,
            "from": copy.deepcopy(self._user(user_id)),
            "message": copy.deepcopy(stored),
            "chat_instance": str(abs(chat_id) * 7 + 13),
            "data": data,
        }
        self.push_update({"callback_query": query})
        return query_id

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """The user deletes a message (Telegram sends bots no update for that)."""
        self._messages.pop((chat_id, message_id), None)

    def flood(self, method: str | None = None, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` (any if None) with 429 retry_after."""
        self._floods.append([method.lower() if method else None, times, retry_after])

    def fail_get_updates(self, status: int = 401, times: int | None = 1) -> None:
        """Answer the next ``times`` getUpdates calls (all of them if None; none again if 0)
        with ``status``: 401 Unauthorized or 404 Not Found, as a flaky proxy or a Bot API
        server that is restarting does. A long poll waiting now gets the first one."""
        if status not in (401, 404):
            raise ValueError("getUpdates refusals are 401 or 404")
        self._refusal = (status, times) if times != 0 else None
        notify()

    def _take_refusal(self) -> None:
        if self._refusal is None:
            return
        status, left = self._refusal
        if left is not None:
            self._refusal = (status, left - 1) if left > 1 else None
        raise ApiError(status, "Unauthorized" if status == 401 else "Not Found")

    # ------------------------------------------------------------- test side: observing

    async def wait_for_sent(
        self,
        predicate: Callable[[SentMessage], bool] = lambda m: True,
        within: float = 5.0,
        since: int = 0,
    ) -> SentMessage:
        """The first message the bot sent (from index ``since`` of :attr:`sent`) matching."""
        try:
            return await wait_for(
                lambda: next((m for m in self.sent[since:] if predicate(m)), None),
                within,
                "a sent message",
            )
        except TimeoutError as exc:
            summary = [(m.method, m.chat_id, m.visible_text) for m in self.sent[since:]]
            raise TimeoutError(f"{exc}; sent so far: {summary}") from None

    async def wait_for_call(self, method: str, within: float = 5.0) -> ApiCall:
        """The first finished call of ``method``."""
        return await wait_for(
            lambda: next((c for c in self.calls_of(method) if c.status is not None), None),
            within,
            f"a {method} call",
        )

    async def wait_delivered(self, within: float = 5.0) -> None:
        """Wait until getUpdates handed out every queued update at least once."""
        await wait_for(
            lambda: all(p.delivered for p in self._pending), within, "the bot to fetch updates"
        )

    def calls_of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[JSON] | None:
        """The command menu set for a scope type and language."""
        return self.commands.get((scope, language_code))

    # ------------------------------------------------------------------------- HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if not re.fullmatch(r"\d+:[\w-]+", token):
            return ApiError(404, "Not Found").response()
        if token != self.token:
            return ApiError(401, "Unauthorized").response()
        name = request.match_info["method"]
        known = _METHODS.get(name.lower())
        call = ApiCall(known[0] if known else name, {}, time.monotonic())
        self.calls.append(call)
        try:
            params = await _read_params(request)
            call.params = {**params.values, **dict.fromkeys(params.uploads, "<upload>")}
            if known is None:
                raise ApiError(404, "Not Found")
            self._take_flood(known[0])
            result = await getattr(self, known[1])(params)
        except ApiError as error:
            call.status, call.description = error.status, error.description
            return error.response()
        except asyncio.CancelledError:
            call.status, call.description = 499, "client closed the request"
            raise
        except Exception as error:  # a bug in the fake: the base records it
            call.status, call.description = 500, repr(error)
            raise
        call.status = 200
        return web.json_response({"ok": True, "result": result})

    def _take_flood(self, method: str) -> None:
        for rule in self._floods:
            if rule[1] > 0 and rule[0] in (None, method.lower()):
                rule[1] -= 1
                if rule[1] == 0:
                    self._floods.remove(rule)
                text = f"Too Many Requests: retry after {rule[2]}"
                raise ApiError(429, text, {"retry_after": rule[2]})

    # ------------------------------------------------------------------------- helpers

    def _chat(self, params: _Params) -> JSON:
        chat_id = params.integer("chat_id")
        if chat_id is None:
            raise bad_request("chat_id is empty")
        chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat["type"] == "private" and chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _new_message(self, chat: JSON, sender: JSON) -> JSON:
        ids = self._message_ids.setdefault(chat["id"], itertools.count(1))
        return {
            "message_id": next(ids),
            "from": copy.deepcopy(sender),
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
        }

    @staticmethod
    def _message_key(message: JSON | SentMessage) -> tuple[int, int]:
        if isinstance(message, SentMessage):
            return message.chat_id, message.message_id
        return message["chat"]["id"], message["message_id"]

    @staticmethod
    def _snapshot(message: JSON) -> JSON:
        snapshot = copy.deepcopy(message)
        snapshot.pop("reply_to_message", None)
        return snapshot

    def _text(self, params: _Params, key: str) -> str | None:
        """The text (key "text", required) or caption, checked like Telegram does."""
        if params.values.get("parse_mode"):
            raise bad_request("unsupported parse_mode (the fake expects plain text)")
        value = params.string(key)
        if not value or not value.strip():
            if key == "text":
                raise bad_request("message text is empty")
            return None
        if key == "text" and utf16_len(value) > MAX_TEXT:
            raise bad_request("message is too long")
        if key == "caption" and utf16_len(value) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return value

    def _reply_markup(self, params: _Params) -> JSON | None:
        markup = params.parsed("reply_markup")
        if markup is None:
            return None
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for button in (b for row in rows for b in row):
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request('can\'t parse inline keyboard button: Field "text" is missing')
            data = button.get("callback_data")
            if data is None and "url" not in button:
                raise bad_request("can't parse inline keyboard button: Text buttons are unallowed")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise bad_request("BUTTON_DATA_INVALID")
        return markup

    def _reply_target(self, params: _Params, chat: JSON) -> tuple[int | None, JSON | None]:
        """(the message id replied to, a snapshot of it or None when it is gone)."""
        reply = params.parsed("reply_parameters")
        if not isinstance(reply, dict) or reply.get("message_id") is None:
            return None, None
        message_id = int(reply["message_id"])
        stored = self._messages.get((chat["id"], message_id))
        if stored is None:
            if reply.get("allow_sending_without_reply") is not True:
                raise bad_request("message to be replied not found")
            return message_id, None
        return message_id, self._snapshot(stored)

    def _bot_message(
        self, chat: JSON, params: _Params, content: JSON, markup: JSON | None, reply: JSON | None
    ) -> JSON:
        message = self._new_message(chat, self.bot_user)
        thread = params.integer("message_thread_id")
        if thread is not None and chat["type"] == "supergroup":
            message["message_thread_id"] = thread
        if reply is not None:
            message["reply_to_message"] = reply
        message.update(content)
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    def _record_sent(
        self,
        kind: str,
        params: _Params,
        messages: list[JSON],
        files: list[bytes],
        reply_id: int | None,
        markup: JSON | None = None,
    ) -> None:
        first = messages[0]
        self.sent.append(
            SentMessage(
                method=_SEND_METHODS[kind],
                chat_id=first["chat"]["id"],
                message_id=first["message_id"],
                kind=kind,
                text=params.string("text"),
                caption=first.get("caption"),
                parse_mode=params.string("parse_mode"),
                reply_markup=markup,
                reply_to_message_id=reply_id,
                files=files,
                params=dict(params.values),
                at=time.monotonic(),
                message=copy.deepcopy(first),
                messages=copy.deepcopy(messages) if kind == "media_group" else [],
            )
        )
        notify()

    # --------------------------------------------------------------------------- files

    def _store_file(self, kind: str, data: bytes, name: str | None, mime: str | None) -> StoredFile:
        prefix = {"photo": "AgACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI"}[kind]
        file_id = prefix + secrets.token_urlsafe(24)
        stored = StoredFile(file_id, "AQAD" + secrets.token_urlsafe(8), kind, data)
        stored.file_name, stored.mime_type = name, mime
        self._files[file_id] = stored
        return stored

    def _store_upload(self, kind: str, upload: _Upload) -> StoredFile:
        data = upload.data
        if not data:
            raise bad_request("file must be non-empty")
        if kind == "document":
            if len(data) > MAX_UPLOAD_BYTES:
                raise ApiError(413, "Request Entity Too Large")
            mime = upload.content_type
            if mime in (None, "application/octet-stream") and upload.filename:
                mime = mimetypes.guess_type(upload.filename)[0] or mime
            return self._store_file("document", data, upload.filename, mime)
        if len(data) > MAX_PHOTO_BYTES:
            raise bad_request("PHOTO_SAVE_FILE_INVALID")
        info = image_size(data)
        if info is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        fmt, width, height = info
        if (
            not width
            or not height
            or width + height > 10_000
            or max(width, height) > 20 * min(width, height)
        ):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        stored = self._store_file("photo", data, None, f"image/{fmt}")
        stored.width, stored.height = width, height
        return stored

    async def _input_file(
        self, params: _Params, value: Any, field_name: str, kind: str
    ) -> StoredFile:
        """An upload (directly or as ``attach://<part>``), a photo's http(s) URL, or a
        file_id of the right kind."""
        upload = params.uploads.get(field_name)
        if upload is None and isinstance(value, str) and value.startswith(("http://", "https://")):
            if kind != "photo":
                raise bad_request(ERR_WRONG_FILE)  # the fake fetches photos only
            upload = await self._fetch_url(value)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = params.uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(ERR_WRONG_FILE)
        if upload is not None:
            return self._store_upload(kind, upload)
        stored = self._files.get(value.strip()) if isinstance(value, str) else None
        if stored is None:
            raise bad_request(ERR_WRONG_FILE)
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
        return stored

    async def _fetch_url(self, url: str) -> _Upload:
        """What Telegram's servers get from a photo URL, refused as Telegram refuses it.

        Over one kept session, the body read whole: a session per photo (a new connection)
        and a buffer grown 64 KB at a time were the fake's CPU, on the benches' loop, counted
        in the bot's added latency; Telegram fetches on its own servers."""
        self.url_fetches.append(url)
        limit = self.url_photo_max_bytes
        if self._fetcher is None or self._fetcher.closed:
            timeout = aiohttp.ClientTimeout(total=10)
            connector = aiohttp.TCPConnector(ssl=self.trust if self.trust else True)
            self._fetcher = aiohttp.ClientSession(
                connector=connector, timeout=timeout, headers=AGENT
            )
        try:
            async with self._fetcher.get(url) as response:
                if response.status != 200:
                    raise bad_request(ERR_URL_CONTENT)
                mime = response.content_type
                if not mime.startswith("image/"):
                    raise bad_request(ERR_URL_TYPE)
                if (response.content_length or 0) > limit:
                    raise bad_request(ERR_URL_CONTENT)
                if response.content_length is not None:
                    data = await response.read()  # one buffer of that length
                else:
                    buffer = bytearray()
                    async for chunk in response.content.iter_chunked(65536):
                        buffer += chunk
                        if len(buffer) > limit:
                            raise bad_request(ERR_URL_CONTENT)
                    data = bytes(buffer)
        except (aiohttp.ClientError, TimeoutError):
            raise bad_request(ERR_URL_CONTENT) from None
        return _Upload(data, None, mime)

    def _media(self, stored: StoredFile) -> JSON:
        """The message content for a stored file: PhotoSize list (largest last) or Document."""
        base = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.kind == "document":
            doc = {**base, "file_size": len(stored.data)}
            if stored.file_name:
                doc["file_name"] = stored.file_name
            if stored.mime_type:
                doc["mime_type"] = stored.mime_type
            return {"document": doc}
        longest = max(stored.width, stored.height)
        sizes: list[JSON] = []
        if longest > 320:  # one thumbnail; its own file id
            thumb = self._store_file("photo", stored.data, None, stored.mime_type)
            scale = 320 / longest
            thumb.width = max(1, round(stored.width * scale))
            thumb.height = max(1, round(stored.height * scale))
            sizes.append(self._photo_size(thumb, len(stored.data) * 320 // longest))
        sizes.append(self._photo_size(stored, len(stored.data)))
        return {"photo": sizes}

    @staticmethod
    def _photo_size(stored: StoredFile, size: int) -> JSON:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": stored.width,
            "height": stored.height,
            "file_size": max(size, 1),
        }

    # ----------------------------------------------------------------------- API methods

    @_api("getFile")
    async def _get_file(self, params: _Params) -> JSON:
        stored = self._files.get(params.string("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > MAX_GET_FILE_BYTES:
            raise bad_request("file is too big")
        folder = "photos" if stored.kind == "photo" else "documents"
        extension = (stored.mime_type or "").rpartition("/")[2] or "bin"
        path = f"{folder}/file_{len(self._file_paths)}.{extension}"
        self._file_paths[path] = stored
        base = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        return {**base, "file_size": len(stored.data), "file_path": path}

    async def _handle_file(self, request: web.Request) -> web.Response:
        """A file's download, at the file_path getFile gave (the token in the URL)."""
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        stored = self._file_paths.get(request.match_info["path"])
        if stored is None:
            return ApiError(404, "Not Found").response()
        self.file_downloads.append(request.match_info["path"])
        notify()
        return web.Response(body=stored.data, content_type=stored.mime_type or "image/jpeg")

    @_api("getMe")
    async def _get_me(self, params: _Params) -> JSON:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False}

    @_api("setWebhook")
    async def _set_webhook(self, params: _Params) -> bool:
        url = params.string("url") or ""
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        return True

    @_api("deleteWebhook")
    async def _delete_webhook(self, params: _Params) -> bool:
        self.webhook_url = ""
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        return True

    @_api("getUpdates")
    async def _get_updates(self, params: _Params) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(409, ERR_CONFLICT_WEBHOOK)
        allowed = params.parsed("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or None
        self._take_refusal()
        self._poll_generation += 1
        generation = self._poll_generation
        notify()  # an older long poll ends with 409 Conflict
        self._confirm(params.integer("offset"))
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(float(params.values.get("timeout") or 0), 0.0)
        wanted = [p for p in self._pending if self._allowed(p.update)]
        if not wanted:
            try:
                await wait_for(
                    lambda: (
                        self._closing
                        or generation != self._poll_generation
                        or self._refusal is not None
                        or any(self._allowed(p.update) for p in self._pending)
                    ),
                    timeout,
                    "an update",
                )
            except TimeoutError:
                return []
        if generation != self._poll_generation:
            raise ApiError(409, ERR_CONFLICT_POLL)
        self._take_refusal()
        self._pending = [p for p in self._pending if self._allowed(p.update)]
        chosen = sorted(self._pending, key=lambda p: p.update["update_id"])[:limit]
        for pending in chosen:
            pending.delivered = True
        return [copy.deepcopy(p.update) for p in chosen]

    def _confirm(self, offset: int | None) -> None:
        """Forget updates before ``offset`` (a redelivered one only once handed out)."""
        if not offset:
            return
        self._pending = [
            p
            for p in self._pending
            if p.update["update_id"] >= offset or (p.redelivered and not p.delivered)
        ]

    def _allowed(self, update: JSON) -> bool:
        if self._allowed_updates is None:
            return True
        return any(kind in self._allowed_updates for kind in update if kind != "update_id")

    @_api("sendMessage")
    async def _send_message(self, params: _Params) -> JSON:
        chat = self._chat(params)
        text = self._text(params, "text")
        markup = self._reply_markup(params)
        reply_id, reply = self._reply_target(params, chat)
        message = self._bot_message(chat, params, {"text": text}, markup, reply)
        self._record_sent("text", params, [message], [], reply_id, markup)
        return message

    @_api("editMessageText")
    async def _edit_message_text(self, params: _Params) -> JSON:
        """The bot's own text message, edited (Telegram refuses an edit that changes nothing)."""
        message = self._own_message(params)
        text = self._text(params, "text")
        markup = self._reply_markup(params)
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise bad_request("message is not modified")
        message["text"] = text
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        self.edits.append(copy.deepcopy(message))
        notify()
        return message

    @_api("deleteMessage")
    async def _delete_message(self, params: _Params) -> bool:
        message = self._own_message(params)
        key = (message["chat"]["id"], message["message_id"])
        del self._messages[key]
        self.deleted.append(key)
        notify()
        return True

    def _own_message(self, params: _Params) -> JSON:
        chat = self._chat(params)
        message_id = params.integer("message_id")
        message = self._messages.get((chat["id"], message_id or 0))
        if message is None or message["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message to edit not found")
        return message

    @_api("sendPhoto")
    async def _send_photo(self, params: _Params) -> JSON:
        await self._photo_held(landed=False)
        message = await self._send_file(params, "photo")
        await self._photo_held(landed=True)
        return message

    @_api("sendDocument")
    async def _send_document(self, params: _Params) -> JSON:
        return await self._send_file(params, "document")

    async def _send_file(self, params: _Params, kind: str) -> JSON:
        chat = self._chat(params)
        caption = self._text(params, "caption")
        markup = self._reply_markup(params)
        reply_id, reply = self._reply_target(params, chat)
        stored = await self._input_file(params, params.values.get(kind), kind, kind)
        content = self._media(stored)
        if caption:
            content["caption"] = caption
        message = self._bot_message(chat, params, content, markup, reply)
        self._record_sent(kind, params, [message], [stored.data], reply_id, markup)
        return message

    @_api("sendMediaGroup")
    async def _send_media_group(self, params: _Params) -> list[JSON]:
        chat = self._chat(params)
        media = params.parsed("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad_request("media group must include 2-10 items")
        kinds = {item.get("type") for item in media if isinstance(item, dict)}
        if len(kinds) != 1 or not kinds <= {"photo", "document"}:
            raise bad_request(f"the fake takes all-photo or all-document albums, not {kinds}")
        reply_id, reply = self._reply_target(params, chat)
        group_id = str(13_000_000_000_000_000 + len(self.sent))
        messages: list[JSON] = []
        files: list[bytes] = []
        for item in media:
            caption = self._text(_Params(item, {}), "caption")
            stored = await self._input_file(params, item.get("media"), "", item["type"])
            content = {**self._media(stored), "media_group_id": group_id}
            if caption:
                content["caption"] = caption
            messages.append(self._bot_message(chat, params, content, None, reply))
            files.append(stored.data)
        self._record_sent("media_group", params, messages, files, reply_id)
        return messages

    @_api("sendChatAction")
    async def _send_chat_action(self, params: _Params) -> bool:
        chat = self._chat(params)
        action = params.string("action") or ""
        if action not in ("typing", "upload_photo", "upload_document"):
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat["id"], action))
        return True

    @_api("answerCallbackQuery")
    async def _answer_callback_query(self, params: _Params) -> bool:
        query = self._callbacks.get(params.string("callback_query_id") or "")
        if query is None or query["answered"]:
            raise bad_request(ERR_QUERY_INVALID)
        if time.monotonic() - query["at"] > self.callback_answer_timeout:
            raise bad_request(ERR_QUERY_INVALID)
        if len(params.string("text") or "") > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers.append(dict(params.values))
        return True

    @_api("setMyCommands")
    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.parsed("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        scope = params.parsed("scope") or {"type": "default"}
        language = params.string("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        self.commands[(scope["type"], language)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    @_api("getChatMember")
    async def _get_chat_member(self, params: _Params) -> JSON:
        chat = self._chat(params)
        user_id = params.integer("user_id")
        user = self.bot_user if user_id == self.bot_id else self._users.get(user_id or 0)
        if user is None:
            raise bad_request("user not found")
        member: JSON = {"status": "member", "user": copy.deepcopy(user)}
        if self._owners.get(chat["id"]) == user_id:
            member.update(status="creator", is_anonymous=False)
        elif user_id in self._admins.get(chat["id"], set()):
            member.update(
                status="administrator",
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=True,
                can_restrict_members=True,
                can_promote_members=False,
                can_change_info=True,
                can_invite_users=True,
                can_post_stories=True,
                can_edit_stories=True,
                can_delete_stories=True,
            )
        elif chat["type"] != "private" and user_id not in self._members.get(chat["id"], set()):
            member["status"] = "left"
        return member

    # ------------------------------------------- test side: holding uploads (crash tests)

    _photo_hold: asyncio.Event | None = None
    _photo_hold_landed = False
    held_photos = 0  # sendPhoto calls waiting in a hold now

    def hold_photos(self, *, landed: bool = False) -> None:
        """Hold every sendPhoto until `release_photos`: with the upload received but not
        posted (it never reaches the user), or with `landed`, posted and recorded in
        :attr:`sent` but not yet answered (the user has it; the bot never hears back)."""
        self._photo_hold = asyncio.Event()
        self._photo_hold_landed = landed

    def release_photos(self) -> None:
        if self._photo_hold is not None:
            self._photo_hold.set()
        self._photo_hold = None

    async def _photo_held(self, landed: bool) -> None:
        hold = self._photo_hold
        if hold is None or landed != self._photo_hold_landed:
            return
        self.held_photos += 1
        notify()
        try:
            await hold.wait()
        finally:
            self.held_photos -= 1
            notify()
