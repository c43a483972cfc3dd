"""python -m bots admin ...: the operator's commands against the database, for when the bot is
down (or up). Only `balance` needs the relay settings. Every argument is checked before the
database is opened; every line printed is in one language (see `operator_language`)."""

from __future__ import annotations

import asyncio
import difflib
import os
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from core import messages
from core.admin import LIMIT_MAX, PLATFORMS, USER_ID_MAX
from core.config import ConfigError, Settings
from core.logs import setup_logging
from core.numbers import read_int
from core.relay_errors import RelayError
from core.root import Core

ENV_FILE = Path(".env")
COOLDOWN_MAX = 86_400  # as COOLDOWN_SECONDS
HISTORY_MAX = 1000
CONSOLE_NAME_MAX = 64


class BadInput(Exception):
    """An argument the CLI refuses: `key` names the sentence (core/texts_cli.py)."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values: dict[str, Any] = values


# -- the language of this run -------------------------------------------------------------


def operator_language(environ: Mapping[str, str], env_file: Path | None = ENV_FILE) -> str:
    """The operator's locale (LC_ALL, then LC_MESSAGES, then LANG: zh_* is Chinese, any other
    named locale English); with no locale, or C/POSIX, DEFAULT_LANGUAGE if set; else English.
    Read before the settings, so that a faulty setting is reported in the same language."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "").strip()
        if value:
            code = value.split(".")[0].split("@")[0]
            if code.upper() not in ("C", "POSIX"):
                return messages.language(code)
            break
    chosen = environ.get("DEFAULT_LANGUAGE", "").strip().lower()
    if not chosen and env_file is not None and env_file.is_file():
        chosen = (dotenv_values(env_file).get("DEFAULT_LANGUAGE") or "").strip().lower()
    return chosen if chosen in messages.LANGUAGES else "en"


# -- arguments ------------------------------------------------------------------------------


def user_key(raw: str) -> str:
    """telegram:<digits>, discord:<digits> or console:<name>, as the store keys users."""
    platform, colon, ident = raw.strip().partition(":")
    platform = platform.lower()
    if colon and platform == "console":
        if ident and len(ident) <= CONSOLE_NAME_MAX and ident.isprintable() and " " not in ident:
            return f"console:{ident}"
    elif colon and platform in PLATFORMS:
        number = read_int(ident, 1, USER_ID_MAX)
        if number is not None and ident.strip().isalnum():
            return f"{platform}:{number}"
    raise BadInput("cli_not_user", value=raw[:60])


def chat_key(raw: str) -> str:
    """telegram:<digits or -digits> (a group's id is negative) or discord:<server id>."""
    platform, colon, ident = raw.strip().partition(":")
    platform = platform.lower()
    negative = platform == "telegram" and ident.startswith("-")
    digits = ident[1:] if negative else ident
    number = read_int(digits, 1, USER_ID_MAX) if digits.isalnum() else None
    if colon and platform in ("telegram", "discord") and number is not None:
        return f"{platform}:{'-' if negative else ''}{number}"
    raise BadInput("cli_not_chat", value=raw[:60])


@dataclass(frozen=True)
class Argument:
    """One positional argument: the noun naming it when missing, and its reader."""

    noun: str  # the key of the noun in core/texts_cli.py
    read: Callable[[str, str], object]  # (text, command) -> value; raises BadInput


def _limit(low: int, high: int, setting: str) -> Argument:
    def read(raw: str, command: str) -> int | None:
        if raw.strip().lower() == "default":
            return None
        number = read_int(raw, low, high)
        if number is None:
            values = {"value": raw[:60], "command": command, "setting": setting}
            raise BadInput("cli_not_limit", low=low, high=high, **values)
        return number

    return Argument("cli_arg_number", read)


def _count(raw: str, command: str) -> int:
    number = read_int(raw, 1, HISTORY_MAX)
    if number is None:
        raise BadInput("cli_not_count", value=raw[:60], low=1, high=HISTORY_MAX)
    return number


USER = Argument("cli_arg_user", lambda raw, command: user_key(raw))
CHAT = Argument("cli_arg_chat", lambda raw, command: chat_key(raw))
COUNT = Argument("cli_arg_number", _count)


