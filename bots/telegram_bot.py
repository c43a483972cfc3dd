"""Telegram adapter: a python-telegram-bot Application whose handlers only translate.

Updates are handled concurrently (the core caps relay calls); long polling by default,
webhook mode on the shared web server when TELEGRAM_WEBHOOK_URL is set.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx
from aiohttp import web as aioweb
from telegram import BotCommand, CallbackQuery, Chat, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import Forbidden, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bots.telegram_send import ChatActions, RateLimiter, Sender, Target
from bots.web import WebServer
from core import messages
from core.admin import ADMIN_COMMANDS, AdminContext
from core.chat import TEXT_COMMANDS, text_reply
from core.command import UsageError, parse_draw, split_command
from core.config import SettingRejected, Settings
from core.http import fast_transport
from core.params import DrawParams
from core.root import Core
from core.service import Place, Requester

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CALLBACK = re.compile(r"^g:(again|size|orig):(\d{1,18})$")
GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
CHAT_ADMINS = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)

# The command menu (setMyCommands); the replies themselves come from core/messages.py.
MENU = {
    "en": [
        ("draw", "Draw a picture: /draw <prompt> --size 768x512"),
        ("redo", "Draw one of yours again: /redo [number]"),
        ("original", "Send one of yours again, free: /original <number>"),
        ("history", "Your recent drawings"),
        ("quota", "How many images you have left today"),
        ("help", "Every option of /draw"),
        ("forget", "Delete your prompts and images"),
    ],
    "zh": [
        ("draw", "画图:/draw <提示词> --size 768x512"),
        ("redo", "重画你的作品:/redo [编号]"),
        ("original", "免费重新发送原图:/original <编号>"),
        ("history", "你最近的作品"),
        ("quota", "今天还剩多少张"),
        ("help", "/draw 的全部选项"),
        ("forget", "删除你的提示词和图片"),
    ],
}


def base_file_url(base_url: str) -> str | None:
    """`…/bot` -> `…/file/bot` (also `…/bot{token}`); None keeps PTB's default."""
    found = re.search(r"/bot(\{token\})?$", base_url)
    if found is None:
        return None
    return base_url[: found.start()] + "/file/bot" + (found[1] or "")


