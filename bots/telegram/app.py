"""The Telegram adapter: a python-telegram-bot Application whose handlers only translate.

Updates are handled concurrently (core caps relay calls); long polling by default, webhook
mode on the shared web server when TELEGRAM_WEBHOOK_URL is set. Long polling is watched
(bots/telegram/liveness.py): a refused getUpdates is retried, a lasting refusal stops the
adapter with AdapterDied, and /healthz sees the age of the last answered poll.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    JobQueue,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bots.liveness import AdapterDied, Liveness
from bots.telegram.actions import RateLimiter
from bots.telegram.handlers import TelegramHandlers
from bots.telegram.liveness import PollTimings, PollWatch, WatchedPollRequest
from bots.telegram.menu import register_commands
from bots.telegram.request import telegram_request
from bots.telegram.webhook import ALLOWED_UPDATES, start_webhook
from bots.web import WebServer
from core.config import SettingRejected
from core.http import cannot_connect
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


def http_request(proxy: str | None, pool: int, watch: PollWatch | None = None) -> BaseRequest:
    """PTB's request object (on aiohttp, see bots/telegram/request.py), through HTTPS_PROXY if
    set; with `watch`, the getUpdates request that reports to it."""
    request = telegram_request(proxy, pool)
    return request if watch is None else WatchedPollRequest(watch, request)


def build_application(
    core: Core, polls: PollWatch | None = None
) -> tuple[TelegramApp, TelegramHandlers]:
    """The Application with every handler, as `run` uses it; its getUpdates report to `polls`."""
    settings = core.settings
    assert settings.telegram_bot_token is not None, "TELEGRAM_BOT_TOKEN is not set"
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.reveal())
        .base_url(settings.telegram_api_base_url)
        .concurrent_updates(256)
        .rate_limiter(RateLimiter(max_retries=5))
        .request(http_request(settings.https_proxy, pool=256))
        .get_updates_request(http_request(settings.https_proxy, pool=2, watch=polls))
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


async def initialize(application: TelegramApp, base_url: str) -> None:
    """Log in (getMe); a rejected token stops start-up with a message that does not carry it,
    and a Telegram that cannot be reached with one line naming where it was looked for."""
    try:
        await application.initialize()
    except BaseException as error:
        await application.bot.shutdown()  # close its HTTP clients
        if isinstance(error, InvalidToken):  # its message would carry the token
            raise SettingRejected(
                "TELEGRAM_BOT_TOKEN", "was rejected by Telegram (see @BotFather)"
            ) from None
        if isinstance(error, NetworkError):  # TimedOut included; never the URL with the token
            raise AdapterDied(unreachable(error, base_url)) from None
        raise


def unreachable(error: NetworkError, base_url: str) -> str:
    """Why getMe had no answer, and at which host (TELEGRAM_API_BASE_URL without its path,
    which may carry the token)."""
    parts = urlsplit(base_url)
    where = f"{parts.scheme}://{parts.netloc}"
    why = cannot_connect(error)
    if why is None:
        why = "no answer in time" if isinstance(error, TimedOut) else type(error).__name__
    return f"cannot reach Telegram at {where} (TELEGRAM_API_BASE_URL): {why}"


async def run(
    core: Core,
    stop: asyncio.Event,
    web: WebServer | None = None,
    *,
    timings: PollTimings | None = None,
) -> None:
    """Serve Telegram until `stop` is set, then stop polling and the application. Raises
    AdapterDied when Telegram keeps refusing getUpdates (see bots/telegram/liveness.py)."""
    settings = core.settings
    polls = PollWatch(timings)
    webhook = bool(settings.telegram_webhook_url)
    # Webhook mode: setWebhook and each update are its signs of life; never stale (quiet is fine).
    liveness = Liveness("update", None) if webhook else polls.liveness
    application, handlers = build_application(core, polls)
    if webhook:

        async def received(_: object, __: object) -> None:
            liveness.seen()

        application.add_handler(TypeHandler(Update, received), group=-1)
    if web is not None:
        web.track("telegram", liveness)
    await initialize(application, settings.telegram_api_base_url)
    async with application:
        await register_commands(application.bot)
        core.service.alert_sinks.append(handlers.alert)
        await application.start()
        try:
            if webhook:
                await start_webhook(application, settings, web)
                liveness.seen()
                log.info("telegram: webhook mode as @%s", application.bot.username)
            else:
                assert application.updater is not None
                await application.updater.start_polling(
                    allowed_updates=ALLOWED_UPDATES,
                    drop_pending_updates=False,
                    error_callback=polls.polling_error,
                )
                liveness.seen()  # its deleteWebhook was answered; the first poll may wait
                log.info("telegram: long polling as @%s", application.bot.username)
            liveness.up = True
            await core.front.attach("telegram", handlers.courier)
            await _first(stop.wait(), polls.gave_up.wait())
            if polls.problem is not None:
                raise AdapterDied(polls.problem)
        finally:
            liveness.up = False
            polls.stopping = True
            core.front.detach("telegram")
            await _stop_updater(application)
            await application.stop()
            core.service.alert_sinks.remove(handlers.alert)


async def _first(*waits: Coroutine[Any, Any, Any]) -> None:
    """Wait until the first of `waits` is done; cancel the others."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _stop_updater(application: TelegramApp) -> None:
    """Stop polling whatever state it is in, so the application can stop and shut down."""
    updater = application.updater
    if updater is None or not updater.running:
        return
    try:
        await updater.stop()
    except Exception as error:  # its polling task ended with an error (re-raised here)
        log.warning("telegram: polling had stopped with %s", type(error).__name__)
