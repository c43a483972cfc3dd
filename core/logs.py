"""Logging: leveled, text or JSON, with every secret scrubbed from every record."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable

from core.secrets import forms, scrub

# A Telegram bot token anywhere in a URL or text, even one we were not told about: also right
# after "/bot" (no word boundary there) and with its colon URL-encoded.
_TELEGRAM_TOKEN = re.compile(r"(?<!\d)\d{6,}(?::|%3[Aa])[A-Za-z0-9_-]{30,}(?![A-Za-z0-9_-])")


class RedactingFilter(logging.Filter):
    """Replaces secrets in every shape (raw, URL-encoded, base64, hex: core.secrets), and
    anything shaped like a bot token, in the rendered message and the exception text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.forms = forms(secrets)

    def scrub(self, text: str) -> str:
        return _TELEGRAM_TOKEN.sub("***", scrub(text, self.forms))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.scrub(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, form: str, secrets: Iterable[str]) -> None:
    """Configure the root logger once; quiet the libraries that log URLs with tokens."""
    handler = logging.StreamHandler(sys.stderr)
    if form == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "discord.http", "discord.gateway", "telegram.ext.Updater"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
