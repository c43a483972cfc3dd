"""Settings: read once from the environment and `.env`, validated all at once."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from dotenv import dotenv_values

from core.access import split_words
from core.models import DEFAULT_TABLE, ModelTable
from core.params import WATERMARK_POSITIONS, Watermark

T = TypeVar("T")


class Secret:
    """A string that never shows itself in repr, str or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class ConfigError(Exception):
    """Every problem found in the settings, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class SettingRejected(ConfigError):
    """A setting that parsed but did not work: a token the platform refused, a path or port
    that cannot be used. Start-up stops with exit status 2, like any other bad setting."""

    def __init__(self, variable: str, reason: str) -> None:
        super().__init__([f"{variable} {reason}"])
        self.variable = variable


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, default, help and parser."""

    name: str
    default: str | None
    help: str
    required: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("YUNAPI_BASE_URL", None, "the relay's root URL, e.g. https://api.example.com", True),
    Setting("YUNAPI_API_KEY", None, "the relay key, sent as Authorization: Bearer <key>", True),
    Setting("YUNAPI_T2I_PATH", "/volcv", "path of the image call under the root"),
    Setting("TELEGRAM_BOT_TOKEN", None, "enables the Telegram adapter (from @BotFather)"),
    Setting("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot", "Bot API root"),
    Setting("TELEGRAM_WEBHOOK_URL", None, "public https URL for webhook mode; polling if unset"),
    Setting("TELEGRAM_WEBHOOK_SECRET", None, "secret token checked on every webhook call"),
    Setting(
        "TELEGRAM_PHOTO_BY_URL",
        "on",
        "on: hand Telegram the relay's image URL (bytes if refused); off: always upload",
    ),
    Setting("PORT", "8080", "port of the webhook and /healthz server"),
    Setting("HEALTH_PORT", None, "port of /healthz in polling mode (unset: no server)"),
    Setting("DISCORD_BOT_TOKEN", None, "enables the Discord adapter"),
    Setting("DISCORD_API_BASE_URL", "https://discord.com/api/v10", "Discord REST root"),
    Setting("DISCORD_SYNC_COMMANDS", "off", "on: sync slash commands at start-up"),
    Setting("DATABASE_PATH", "data/bot.db", "the SQLite file; its folder is created"),
    Setting("IMAGE_DIR", "data/images", "where generated images are kept for history"),
    Setting("DAILY_LIMIT", "20", "images one user may receive per day; 0 = unlimited"),
    Setting("CHAT_DAILY_LIMIT", "0", "images one chat may receive per day; 0 = unlimited"),
    Setting("COOLDOWN_SECONDS", "0", "seconds a user waits between draws; 0 = none"),
    Setting("MAX_IN_FLIGHT_PER_USER", "2", "draws one user may have running at once; 0 = any"),
    Setting(
        "MAX_CONCURRENT_DRAWS",
        "16",
        "most relay calls in flight at once; fewer while the relay pushes back",
    ),
    Setting(
        "MODELS_FILE",
        None,
        "TOML table of the image models offered (unset: Jimeng 2.1 alone)",
    ),
    Setting("TIMEZONE", "UTC", "IANA time zone in which days roll over"),
    Setting(
        "ADMIN_IDS", "", "comma-separated telegram:<id> / discord:<id> / console:<name> admins"
    ),
    Setting("ALLOWED_USERS", "", "private mode: telegram:<id>, discord:<id>, console:<name>"),
    Setting("ALLOWED_CHATS", "", "private mode: chats (same form) where anyone may draw"),
    Setting("BLOCKED_WORDS", "", "comma-separated words refused in prompts"),
    Setting("WATERMARK", "on", "on or off: the default for logo_info.add_logo"),
    Setting("WATERMARK_TEXT", None, "logo_info.logo_text_content (unset: the model's label)"),
    Setting("WATERMARK_POSITION", "bottom-right", "bottom-right, bottom-left, top-left, top-right"),
    Setting("WATERMARK_LANGUAGE", "zh", "zh or en: language of the model's own label"),
    Setting("WATERMARK_OPACITY", "0.3", "watermark opacity, 0 to 1"),
    Setting("WATERMARK_USER_CONTROL", "on", "on: users and chats may change the watermark"),
    Setting("DEFAULT_LANGUAGE", "zh", "zh or en: replies when the user's language is unknown"),
    Setting("RELAY_TIMEOUT", "120", "seconds one draw may take, retries included"),
    Setting("MAX_IMAGE_BYTES", "20000000", "largest image download accepted, in bytes"),
    Setting(
        "MAX_INPUT_IMAGE_BYTES",
        "10000000",
        "largest picture accepted to edit (a reply to a photo, an attachment), in bytes",
    ),
    Setting(
        "KEEP_INPUT_IMAGES",
        "off",
        "on: keep pictures sent to edit beside the drawn ones (IMAGE_DIR, for 'again')",
    ),
    Setting("PROMPT_RETENTION_DAYS", "0", "days prompts are kept; 0 = forever"),
    Setting("IMAGE_RETENTION_DAYS", "30", "days image files are kept on disk; 0 = forever"),
    Setting("SHUTDOWN_GRACE_SECONDS", "25", "seconds running draws get to finish on shutdown"),
    Setting("LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"),
    Setting("LOG_FORMAT", "text", "text or json"),
    Setting("HTTPS_PROXY", None, "proxy for every outgoing connection"),
)


