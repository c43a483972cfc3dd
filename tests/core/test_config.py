"""Settings: `.env` plus environment, defaults, every problem at once, secrets kept hidden."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest

from core.config import SETTINGS, ConfigError, Secret, Settings
from core.params import Watermark
from tests.conftest import ROOT, child_env
from tests.fakes.telegram import FakeTelegram

KEY = "sk-live-0123456789abcdef-SECRET"
REQUIRED = {"YUNAPI_BASE_URL": "https://relay.example.com/", "YUNAPI_API_KEY": KEY}


def load(**values: str) -> Settings:
    return Settings.load(environ={**REQUIRED, **values}, env_file=None)


def problems_of(environ: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        Settings.load(environ=environ, env_file=None)
    return caught.value.problems


def test_env_file_with_environment_override(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# drawbot settings\n"
        "YUNAPI_BASE_URL=https://from-file.example.com\n"
        f'YUNAPI_API_KEY="{KEY}"\n'
        "DAILY_LIMIT=5\n"
        "WATERMARK=off\n"
        "WATERMARK_TEXT='My Bot'\n"
        "ADMIN_IDS=telegram:1, discord:22\n"
        "TIMEZONE=Asia/Shanghai\n",
        encoding="utf-8",
    )
    settings = Settings.load(
        environ={"DAILY_LIMIT": "7", "YUNAPI_T2I_PATH": "/volcv/v1/"}, env_file=env_file
    )
    assert settings.yunapi_base_url == "https://from-file.example.com"
    assert settings.yunapi_api_key.reveal() == KEY
    assert settings.daily_limit == 7  # the environment wins over the file
    assert settings.yunapi_t2i_path == "/volcv/v1"
    assert settings.watermark.enabled is False and settings.watermark.text == "My Bot"
    assert settings.admin_ids == frozenset({"telegram:1", "discord:22"})
    assert settings.timezone == "Asia/Shanghai" and settings.zone.key == "Asia/Shanghai"


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    settings = Settings.load(environ=REQUIRED, env_file=tmp_path / "absent.env")
    assert settings.yunapi_base_url == "https://relay.example.com"


def test_defaults() -> None:
    settings = load()
    assert settings == Settings(
        yunapi_base_url="https://relay.example.com", yunapi_api_key=Secret(KEY)
    )
    assert settings.yunapi_t2i_path == "/volcv"
    assert settings.discord_api_base_url == "https://discord.com/api/v10"
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.telegram_bot_token is None and settings.discord_bot_token is None
    assert settings.database_path == Path("data/bot.db")
    assert settings.daily_limit == 20
    assert settings.admin_ids == frozenset()
    assert settings.watermark == Watermark(enabled=True, text=None)
    assert settings.https_proxy is None
    assert settings.default_language == "zh"


def test_blank_values_mean_the_default() -> None:
    settings = load(DAILY_LIMIT="", WATERMARK="  ", YUNAPI_T2I_PATH="")
    assert (settings.daily_limit, settings.watermark.enabled) == (20, True)
    assert settings.yunapi_t2i_path == "/volcv"


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ({"DAILY_LIMIT": "0"}, "daily_limit", 0),
        ({"WATERMARK": "OFF"}, "watermark", Watermark(enabled=False)),
        ({"WATERMARK_POSITION": "top-left"}, "watermark", Watermark(position=2)),
        ({"WATERMARK_LANGUAGE": "en"}, "watermark", Watermark(language=1)),
        ({"DEFAULT_LANGUAGE": "EN"}, "default_language", "en"),
        ({"LOG_LEVEL": "debug"}, "log_level", "DEBUG"),
        ({"HTTPS_PROXY": "socks5://127.0.0.1:1080"}, "https_proxy", "socks5://127.0.0.1:1080"),
        ({"DISCORD_API_BASE_URL": "http://p/api/v10/"}, "discord_api_base_url", "http://p/api/v10"),
        ({"DATABASE_PATH": "/srv/db/bot.db"}, "database_path", Path("/srv/db/bot.db")),
        ({"RELAY_TIMEOUT": "30"}, "relay_timeout", 30.0),
    ],
)
def test_values(values: dict[str, str], field: str, expected: object) -> None:
    assert getattr(load(**values), field) == expected


def test_every_problem_is_reported_together() -> None:
    problems = problems_of(
        {
            "YUNAPI_BASE_URL": "ftp://relay.example.com",
            "YUNAPI_T2I_PATH": "volcv",
            "DAILY_LIMIT": "lots",
            "MAX_CONCURRENT_DRAWS": "0",
            "WATERMARK": "maybe",
            "WATERMARK_OPACITY": "1.5",
            "TIMEZONE": "Mars/Olympus_Mons",
            "ADMIN_IDS": "telegram:1,alice",
            "DEFAULT_LANGUAGE": "fr",
            "TELEGRAM_BOT_TOKEN": "not-a-token",
        }
    )
    expected = [
        "YUNAPI_BASE_URL",
        "YUNAPI_API_KEY",  # missing
        "YUNAPI_T2I_PATH",
        "DAILY_LIMIT",
        "MAX_CONCURRENT_DRAWS",
        "WATERMARK ",
        "WATERMARK_OPACITY",
        "TIMEZONE",
        "ADMIN_IDS",
        "DEFAULT_LANGUAGE",
        "TELEGRAM_BOT_TOKEN",
    ]
    for name in expected:
        assert sum(p.startswith(name) for p in problems) == 1, (name, problems)
    assert len(problems) == len(expected)
    joined = "\n".join(problems)
    assert "a whole number from 0 to 1000000" in joined
    assert "'lots'" in joined and "'alice'" in joined
    assert "not-a-token" not in joined  # a secret's bad value is never echoed


def test_missing_required_settings() -> None:
    problems = problems_of({})
    assert len(problems) == 2
    assert problems[0].startswith("YUNAPI_BASE_URL is required")
    assert problems[1].startswith("YUNAPI_API_KEY is required")


def test_config_error_message_lists_every_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.load(environ={"DAILY_LIMIT": "-1"}, env_file=None)
    assert str(caught.value).count("\n") == len(caught.value.problems) - 1 == 2


def test_secrets_never_show() -> None:
    token = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"
    settings = load(TELEGRAM_BOT_TOKEN=token, DISCORD_BOT_TOKEN="discord-secret-token")
    for shown in (repr(settings), str(settings), f"{settings}", f"{settings.yunapi_api_key}"):
        assert KEY not in shown
        assert token not in shown and "discord-secret-token" not in shown
    assert "Secret('***')" in repr(settings)
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.reveal() == token
    assert set(settings.secrets()) == {KEY, token, "discord-secret-token"}


# -- python -m bots ---------------------------------------------------------------------


def run_bots(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = child_env(HOME=str(tmp_path), **extra)
    return subprocess.run(
        [sys.executable, "-m", "bots", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bots_without_settings_exits_2_with_one_message(tmp_path: Path) -> None:
    result = run_bots(tmp_path, DAILY_LIMIT="many")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert result.stderr.count("drawbot:") == 1
    for name in ("YUNAPI_BASE_URL", "YUNAPI_API_KEY", "DAILY_LIMIT"):
        assert name in result.stderr
    assert "'many'" in result.stderr
    assert "python -m bots console" in result.stderr


def test_bots_without_a_platform_token_says_so(tmp_path: Path) -> None:
    result = run_bots(
        tmp_path, YUNAPI_BASE_URL="http://127.0.0.1:9", YUNAPI_API_KEY=KEY, LOG_LEVEL="error"
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "DISCORD_BOT_TOKEN" in result.stderr
    assert KEY not in result.stderr + result.stdout


def test_bots_help_lists_every_setting_with_its_default(tmp_path: Path) -> None:
    result = run_bots(tmp_path, "--help")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    for setting in SETTINGS:
        [line] = [line for line in lines if line.split()[:1] == [setting.name]]
        default = "required" if setting.required else (setting.default or "unset")
        assert line.rstrip().endswith(f"[{default}]"), line
    text = result.stdout
    for entry in (
        "YUNAPI_T2I_PATH",
        "[/volcv]",
        "[https://discord.com/api/v10]",
        "[https://api.telegram.org/bot]",
        "[data/bot.db]",
        "DAILY_LIMIT",
        "[20]",
        "HTTPS_PROXY",
        "python -m bots console",
    ):
        assert entry in text


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"{setting.name}=" in text, setting.name


def test_an_unusable_database_path_exits_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    result = run_bots(
        tmp_path,
        "console",
        YUNAPI_BASE_URL="http://127.0.0.1:9",
        YUNAPI_API_KEY=KEY,
        DATABASE_PATH=str(tmp_path / "file" / "bot.db"),
    )
    assert result.returncode == 2
    assert result.stderr.startswith("drawbot: DATABASE_PATH (")
    assert "cannot be used" in result.stderr and "Traceback" not in result.stderr


def test_a_rejected_or_unreachable_platform_stops_with_a_status(tmp_path: Path) -> None:
    """A token the platform refuses is a bad setting (2); an adapter that fails otherwise, 1."""
    token = "7312345678:AAHrealrealrealrealrealrealrealre12"

    async def with_fake() -> subprocess.CompletedProcess[str]:
        async with FakeTelegram(token="7312345678:AAHotherotherotherotherotherother12") as tg:
            return await asyncio.to_thread(
                run_bots,
                tmp_path,
                "telegram",
                YUNAPI_BASE_URL="http://127.0.0.1:9",
                YUNAPI_API_KEY=KEY,
                TELEGRAM_BOT_TOKEN=token,
                TELEGRAM_API_BASE_URL=f"{tg.base_url}/bot",
            )

    rejected = asyncio.run(with_fake())
    assert rejected.returncode == 2, rejected.stderr
    assert "drawbot: TELEGRAM_BOT_TOKEN was rejected by Telegram" in rejected.stderr
    assert token not in rejected.stderr and token.split(":")[1] not in rejected.stderr

    unreachable = run_bots(
        tmp_path,
        "telegram",
        YUNAPI_BASE_URL="http://127.0.0.1:9",
        YUNAPI_API_KEY=KEY,
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot",
        LOG_LEVEL="error",
    )
    assert unreachable.returncode == 1, unreachable.stderr
    assert "drawbot: the telegram adapter stopped: " in unreachable.stderr
    assert token.split(":")[1] not in unreachable.stderr


def _matches(value: object, hint: object) -> bool:
    """isinstance for the hints Settings uses: classes, `X | None`, frozenset[str]."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType):
        return any(_matches(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    origin = typing.get_origin(hint) or hint
    assert isinstance(origin, type)
    if origin is float:
        return type(value) is float
    if not isinstance(value, origin) or (origin is int and isinstance(value, bool)):
        return False
    return all(_matches(item, args[0]) for item in value) if args else True


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {
            "HEALTH_PORT": "9000",
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.com/hook",
            "TELEGRAM_WEBHOOK_SECRET": "s3",
            "DISCORD_BOT_TOKEN": "d",
            "ADMIN_IDS": "telegram:1",
            "WATERMARK_TEXT": "drawbot",
            "HTTPS_PROXY": "socks5://127.0.0.1:1080",
            "RELAY_TIMEOUT": "60",
            "DISCORD_SYNC_COMMANDS": "on",
        },
    ],
)
def test_every_setting_has_its_declared_type(environ: dict[str, str]) -> None:
    settings = load(**environ)
    hints = typing.get_type_hints(Settings)
    for field in dataclasses.fields(Settings):
        value = getattr(settings, field.name)
        assert _matches(value, hints[field.name]), (field.name, value, hints[field.name])
    watermark_hints = typing.get_type_hints(Watermark)
    for field in dataclasses.fields(Watermark):
        value = getattr(settings.watermark, field.name)
        assert _matches(value, watermark_hints[field.name]), (field.name, value)


