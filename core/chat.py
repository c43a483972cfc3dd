"""Text commands every adapter answers the same way: help, quota, history, forget, admin."""

from __future__ import annotations

import shlex

from core import messages
from core.admin import ADMIN_COMMANDS, AdminContext
from core.root import Core

TEXT_COMMANDS = frozenset({"start", "help", "quota", "history", "forget"}) | ADMIN_COMMANDS


def split_args(text: str) -> list[str]:
    """Words of an admin command; quotes group words, stray quotes are kept as text."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


async def text_reply(core: Core, command: str, args: str, ctx: AdminContext) -> str | None:
    """The reply to a text-only command, or None if `command` is not one of them."""
    lang = core.service.lang(ctx.requester)
    if command == "start":
        name = ctx.requester.name or ""
        return messages.text("start", lang, name=name)
    if command == "help":
        return messages.text("usage", lang)
    if command == "quota":
        return await core.account.quota(ctx.requester, ctx.place)
    if command == "history":
        reply, _ = await core.account.history(ctx.requester)
        return reply
    if command == "forget":
        return await core.account.forget(ctx.requester)
    if command in ADMIN_COMMANDS:
        return await core.admin.run(command, split_args(args), ctx)
    return None
