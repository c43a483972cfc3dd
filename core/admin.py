"""Administration: bans, limit overrides, chat switches, statistics and the relay balance.

The same operations serve chat commands (`/ban`, `/limit`, …) and `python -m bots admin`.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from datetime import datetime
from typing import Any

from core import messages
from core.access import (
    WORD_MAX,
    Access,
    add_allowed,
    add_word,
    fold,
    read_key,
    remove_allowed,
    remove_word,
    split_words,
)
from core.kept import remove_files
from core.model_views import model_note
from core.numbers import read_int
from core.relay_errors import RelayError
from core.request import Request, Requester
from core.service import DrawService
from core.store import Store

PLATFORMS = ("telegram", "discord", "console")
USER_ID_MAX = 2**63 - 1
LIMIT_MAX = 1_000_000  # images per day, or seconds of cooldown
# Private mode and blocked words (core/access.py): bot admins only.
ACCESS_COMMANDS = {"allow", "disallow", "allowed", "blockword", "unblockword", "blockwords"}
GLOBAL_COMMANDS = {"ban", "unban", "stats", "balance"} | ACCESS_COMMANDS
CHAT_COMMANDS = {"enable", "disable", "chatwatermark", "limit"}
ADMIN_COMMANDS = GLOBAL_COMMANDS | CHAT_COMMANDS | {"admin"}
# `/limit <scope> <n|default>` in a chat: the column of `chats` it sets.
CHAT_LIMITS = {
    "chat": "daily_limit",
    "member": "user_daily_limit",
    "cooldown": "cooldown_seconds",
}


class AdminError(Exception):
    """An admin command that cannot run as written: `reason` names the sentence saying how to
    write it (messages.py), `values` fill it."""

    def __init__(self, reason: str, **values: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


def split_args(text: str) -> list[str]:
    """Words of an admin command; quotes group words, stray quotes are kept as text."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