def webhook_secret(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, or one derived from the token (stable across restarts)."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.reveal()
    assert settings.telegram_bot_token is not None
    seed = f"drawbot-webhook:{settings.telegram_bot_token.reveal()}".encode()
    return hashlib.sha256(seed).hexdigest()[:48]


def requester_of(user: User) -> Requester:
    return Requester("telegram", str(user.id), user.full_name, user.language_code)


def place_of(chat: Chat) -> Place:
    return Place("telegram", str(chat.id), chat.title or chat.full_name, chat.type in GROUPS)


def target_of(message: Message) -> Target:
    """Answer in the message's chat and topic; in groups quote it (even once deleted)."""
    in_group = message.chat.type in GROUPS
    thread = message.message_thread_id if message.is_topic_message else None
    return Target(message.chat.id, message.message_id if in_group else None, thread)


class Handlers:
    """The update handlers: platform values in, core calls, sentences and images out."""

    def __init__(self, core: Core, application: Application) -> None:  # type: ignore[type-arg]
        self.core = core
        self.bot = application.bot
        self.send = Sender(application.bot, core.store)
        self.actions = ChatActions(application.bot)

    def lang(self, user: User | None) -> str:
        code = user.language_code if user else None
        return messages.language(code, self.core.settings.default_language)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None or message.from_user is None:
            return
        parsed = split_command(message.text or message.caption or "", self.bot.username)
        if parsed is None:
            return
        command, args = parsed
        requester, place = requester_of(message.from_user), place_of(message.chat)
        target, lang = target_of(message), self.lang(message.from_user)
        source_key = f"telegram:{message.chat.id}:{message.message_id}"
        if command == "draw":
            try:
                params = self.draw_params(args, message)
            except UsageError as error:
                await self.send.text(target, error.text(lang))
                return
            async with self.actions.showing(target):
                outcome = await self.core.service.draw(
                    requester, place, params, source_key=source_key
                )
            await self.send.deliver(outcome, target, lang)
        elif command == "redo":
            number = args.strip().lstrip("#")
            async with self.actions.showing(target):
                outcome = await self.core.account.redo(
                    requester,
                    place,
                    int(number) if number.isdigit() else None,
                    source_key=source_key,
                )
            await self.send.deliver(outcome, target, lang)
        elif command == "original":
            number = args.strip().lstrip("#")
            if not number.isdigit():
                await self.send.text(target, messages.text("usage", lang))
                return
            outcome = await self.core.account.original(requester, int(number), place)
            await self.send.originals(outcome, target)
        elif command in TEXT_COMMANDS:
            ctx = await self.admin_context(message, requester, place, command)
            reply = await text_reply(self.core, command, args, ctx)
            if reply:
                await self.send.text(target, reply)
        elif not place.is_group:
            await self.send.text(target, messages.text("usage", lang))

    @staticmethod
    def draw_params(args: str, message: Message) -> DrawParams:
        """Parse /draw; with no prompt, a replied-to message's text is the prompt."""
        try:
            return parse_draw(args)
        except UsageError as error:
            replied = message.reply_to_message
            quoted = (replied.text or replied.caption or "").strip() if replied else ""
            if error.key != "empty_prompt" or not quoted:
                raise
            return parse_draw(f"{quoted} {args}")

    async def admin_context(
        self, message: Message, requester: Requester, place: Place, command: str
    ) -> AdminContext:
        """Group admins (and anonymous admins posting as the group) are chat admins."""
        is_chat_admin = False
        if command in ADMIN_COMMANDS and place.is_group:
            sender_chat = message.sender_chat
            if sender_chat is not None and sender_chat.id == message.chat.id:
                is_chat_admin = True
            else:
                try:
                    member = await self.bot.get_chat_member(message.chat.id, int(requester.user_id))
                    is_chat_admin = member.status in CHAT_ADMINS
                except TelegramError as error:
                    log.warning("getChatMember failed: %s", error)
        replied = message.reply_to_message
        target = replied.from_user if replied is not None else None
        target_id = str(target.id) if target is not None and target.id != self.bot.id else None
        return AdminContext(requester, place, is_chat_admin, target_id)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        found = CALLBACK.match(query.data or "")
        await self.answer(query)
        if found is None or query.message is None:
            return
        action, generation_id = found[1], int(found[2])
        requester, place = requester_of(query.from_user), place_of(query.message.chat)
        lang = self.lang(query.from_user)
        message = query.message
        target = target_of(message) if isinstance(message, Message) else Target(message.chat.id)
        if action == "orig":
            outcome = await self.core.account.original(requester, generation_id, place)
            await self.send.originals(outcome, target)
            return
        async with self.actions.showing(target):
            outcome = await self.core.account.redo(
                requester,
                place,
                generation_id,
                new_seed=action == "again",
                turn=action == "size",
                source_key=f"telegram:callback:{query.id}",
                anyone=True,
            )
        await self.send.deliver(outcome, target, lang)

    @staticmethod
    async def answer(query: CallbackQuery) -> None:
        """Stop the button's spinner; an old query (e.g. redelivered) cannot be answered."""
        try:
            await query.answer()
        except TelegramError as error:
            log.info("callback query not answered: %s", error)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure (the log filter scrubs secrets) and still answer the user."""
        if isinstance(context.error, Forbidden):
            log.info("telegram: not allowed to answer (blocked or removed): %s", context.error)
            return
        log.error("telegram handler failed", exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        lang = self.lang(update.effective_user)
        message = update.effective_message
        chat = update.effective_chat
        target = target_of(message) if message is not None else Target(chat.id)
        try:
            await self.send.text(target, messages.text("error", lang))
        except TelegramError as error:
            log.warning("could not tell the user about the failure: %s", error)

    async def alert(self, kind: str, text: str) -> None:
        """An admin alert sink: DM every telegram:<id> in ADMIN_IDS."""
        for user_id in self.core.settings.admins_on("telegram"):
            try:
                await self.bot.send_message(int(user_id), text)
            except TelegramError as error:
                log.warning("could not alert admin %s (%s): %s", user_id, kind, error)


def http_request(proxy: str | None, pool: int) -> HTTPXRequest:
    """PTB's request class on aiohttp's pool (see core.http), through HTTPS_PROXY if set."""
    limits = httpx.Limits(max_connections=pool)
    transport = fast_transport(limits, proxy)
    return HTTPXRequest(
        connection_pool_size=pool,
        pool_timeout=10.0,
        proxy=None if transport else proxy,
        httpx_kwargs={"transport": transport} if transport else None,
    )


def build_application(core: Core) -> tuple[Application, Handlers]:  # type: ignore[type-arg]
    """The Application with every handler, as `run` uses it (tests build it the same way)."""
    settings = core.settings
    assert settings.telegram_bot_token is not None, "TELEGRAM_BOT_TOKEN is not set"
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.reveal())
        .base_url(settings.telegram_api_base_url)
        .concurrent_updates(256)
        .rate_limiter(RateLimiter(max_retries=5))
        .request(http_request(settings.https_proxy, pool=256))
        .get_updates_request(http_request(settings.https_proxy, pool=2))
    )
    file_url = base_file_url(settings.telegram_api_base_url)
    if file_url is not None:
        builder = builder.base_file_url(file_url)
    if settings.telegram_webhook_url:
        builder = builder.updater(None)
    application = builder.build()
    handlers = Handlers(core, application)
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & (filters.TEXT | filters.CAPTION), handlers.on_message
        )
    )
    application.add_handler(CallbackQueryHandler(handlers.on_callback))
    application.add_error_handler(handlers.on_error)
    return application, handlers


async def register_commands(application: Application) -> None:  # type: ignore[type-arg]
    """The command menu in English (default) and Chinese (`zh` clients)."""
    for lang, code in (("en", None), ("zh", "zh")):
        commands = [BotCommand(name, text) for name, text in MENU[lang]]
        try:
            await application.bot.set_my_commands(commands, language_code=code)
        except TelegramError as error:
            log.warning("setMyCommands (%s) failed: %s", lang, error)


def webhook_handler(
    application: Application,  # type: ignore[type-arg]
    secret: str,
) -> Callable[[aioweb.Request], Awaitable[aioweb.StreamResponse]]:
    """Check the secret header, queue the update, answer at once."""
    expected = secret.encode()

    async def handle(request: aioweb.Request) -> aioweb.StreamResponse:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, expected):
            return aioweb.Response(status=403)
        if not application.running:
            return aioweb.Response(status=503)  # Telegram delivers it again later
        try:
            data = await request.json()
            update = Update.de_json(data, application.bot)
        except Exception:
            log.warning("webhook: a request that is not an update was refused")
            return aioweb.Response(status=400)
        await application.update_queue.put(update)
        return aioweb.Response(status=200)

    return handle


async def start_webhook(
    application: Application,  # type: ignore[type-arg]
    settings: Settings,
    web: WebServer | None,
) -> None:
    """Serve the webhook's path on the shared server, then tell Telegram about it."""
    if web is None:
        raise RuntimeError("webhook mode needs the shared web server")
    url = settings.telegram_webhook_url
    assert url is not None
    secret = webhook_secret(settings)
    web.add_post(urlsplit(url).path or "/", webhook_handler(application, secret))
    await application.bot.set_webhook(
        url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
    )


async def run(core: Core, stop: asyncio.Event, web: WebServer | None = None) -> None:
    """Serve Telegram until `stop` is set, then stop polling and the application."""
    settings = core.settings
    application, handlers = build_application(core)
    try:
        await application.initialize()
    except BaseException as error:
        await application.bot.shutdown()  # close its HTTP clients
        if isinstance(error, InvalidToken):  # its message would carry the token
            raise SettingRejected(
                "TELEGRAM_BOT_TOKEN", "was rejected by Telegram (see @BotFather)"
            ) from None
        raise
    async with application:
        await register_commands(application)
        core.service.alert_sinks.append(handlers.alert)
        await application.start()
        try:
            if settings.telegram_webhook_url:
                await start_webhook(application, settings, web)
                log.info("telegram: webhook mode as @%s", application.bot.username)
            else:
                assert application.updater is not None
                await application.updater.start_polling(
                    allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
                )
                log.info("telegram: long polling as @%s", application.bot.username)
            if web is not None:
                web.ready["telegram"] = True
            await stop.wait()
        finally:
            if web is not None:
                web.ready["telegram"] = False
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
            core.service.alert_sinks.remove(handlers.alert)
