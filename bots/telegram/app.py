"""The Telegram adapter: a python-telegram-bot Application whose handlers only translate.

Updates are handled concurrently (core caps relay calls); long polling by default, webhook
mode on the shared web server when TELEGRAM_WEBHOOK_URL is set.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import httpx
from telegram.error import InvalidToken
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    JobQueue,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bots.telegram.actions import RateLimiter
from bots.telegram.handlers import TelegramHandlers
from bots.telegram.menu import register_commands
from bots.telegram.webhook import ALLOWED_UPDATES, start_webhook
from bots.web import WebServer
from core.config import SettingRejected
from core.http import fast_transport
from core.root import Core

log = logging.getLogger(__name__)

# What ApplicationBuilder builds with our rate limiter (its bot's rate-limit args are ints).
TelegramApp = Application[
    ExtBot[int],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]


def base_file_url(base_url: str) -> str | None:
    """`…/bot` -> `…/file/bot` (also `…/bot{token}`); None keeps PTB's default."""
    found = re.search(r"/bot(\{token\})?$", base_url)
    if found is None:
        return None
    return base_url[: found.start()] + "/file/bot" + (found[1] or "")


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


def build_application(core: Core) -> tuple[TelegramApp, TelegramHandlers]:
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
    handlers = TelegramHandlers(core, application.bot)
    texts = filters.UpdateType.MESSAGE & (filters.TEXT | filters.CAPTION)
    application.add_handler(MessageHandler(texts, handlers.on_message))
    application.add_handler(CallbackQueryHandler(handlers.on_callback))
    application.add_error_handler(handlers.on_error)
    return application, handlers


async def initialize(application: TelegramApp) -> None:
    """Log in (getMe); a rejected token stops start-up with a message that does not carry it."""
    try:
        await application.initialize()
    except BaseException as error:
        await application.bot.shutdown()  # close its HTTP clients
        if isinstance(error, InvalidToken):  # its message would carry the token
            raise SettingRejected(
                "TELEGRAM_BOT_TOKEN", "was rejected by Telegram (see @BotFather)"
            ) from None
        raise


async def run(core: Core, stop: asyncio.Event, web: WebServer | None = None) -> None:
    """Serve Telegram until `stop` is set, then stop polling and the application."""
    settings = core.settings
    application, handlers = build_application(core)
    await initialize(application)
    async with application:
        await register_commands(application.bot)
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
            await core.front.attach("telegram", handlers.courier)
            await stop.wait()
        finally:
            core.front.detach("telegram")
            if web is not None:
                web.ready["telegram"] = False
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
            core.service.alert_sinks.remove(handlers.alert)