class Admin:
    """Admin operations over the store; checks who may run what."""

    def __init__(self, service: DrawService) -> None:
        self.service = service
        self.store = service.store

    def is_admin(self, requester: Requester) -> bool:
        return requester.key in self.service.settings.admin_ids

    async def may_run(self, command: str, ctx: Request) -> bool:
        """Bot admins run everything; a group's own admins run its chat commands there."""
        if self.is_admin(ctx.requester):
            return True
        if command not in CHAT_COMMANDS or not ctx.place.is_group:
            return False
        return await ctx.is_chat_admin()

    async def run(
        self, command: str, args: list[str], ctx: Request, *, lang: str | None = None
    ) -> str:
        """Run one admin chat command and return the reply in the requester's language."""
        lang = lang or self.service.lang(ctx.requester)
        p = ctx.admin_prefix
        if command == "admin":
            usage = messages.text("admin_usage", lang, p=p)
            return f"{usage}\n\n{messages.text('access_usage', lang, p=p)}"
        if not await self.may_run(command, ctx):
            return messages.text("not_admin", lang)
        try:
            return await self._run(command, args, ctx, lang)
        except AdminError as error:
            problem = messages.text(error.reason, lang, p=p, **error.values)
            topic = "access_usage" if command in ACCESS_COMMANDS else "admin_usage"
            return f"{problem}\n\n{messages.text(topic, lang, p=p)}"

    async def _run(self, command: str, args: list[str], ctx: Request, lang: str) -> str:
        if command in ACCESS_COMMANDS:
            return await self._access(command, args, ctx, lang)
        if command in ("ban", "unban"):
            if ctx.quoted_user_id and not (args and _looks_like_user(args[0])):
                args = [ctx.quoted_user_id, *args]  # `/ban <reason>` as a reply to them
            user = self._user(args[:1], ctx)
            reason = " ".join(args[1:]) or None
            await self.ban(user, command == "ban", reason)
            return messages.text("admin_done", lang, what=f"{command} {user}")
        if command in ("enable", "disable"):
            await self.set_chat(ctx.place.key, enabled=int(command == "enable"))
            return messages.text("admin_done", lang, what=f"{command} {ctx.place.key}")
        if command == "limit":
            return await self._limit(args, ctx, lang)
        if command == "chatwatermark":
            return await self._watermark(args, ctx, lang)
        if command == "stats":
            return await self.stats(lang)
        return await self.balance(lang)

    async def _limit(self, args: list[str], ctx: Request, lang: str) -> str:
        """`/limit user <user> <n>` (admins); `/limit chat|member|cooldown <n>` (this chat)."""
        if len(args) < 2 or args[0] not in {*CHAT_LIMITS, "user"}:
            raise AdminError("admin_limit_usage")
        value = _limit_value(args[-1])
        if args[0] == "user":
            if not self.is_admin(ctx.requester):
                return messages.text("not_admin", lang)
            user = self._user(args[1:-1], ctx)
            await self.set_user(user, daily_limit=value)
            return messages.text("admin_done", lang, what=f"limit {user} = {args[-1]}")
        await self.set_chat(ctx.place.key, **{CHAT_LIMITS[args[0]]: value})
        what = f"{args[0]} limit of {ctx.place.key} = {args[-1]}"
        return messages.text("admin_done", lang, what=what)

    async def _watermark(self, args: list[str], ctx: Request, lang: str) -> str:
        if not args or args[0] not in ("on", "off", "default"):
            raise AdminError("admin_watermark_usage")
        if not self.service.settings.watermark_user_control:
            return messages.text("watermark_locked", lang)
        enabled = {"on": 1, "off": 0, "default": None}[args[0]]
        text = " ".join(args[1:])[:50] or None
        await self.set_chat(ctx.place.key, watermark=enabled, watermark_text=text)
        return messages.text("admin_done", lang, what=f"watermark {args[0]} {text or ''}".strip())

    def _user(self, args: list[str], ctx: Request) -> str:
        raw = args[0] if args else ctx.quoted_user_id
        if not raw:
            raise AdminError("admin_name_user")
        raw = raw.lstrip("@<!>").rstrip(">")
        platform, colon, user_id = raw.rpartition(":")
        if platform == "console" and user_id:  # console users are named, not numbered
            return raw
        number = read_int(user_id, 1, USER_ID_MAX)
        if number is None or (colon and platform not in PLATFORMS):
            raise AdminError("admin_not_user", value=raw[:40])
        return f"{platform or ctx.requester.platform}:{number}"

    # -- private mode and blocked words (core/access.py) -----------------------------------

    async def _access(self, command: str, args: list[str], ctx: Request, lang: str) -> str:
        if command in ("allow", "disallow"):
            kind, key = self._listed(args, ctx)
            return await self.allow(kind, key, command == "allow", ctx.requester.key, lang)
        if command == "allowed":
            mode = await self._mode(lang)
            users, chats = await self.access.users(), await self.access.chats()
            return messages.text(
                "access_listed",
                lang,
                users=", ".join(sorted(users)) or "-",
                chats=", ".join(sorted(chats)) or "-",
                mode=mode,
            )
        if command == "blockwords":
            return await self.blocked_words(lang)
        words = split_words(" ".join(args))
        if not words:
            raise AdminError("access_word_usage")
        for word in words:
            if len(word) > WORD_MAX or not fold(word):
                raise AdminError("access_word_bad", value=word[:60], max=WORD_MAX)
        return await self.block_words(words, command == "blockword", ctx.requester.key, lang)

    def _listed(self, args: list[str], ctx: Request) -> tuple[str, str]:
        """`chat [<chat>]` (this chat without one), or `[user] <user>` (or as a reply)."""
        if args and args[0].lower() == "chat":
            if len(args) < 2:
                return "chat", ctx.place.key
            raw = args[1]
            qualified = raw if ":" in raw else f"{ctx.place.platform}:{raw}"
            key = read_key(qualified, chat=True)
            if key is None:
                raise AdminError("access_not_chat", value=raw[:40])
            return "chat", key
        if args and args[0].lower() == "user":
            args = args[1:]
        if not args and not ctx.quoted_user_id:
            raise AdminError("access_name_target")
        try:
            return "user", self._user(args[:1], ctx)
        except AdminError:
            raise AdminError("access_not_user", value=(args or [""])[0][:40]) from None

    @property
    def access(self) -> Access:
        return self.service.access

    async def _mode(self, lang: str) -> str:
        users, chats = await self.access.users(), await self.access.chats()
        if not users and not chats:
            return messages.text("access_mode_off", lang)
        return messages.text("access_mode_on", lang, users=len(users), chats=len(chats))

    async def allow(self, kind: str, key: str, allowed: bool, by: str, lang: str) -> str:
        """List (or unlist) a user or chat at run time; the reply says where private mode
        stands now. An entry of the settings is not removed here."""
        settings = self.service.settings
        in_settings = key in (settings.allowed_users if kind == "user" else settings.allowed_chats)
        what = f"{kind} {key}"
        if in_settings and not allowed:
            setting = "ALLOWED_USERS" if kind == "user" else "ALLOWED_CHATS"
            return messages.text("access_in_settings", lang, what=what, setting=setting)
        if in_settings:
            changed = False
        elif allowed:
            changed = await self.store.run(add_allowed, kind, key, by)
        else:
            changed = await self.store.run(remove_allowed, kind, key)
        self.access.forget_cache()
        mode = await self._mode(lang)
        if changed:
            verb = "allow" if allowed else "disallow"
            return messages.text("access_done", lang, what=f"{verb} {what}", mode=mode)
        reason = "access_already" if allowed else "access_not_listed"
        return messages.text(reason, lang, what=what, mode=mode)

    async def block_words(self, words: tuple[str, ...], block: bool, by: str, lang: str) -> str:
        """Block (or unblock) words at run time; words of the settings stay blocked."""
        fixed = {fold(word) for word in self.service.settings.blocked_words}
        changed: list[str] = []
        for word in words:
            if fold(word) in fixed:
                if block:
                    continue
                what = f"unblockword {word}"
                return messages.text("access_in_settings", lang, what=what, setting="BLOCKED_WORDS")
            if block and await self.store.run(add_word, word, by):
                changed.append(word)
            if not block and await self.store.run(remove_word, word):
                changed.append(word)
        self.access.forget_cache()
        verb = "blockword" if block else "unblockword"
        mode = messages.text("access_words", lang, **await self._words())
        if not changed:
            reason = "access_already" if block else "access_not_listed"
            return messages.text(reason, lang, what=", ".join(words), mode=mode)
        return messages.text("access_done", lang, what=f"{verb} {', '.join(changed)}", mode=mode)

    async def _words(self) -> dict[str, object]:
        fixed = set(self.service.settings.blocked_words)
        words = await self.access.words()
        shown = ", ".join(f"{w}*" if w in fixed else w for w in words) or "-"
        return {"count": len(words), "words": shown}

    async def blocked_words(self, lang: str) -> str:
        found = await self._words()
        if not found["count"]:
            return messages.text("access_words_none", lang)
        return messages.text("access_words", lang, **found)

    # -- operations (also used by `python -m bots admin`) --------------------------------

    async def ban(self, user_key: str, banned: bool = True, reason: str | None = None) -> None:
        await self.store.run(Store.set_user, user_key, banned=int(banned), ban_reason=reason)

    async def set_user(self, user_key: str, **values: object) -> None:
        await self.store.run(Store.set_user, user_key, **values)

    async def set_chat(self, chat_key: str, **values: object) -> None:
        await self.store.run(Store.set_chat, chat_key, **values)

    async def forget(self, user_key: str) -> int:
        """Delete a user's prompts and images (counts stay); how many drawings they had."""
        rows = await self.store.run(Store.history, user_key, 100_000)
        paths = await self.store.run(Store.forget_user, user_key)
        await asyncio.to_thread(remove_files, paths)
        return len(rows)

    async def user_history(self, user_key: str, count: int, lang: str) -> str:
        """A user's recent generations, one line each, for the operator (in `lang`)."""
        rows = await self.store.run(Store.history, user_key, count)
        zone, table = self.service.settings.zone, self.service.settings.models
        lines = []
        for g in rows:
            status = messages.text(f"status_{g.status}", lang)
            if g.error_kind:
                status = messages.text("cli_history_failed", lang, status=status, kind=g.error_kind)
            lines.append(
                messages.text(
                    "cli_history_line",
                    lang,
                    id=g.id,
                    when=datetime.fromtimestamp(g.created_at, zone).strftime("%Y-%m-%d %H:%M"),
                    status=status,
                    model=f"{note} · " if (note := model_note(g.params.model, table, lang)) else "",
                    size=g.params.size,
                    seed=g.params.seed,
                    prompt=g.params.prompt[:60],
                )
            )
        return "\n".join(lines) or messages.text("cli_history_empty", lang, user=user_key)

    async def stats_figures(self) -> dict[str, Any]:
        """The database's figures for /stats and `admin stats`, ready to fill a sentence."""
        week_ago = time.time() - 7 * 86400
        figures = await self.store.run(Store.stats, week_ago, self.service.today())
        failures = ", ".join(f"{k}: {v}" for k, v in figures["failures"].items()) or "-"
        top = ", ".join(f"{name or key} ({n})" for key, name, n in figures["top_users"]) or "-"
        models = ", ".join(f"{model} ({n})" for model, n in figures["models"]) or "-"
        mean = figures["mean_relay_seconds"]
        return {
            **figures,
            "failures": failures,
            "top": top,
            "models": models,
            "mean": f"{mean:.1f}s" if mean else "-",
        }

    async def stats(self, lang: str) -> str:
        """The figures and this process's relay window and queue."""
        window = self.service.dispatcher.window
        return messages.text(
            "stats",
            lang,
            **await self.stats_figures(),
            window=window.size,
            ceiling=window.ceiling,
            pushbacks=window.pushbacks,
            waiting=self.service.queue.waiting,
        )

    async def balance(self, lang: str) -> str:
        try:
            found = await self.service.relay.balance()
        except RelayError as error:
            return messages.text(error.reason, lang)
        if found is None:
            return messages.text("balance_unknown", lang)
        return messages.text(
            "balance", lang, remaining=found.remaining, total=found.total, used=found.used
        )


def _looks_like_user(word: str) -> bool:
    """12345, telegram:12345, discord:12345, @12345 or a Discord mention <@12345>."""
    word = word.lstrip("@<!").rstrip(">")
    return word.isdigit() or word.startswith(tuple(f"{p}:" for p in PLATFORMS))


def _limit_value(raw: str) -> int | None:
    if raw.lower() in ("default", "reset", "none"):
        return None
    number = read_int(raw, 0, LIMIT_MAX)
    if number is None:
        raise AdminError("admin_not_number", value=raw[:40], max=LIMIT_MAX)
    return number
