"""python -m bots admin ...: the admin operations against the database, for when the bot is down."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from core.config import Settings
from core.request import Requester
from core.root import Core

USAGE = """usage: python -m bots admin <command>

  ban <platform:user id> [reason]       forbid a user to draw      (e.g. ban telegram:12345 spam)
  unban <platform:user id>
  limit-user <platform:user id> <n|default>   images per day for one user
  limit-chat <platform:chat id> <n|default>   images per day for one chat
  limit-member <platform:chat id> <n|default> images per day for each user in one chat
  cooldown <platform:chat id> <seconds|default>   seconds between a user's draws in one chat
  enable <platform:chat id> / disable <platform:chat id>   drawing in a chat
  stats                                  draws today and this week, failures, top users
  history <platform:user id> [n]         a user's recent generations
  forget <platform:user id>              delete a user's prompts and images (counts stay)
  balance                                the relay's balance, where it reports one"""


CHAT_COLUMNS = {
    "limit-chat": "daily_limit",
    "limit-member": "user_daily_limit",
    "cooldown": "cooldown_seconds",
}


def run_admin(settings: Settings, args: list[str]) -> int:
    if not args or args[0] in ("help", "-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    try:
        reply = asyncio.run(_run(settings, args[0], args[1:]))
    except (ValueError, IndexError):
        print(USAGE, file=sys.stderr)
        return 2
    print(reply)
    return 0


def _key(value: str) -> str:
    platform, _, ident = value.partition(":")
    if not platform or not ident:
        raise ValueError(value)
    return value


def _limit(value: str) -> int | None:
    return None if value == "default" else int(value)


Operation = Callable[[Core, list[str]], Awaitable[str]]


async def _ban(core: Core, args: list[str], banned: bool = True) -> str:
    await core.admin.ban(_key(args[0]), banned, " ".join(args[1:]) or None)
    return f"{'ban' if banned else 'unban'}: {args[0]}"


async def _unban(core: Core, args: list[str]) -> str:
    return await _ban(core, args, banned=False)


async def _limit_user(core: Core, args: list[str]) -> str:
    await core.admin.set_user(_key(args[0]), daily_limit=_limit(args[1]))
    return f"daily limit of {args[0]}: {args[1]}"


def _chat_limit(name: str, column: str) -> Operation:
    async def operation(core: Core, args: list[str]) -> str:
        await core.admin.set_chat(_key(args[0]), **{column: _limit(args[1])})
        return f"{name} of {args[0]}: {args[1]}"

    return operation


def _switch(enabled: bool) -> Operation:
    async def operation(core: Core, args: list[str]) -> str:
        await core.admin.set_chat(_key(args[0]), enabled=int(enabled))
        return f"{'enabled' if enabled else 'disabled'} drawing in {args[0]}"

    return operation


async def _stats(core: Core, args: list[str]) -> str:
    return await core.admin.stats(core.settings.default_language)


async def _history(core: Core, args: list[str]) -> str:
    count = int(args[1]) if len(args) > 1 else 20
    return await core.admin.user_history(_key(args[0]), count)


async def _forget(core: Core, args: list[str]) -> str:
    platform, _, user_id = _key(args[0]).partition(":")
    return await core.account.forget(Requester(platform, user_id))


async def _balance(core: Core, args: list[str]) -> str:
    return await core.admin.balance(core.settings.default_language)


# The operator's commands (see USAGE): the CLI's own registration.
OPERATIONS: dict[str, Operation] = {
    "ban": _ban,
    "unban": _unban,
    "limit-user": _limit_user,
    **{name: _chat_limit(name, column) for name, column in CHAT_COLUMNS.items()},
    "enable": _switch(True),
    "disable": _switch(False),
    "stats": _stats,
    "history": _history,
    "forget": _forget,
    "balance": _balance,
}


async def _run(settings: Settings, command: str, args: list[str]) -> str:
    operation = OPERATIONS.get(command)
    if operation is None:
        raise ValueError(command)
    async with Core.open(settings, platforms=[]) as core:
        return await operation(core, args)
