"""The Telegram adapter: Telegram updates in, one `core.request.Request` each, core's answers
rendered back (see app.py for the Application, handlers.py for the translation)."""

from bots.telegram.app import base_file_url, build_application, run
from bots.telegram.handlers import TelegramHandlers
from bots.telegram.send import photo_caption
from bots.telegram.webhook import webhook_secret

__all__ = [
    "TelegramHandlers",
    "base_file_url",
    "build_application",
    "photo_caption",
    "run",
    "webhook_secret",
]