@dataclass(frozen=True)
class Settings:
    """The whole configuration of one deployment."""

    yunapi_base_url: str
    yunapi_api_key: Secret
    yunapi_t2i_path: str = "/volcv"
    telegram_bot_token: Secret | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: Secret | None = None
    telegram_photo_by_url: bool = True
    port: int = 8080
    health_port: int | None = None
    discord_bot_token: Secret | None = None
    discord_api_base_url: str = "https://discord.com/api/v10"
    discord_sync_commands: bool = False
    database_path: Path = Path("data/bot.db")
    image_dir: Path = Path("data/images")
    daily_limit: int = 20
    chat_daily_limit: int = 0
    cooldown_seconds: int = 0
    max_in_flight_per_user: int = 2
    max_concurrent_draws: int = 16
    models: ModelTable = DEFAULT_TABLE  # MODELS_FILE, read and checked
    timezone: str = "UTC"
    admin_ids: frozenset[str] = frozenset()
    allowed_users: frozenset[str] = frozenset()  # both empty: everyone (core/access.py)
    allowed_chats: frozenset[str] = frozenset()
    blocked_words: tuple[str, ...] = ()
    watermark: Watermark = field(default_factory=Watermark)
    watermark_user_control: bool = True
    default_language: str = "zh"
    relay_timeout: float = 120.0
    max_image_bytes: int = 20_000_000
    max_input_image_bytes: int = 10_000_000
    keep_input_images: bool = False
    prompt_retention_days: int = 0
    image_retention_days: int = 30
    shutdown_grace_seconds: float = 25.0
    log_level: str = "INFO"
    log_format: str = "text"
    https_proxy: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def admins_on(self, platform: str) -> list[str]:
        """The user ids of the ADMIN_IDS entries of one platform."""
        return sorted(k.partition(":")[2] for k in self.admin_ids if k.startswith(f"{platform}:"))

    def secrets(self) -> list[str]:
        """Every secret value, for log redaction."""
        found = [self.yunapi_api_key, self.telegram_bot_token, self.discord_bot_token]
        found.append(self.telegram_webhook_secret)
        return [s.reveal() for s in found if s is not None and s.reveal()]

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: Path | None = Path(".env"),
        *,
        need_relay: bool = True,
    ) -> Settings:
        """Read `.env` (if any) under the real environment; raise ConfigError listing all faults.
        need_relay=False (commands that only use the database): the relay settings are neither
        read nor required, and the relay's root and key are left empty."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        if not need_relay:
            values = {k: v for k, v in values.items() if k not in RELAY_SETTINGS}
        return _parse(values, need_relay)


# The values .env.example ships with: copied unchanged, they are a setting not made yet.
PLACEHOLDER = re.compile(r"\byour[-_](?:relay|key)\b|^sk-your-", re.IGNORECASE)
PLACEHOLDER_CHECKED = ("YUNAPI_BASE_URL", "YUNAPI_API_KEY")
# What only a draw needs: left out by Settings.load(need_relay=False).
RELAY_SETTINGS = ("YUNAPI_BASE_URL", "YUNAPI_API_KEY", "YUNAPI_T2I_PATH")


def _parse(env: Mapping[str, str], need_relay: bool = True) -> Settings:
    from core.env_reader import EnvReader  # it reads the table above: imported when used

    reader = EnvReader(env, need_relay)
    if need_relay:
        for name in PLACEHOLDER_CHECKED:
            reader.not_placeholder(name)
    base_url = reader.optional_url("YUNAPI_BASE_URL")  # required: unset is a problem
    watermark = Watermark(
        enabled=reader.switch("WATERMARK"),
        text=reader.text("WATERMARK_TEXT"),
        position=reader.choice("WATERMARK_POSITION", WATERMARK_POSITIONS),
        language=reader.choice("WATERMARK_LANGUAGE", {"zh": 0, "en": 1}),
        opacity=reader.number("WATERMARK_OPACITY", 0.0, 1.0),
    )
    settings = Settings(
        yunapi_base_url=(base_url or "").rstrip("/"),
        yunapi_api_key=reader.secret("YUNAPI_API_KEY") or Secret(""),  # required
        yunapi_t2i_path=reader.path("YUNAPI_T2I_PATH"),
        telegram_bot_token=reader.secret("TELEGRAM_BOT_TOKEN", telegram=True),
        telegram_api_base_url=reader.url("TELEGRAM_API_BASE_URL"),
        telegram_webhook_url=reader.optional_url("TELEGRAM_WEBHOOK_URL"),
        telegram_webhook_secret=reader.secret("TELEGRAM_WEBHOOK_SECRET"),
        telegram_photo_by_url=reader.switch("TELEGRAM_PHOTO_BY_URL"),
        port=reader.integer("PORT", 1, 65535),
        health_port=reader.optional_integer("HEALTH_PORT", 1, 65535),
        discord_bot_token=reader.secret("DISCORD_BOT_TOKEN"),
        discord_api_base_url=reader.url("DISCORD_API_BASE_URL").rstrip("/"),
        discord_sync_commands=reader.switch("DISCORD_SYNC_COMMANDS"),
        database_path=Path(reader.text("DATABASE_PATH") or "data/bot.db"),
        image_dir=Path(reader.text("IMAGE_DIR") or "data/images"),
        daily_limit=reader.integer("DAILY_LIMIT", 0, 1_000_000),
        chat_daily_limit=reader.integer("CHAT_DAILY_LIMIT", 0, 1_000_000),
        cooldown_seconds=reader.integer("COOLDOWN_SECONDS", 0, 86_400),
        max_in_flight_per_user=reader.integer("MAX_IN_FLIGHT_PER_USER", 0, 100),
        max_concurrent_draws=reader.integer("MAX_CONCURRENT_DRAWS", 1, 1000),
        models=reader.models("MODELS_FILE"),
        timezone=reader.zone("TIMEZONE"),
        admin_ids=reader.admins("ADMIN_IDS"),
        allowed_users=reader.keys("ALLOWED_USERS"),
        allowed_chats=reader.keys("ALLOWED_CHATS", chat=True),
        blocked_words=split_words(reader.raw("BLOCKED_WORDS") or ""),
        watermark=watermark,
        watermark_user_control=reader.switch("WATERMARK_USER_CONTROL"),
        default_language=reader.choice("DEFAULT_LANGUAGE", {"zh": "zh", "en": "en"}),
        relay_timeout=reader.number("RELAY_TIMEOUT", 5.0, 3600.0),
        max_image_bytes=reader.integer("MAX_IMAGE_BYTES", 1024, 500_000_000),
        max_input_image_bytes=reader.integer("MAX_INPUT_IMAGE_BYTES", 1024, 100_000_000),
        keep_input_images=reader.switch("KEEP_INPUT_IMAGES"),
        prompt_retention_days=reader.integer("PROMPT_RETENTION_DAYS", 0, 36_500),
        image_retention_days=reader.integer("IMAGE_RETENTION_DAYS", 0, 36_500),
        shutdown_grace_seconds=reader.number("SHUTDOWN_GRACE_SECONDS", 0.0, 3600.0),
        log_level=reader.choice(
            "LOG_LEVEL", {n: n.upper() for n in ("debug", "info", "warning", "error")}
        ),
        log_format=reader.choice("LOG_FORMAT", {"text": "text", "json": "json"}),
        https_proxy=reader.optional_url(
            "HTTPS_PROXY", schemes=("http", "https", "socks5", "socks5h")
        ),
    )
    if reader.problems:
        raise ConfigError(reader.problems)
    return settings


def describe_settings() -> str:
    """Every setting with its default, for --help."""
    lines = []
    for setting in SETTINGS:
        default = "required" if setting.required else (setting.default or "unset")
        lines.append(f"  {setting.name:<24} {setting.help} [{default}]")
    return "\n".join(lines)