# -- the commands --------------------------------------------------------------------------

Action = Callable[[Core, list[Any], str], Awaitable[str]]


@dataclass(frozen=True)
class Command:
    """What a command takes and does. `rest`: the words after its arguments are free text
    (a ban's reason); `relay`: it needs the relay settings."""

    action: Action
    needs: tuple[Argument, ...] = ()
    optional: tuple[Argument, ...] = ()
    rest: bool = False
    relay: bool = False


async def _ban(core: Core, values: list[Any], lang: str) -> str:
    user, reason = values
    await core.admin.ban(user, True, reason or None)
    if reason:
        return messages.text("cli_banned_because", lang, user=user, reason=reason)
    return messages.text("cli_banned", lang, user=user)


async def _unban(core: Core, values: list[Any], lang: str) -> str:
    await core.admin.ban(values[0], False, None)
    return messages.text("cli_unbanned", lang, user=values[0])


async def _limit_user(core: Core, values: list[Any], lang: str) -> str:
    user, limit = values
    await core.admin.set_user(user, daily_limit=limit)
    if limit is None:
        return messages.text("cli_limit_user_default", lang, user=user)
    if limit == 0:
        return messages.text("cli_limit_user_none", lang, user=user)
    return messages.text("cli_limit_user", lang, user=user, value=limit)


def _chat_setting(column: str, key: str) -> Action:
    async def action(core: Core, values: list[Any], lang: str) -> str:
        chat, value = values
        await core.admin.set_chat(chat, **{column: value})
        if value is None:
            return messages.text(f"{key}_default", lang, chat=chat)
        return messages.text(key, lang, chat=chat, value=value)

    return action


def _switch(enabled: bool) -> Action:
    async def action(core: Core, values: list[Any], lang: str) -> str:
        await core.admin.set_chat(values[0], enabled=int(enabled))
        return messages.text("cli_enabled" if enabled else "cli_disabled", lang, chat=values[0])

    return action


async def _stats(core: Core, values: list[Any], lang: str) -> str:
    return messages.text("cli_stats", lang, **await core.admin.stats_figures())


async def _history(core: Core, values: list[Any], lang: str) -> str:
    user, count = values
    return await core.admin.user_history(user, count or 20, lang)


async def _forget(core: Core, values: list[Any], lang: str) -> str:
    count = await core.admin.forget(values[0])
    return messages.text("cli_forgotten", lang, user=values[0], count=count)


async def _balance(core: Core, values: list[Any], lang: str) -> str:
    found = await core.service.relay.balance()  # RelayError: reported by run_admin
    if found is None:
        return messages.text("balance_unknown", lang)
    return messages.text(
        "balance", lang, remaining=found.remaining, total=found.total, used=found.used
    )


COMMANDS: dict[str, Command] = {
    "ban": Command(_ban, (USER,), rest=True),
    "unban": Command(_unban, (USER,)),
    "limit-user": Command(_limit_user, (USER, _limit(0, LIMIT_MAX, "DAILY_LIMIT"))),
    "limit-chat": Command(
        _chat_setting("daily_limit", "cli_limit_chat"),
        (CHAT, _limit(1, LIMIT_MAX, "CHAT_DAILY_LIMIT")),
    ),
    "limit-member": Command(
        _chat_setting("user_daily_limit", "cli_limit_member"),
        (CHAT, _limit(1, LIMIT_MAX, "DAILY_LIMIT")),
    ),
    "cooldown": Command(
        _chat_setting("cooldown_seconds", "cli_cooldown"),
        (CHAT, _limit(1, COOLDOWN_MAX, "COOLDOWN_SECONDS")),
    ),
    "enable": Command(_switch(True), (CHAT,)),
    "disable": Command(_switch(False), (CHAT,)),
    "stats": Command(_stats),
    "history": Command(_history, (USER,), (COUNT,)),
    "forget": Command(_forget, (USER,)),
    "balance": Command(_balance, relay=True),
}


