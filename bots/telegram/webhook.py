"""Webhook mode: Telegram posts updates to a path on the shared web server."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web as aioweb
from telegram import Update
from telegram.ext import Application

from bots.web import WebServer
from core.config import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]

# Only its bot, its update queue and whether it runs are used here.
AnyApplication = Application[Any, Any, Any, Any, Any, Any]
Handler = Callable[[aioweb.Request], Awaitable[aioweb.StreamResponse]]


def webhook_secret(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, or one derived from the token (stable across restarts)."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.reveal()
    assert settings.telegram_bot_token is not None
    seed = f"drawbot-webhook:{settings.telegram_bot_token.reveal()}".encode()
    return hashlib.sha256(seed).hexdigest()[:48]


def webhook_handler(application: AnyApplication, secret: str) -> Handler:
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
    application: AnyApplication, settings: Settings, web: WebServer | None
) -> None:
    """Serve the webhook's path on the shared server, then tell Telegram about it."""
    if web is None:
        raise RuntimeError("webhook mode needs the shared web server")
    url = settings.telegram_webhook_url
    assert url is not None
    secret = webhook_secret(settings)
    web.add_post(urlsplit(url).path or "/", webhook_handler(application, secret))
    await application.bot.set_webhook(
        url,
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=False,
    )
