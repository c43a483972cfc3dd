"""python -m bots admin ...: the admin operations against the database, for when the bot is down."""

from __future__ import annotations

import asyncio
import sys

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


async def _run(settings: Settings, command: str, args: list[str]) -> str:
    async with Core.open(settings, platforms=[]) as core:
        admin, lang = core.admin, settings.default_language
        if command in ("ban", "unban"):
            await admin.ban(_key(args[0]), command == "ban", " ".join(args[1:]) or None)
            return f"{command}: {args[0]}"
        if command == "limit-user":
            await admin.set_user(_key(args[0]), daily_limit=_limit(args[1]))
            return f"daily limit of {args[0]}: {args[1]}"
        if command in CHAT_COLUMNS:
            await admin.set_chat(_key(args[0]), **{CHAT_COLUMNS[command]: _limit(args[1])})
            return f"{command} of {args[0]}: {args[1]}"
        if command in ("enable", "disable"):
            await admin.set_chat(_key(args[0]), enabled=int(command == "enable"))
            return f"{command}d drawing in {args[0]}"
        if command == "stats":
            return await admin.stats(lang)
        if command == "history":
            count = int(args[1]) if len(args) > 1 else 20
            return await admin.user_history(_key(args[0]), count)
        if command == "forget":
            platform, _, user_id = _key(args[0]).partition(":")
            return await core.account.forget(Requester(platform, user_id))
        if command == "balance":
            return await admin.balance(lang)
        raise ValueError(command)