def test_a_refused_value_is_reported_not_replaced_by_its_default() -> None:
    problems = problems_of({**REQUIRED, "PORT": "0", "WATERMARK": "maybe", "HEALTH_PORT": "x"})
    assert problems == [
        "WATERMARK must be on or off (got 'maybe')",
        "PORT must be a whole number from 1 to 65535 (got '0')",
        "HEALTH_PORT must be a whole number from 1 to 65535 (got 'x')",
    ]


# -- the placeholders of .env.example are not settings -----------------------------------------


def example_values() -> dict[str, str]:
    """The uncommented NAME=value lines of .env.example, as an operator copies them."""
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    found = (line.partition("=") for line in lines if line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, _, value in found}


def test_the_placeholders_of_env_example_are_refused_naming_each_variable() -> None:
    example = example_values()
    assert {"YUNAPI_BASE_URL", "YUNAPI_API_KEY"} <= set(example)
    problems = problems_of(example)
    assert len(problems) == 2
    assert problems[0].startswith("YUNAPI_BASE_URL is still the example value from .env.example")
    assert problems[1].startswith("YUNAPI_API_KEY is still the example value from .env.example")
    for variable in ("YUNAPI_BASE_URL", "YUNAPI_API_KEY"):
        only_one = problems_of({**REQUIRED, variable: example[variable]})
        assert len(only_one) == 1 and only_one[0].startswith(variable)


def test_real_values_that_look_a_little_like_placeholders_are_kept() -> None:
    for url in ("https://relay.example.com", "https://yourrelay.net", "https://api.your.org"):
        assert load(YUNAPI_BASE_URL=url).yunapi_base_url == url
    assert load(YUNAPI_API_KEY="sk-yours0123").yunapi_api_key == Secret("sk-yours0123")


def test_a_copied_env_example_stops_start_up_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text(encoding="utf-8"))
    result = run_bots(tmp_path, "console")
    assert result.returncode == 2
    assert "YUNAPI_BASE_URL is still the example value from .env.example" in result.stderr
    assert "YUNAPI_API_KEY is still the example value" in result.stderr
    assert "sk-your-relay-key" not in result.stderr and "Traceback" not in result.stderr