def read_arguments(name: str, command: Command, args: list[str]) -> list[Any]:
    """The command's arguments read and checked (BadInput names the first fault)."""
    values: list[Any] = []
    for position, argument in enumerate(command.needs):
        if position >= len(args):
            raise BadInput("cli_missing", command=name, what=argument.noun)
        values.append(argument.read(args[position], name))
    taken = len(command.needs)
    for argument in command.optional:
        values.append(argument.read(args[taken], name) if taken < len(args) else None)
        taken = min(taken + 1, len(args))
    if command.rest:
        values.append(" ".join(args[taken:]).strip())
    elif taken < len(args):
        if taken == 0:
            raise BadInput("cli_nothing_after_command", command=name, extra=args[taken])
        raise BadInput("cli_too_many", command=name, last=args[taken - 1], extra=args[taken])
    return values


# -- running --------------------------------------------------------------------------------


def run_admin(args: list[str], environ: Mapping[str, str] | None = None) -> int:
    """Run one admin command; 0 done, 2 bad input or settings, 1 the database or relay failed."""
    env = os.environ if environ is None else environ
    lang = operator_language(env)
    say = _Printer(lang)
    if not args or args[0] in ("help", "-h", "--help"):
        if not args:
            return say.error("cli_no_command", usage=True)
        print(messages.text("cli_usage", lang))
        return 0
    name, rest = args[0], args[1:]
    command = COMMANDS.get(name)
    if command is None:
        close = difflib.get_close_matches(name.lower(), COMMANDS, n=1, cutoff=0.5)
        if close:
            return say.error("cli_unknown_command", usage=True, command=name, suggestion=close[0])
        return say.error("cli_unknown_command_alone", usage=True, command=name)
    if "-h" in rest or "--help" in rest:
        print(messages.text("cli_usage", lang))
        return 0
    try:
        values = read_arguments(name, command, rest)
    except BadInput as bad:
        return say.error(bad.key, form=name, **bad.values)
    try:
        settings = Settings.load(environ, need_relay=command.relay)
    except ConfigError as error:
        if command.relay and _relay_missing(environ):
            return say.error("cli_needs_relay")
        return say.config(error.problems)
    level = settings.log_level if settings.log_level != "INFO" else "WARNING"
    setup_logging(level, settings.log_format, settings.secrets())
    try:
        reply = asyncio.run(_run(settings, command, values, lang))
    except ConfigError as error:  # DATABASE_PATH cannot be used
        return say.config(error.problems)
    except RelayError as error:
        reason = messages.text(error.reason, lang) if error.reason in messages.TEXTS else error
        return say.error("cli_relay_failed", reason=reason, code=1)
    except sqlite3.Error as error:
        return say.error("cli_database_failed", error=error, code=1)
    print(reply)
    return 0


def _relay_missing(environ: Mapping[str, str] | None) -> bool:
    """Whether only the relay settings stop the load (the others read without it)."""
    try:
        Settings.load(environ, need_relay=False)
    except ConfigError:
        return False
    return True


async def _run(settings: Settings, command: Command, values: list[Any], lang: str) -> str:
    async with Core.open(settings, platforms=[]) as core:
        return await command.action(core, values, lang)


class _Printer:
    """Refusals and problems on stderr, in the language of the run."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def error(
        self,
        key: str,
        *,
        usage: bool = False,
        form: str | None = None,
        code: int = 2,
        **values: Any,
    ) -> int:
        if "what" in values:  # a noun, itself a sentence of the table
            values["what"] = messages.text(values["what"], self.lang)
        lines = [messages.text(key, self.lang, **values)]
        if form is not None:
            lines.append(messages.text("cli_write_it_as", self.lang, form=self.form(form)))
        if usage:
            commands = ", ".join(COMMANDS)
            lines += ["", messages.text("cli_usage_short", self.lang, commands=commands)]
        print("\n".join(lines), file=sys.stderr)
        return code

    def config(self, problems: list[str]) -> int:
        lines = [messages.text("cli_config", self.lang)]
        lines += [f"  - {problem}" for problem in problems]
        lines.append(messages.text("cli_config_hint", self.lang))
        print("\n".join(lines), file=sys.stderr)
        return 2

    def form(self, name: str) -> str:
        """The command's line of the usage, without its explanation."""
        for line in messages.text("cli_usage", self.lang).splitlines():
            words = line.split()
            if words and words[0] == name:
                return line.strip().split("   ")[0].strip()
        return name
