"""Front: the one entry point of core. A Request in, an Answer out, for every platform.

One routing table (`COMMANDS`) serves Telegram, Discord and the console; button presses go
through `BUTTONS` (core/drawing_routes.py, with the routes that draw). The asker's language
is resolved here, once per request.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core import messages
from core.account import Account
from core.admin import ADMIN_COMMANDS, Admin, split_args
from core.answer import Answer, Pictures, Receipt, Say, parse_button, result_buttons
from core.command import split_command
from core.drawing_routes import BUTTONS, cancel, draw, original, redo
from core.images import Image
from core.model_views import ModelViews, model_note
from core.outcome import Delivered, Outcome
from core.records import Generation
from core.recovery import Courier, Recovery
from core.request import Request
from core.service import DrawService
from core.store import Store

if TYPE_CHECKING:
    from core.keeper import Download

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asked:
    """A request with what core resolved about it once: the asker's language."""

    request: Request
    lang: str


Route = Callable[["Front", Asked, str], Awaitable[Answer]]


class Front:
    """Routes each request to the service, the account or the admin, and renders the result."""

    def __init__(self, service: DrawService, account: Account, admin: Admin) -> None:
        self.service = service
        self.account = account
        self.admin = admin
        self.store = service.store
        self.models = ModelViews(service)
        self.recovery = Recovery(service, self.pictures)

    async def handle(self, request: Request) -> Answer:
        """The answer to one event; None when there is nothing to say (not for us, or
        a redelivered event that was answered before)."""
        lang = self.service.lang(request.requester)
        asked = Asked(request, lang)
        if request.redelivered and request.source_key is not None:
            if await self.store.run(Store.by_source, request.source_key) is not None:
                return None
        if request.button is not None:
            return await self._press(asked, request.button)
        parsed = split_command(request.text, request.bot_username)
        if parsed is None:
            # Chatter in a group is not for us; in private, say how to ask.
            if request.place.is_group or not request.text.strip():
                return None
            return Say(messages.text("empty_prompt", lang))
        command, args = parsed
        route = COMMANDS.get(command)
        if route is None:
            # In a group other bots' commands are none of our business, unless addressed to us
            # by name (`/drow@drawbot`); in private, say so and name the closest command.
            if request.place.is_group and not addressed_to_us(request):
                return None
            return Say(unknown_command(command, lang))
        return await route(self, asked, args)

    async def delivered(self, receipt: Receipt) -> None:
        """An adapter posted a generation: it is delivered (and charged), with the platform's
        file references. A write that must wait goes on in the background."""
        self.service.keeper.want(receipt.generation_id)  # its kept copy, if it waits
        await self.service.ledger.write_or_later(
            Store.settle_delivered, receipt.generation_id, receipt.platform, receipt.file_refs
        )

    async def undelivered(self, pictures: Pictures) -> Say:
        """The platform refused the pictures: the draw is refunded (its files stay for
        /original) and this is the sentence to say instead."""
        self.service.keeper.want(pictures.generation.id)  # its kept copy, if it waits
        await self.service.ledger.write_or_later(
            Store.settle_failure, pictures.generation.id, kind="send_failed", status="failed"
        )
        return Say(pictures.send_failed)

    async def attach(self, platform: str, courier: Courier) -> int:
        """An adapter is up and can post to addresses: finish what gone processes left on its
        platform (now, and at every sweep until `detach`); how many draws it settled now."""
        return await self.recovery.attach(platform, courier)

    def detach(self, platform: str) -> None:
        self.recovery.detach(platform)

    # -- what the result of a draw looks like ---------------------------------------------

    def answer(self, outcome: Outcome, lang: str, *, original: bool = False) -> Answer:
        """A draw's outcome as an answer: its pictures with buttons, or its sentence."""
        if not isinstance(outcome, Delivered):
            return None if outcome.silent else Say(outcome.text)
        if original:
            note = model_note(outcome.generation.params.model, self.models.table, lang)
            return Pictures(outcome.generation, outcome.images, lang, original=True, model=note)
        return self.pictures(outcome.generation, outcome.images, lang, outcome.later)

    def pictures(
        self,
        generation: Generation,
        images: list[Image],
        lang: str,
        later: Download | None = None,
    ) -> Pictures:
        """A generation's pictures, its caption naming the model where there is a choice."""
        table = self.models.table
        buttons = result_buttons(generation, lang, table.model(generation.params.model))
        note = model_note(generation.params.model, table, lang)
        return Pictures(generation, images, lang, buttons, later=later, model=note)

    # -- buttons --------------------------------------------------------------------------

    async def _press(self, asked: Asked, data: str) -> Answer:
        pressed = parse_button(data)
        if pressed is None:
            log.info("a button with unknown data was pressed: %r", data[:80])
            return None
        action, generation_id = pressed
        return await BUTTONS[action](self, asked, generation_id)


async def start(front: Front, asked: Asked, args: str) -> Answer:
    request = asked.request  # in private mode an outsider is told so at once (core/access.py)
    if await front.service.access.outsider(request.requester, request.place):
        return Say(messages.text("access_private", asked.lang))
    name = asked.request.requester.name or ""
    commands = command_lines(asked.lang)
    return Say(messages.text("start", asked.lang, name=name, commands=commands))


async def help_(front: Front, asked: Asked, args: str) -> Answer:
    """/help: every user command, and the admin commands for admins (a pointer for others);
    /help draw: every option of /draw; /help <command>: that command's line."""
    lang, request = asked.lang, asked.request
    topic = args.strip().lstrip("/").lower()
    if topic == "draw":
        return Say(messages.text("usage", lang))
    if topic in user_commands():
        return Say(command_line(topic, lang))
    parts = [messages.text("help", lang, commands=command_lines(lang))]
    if request.admin_prefix != "/":
        # Slash commands with their own menu (Discord): /help takes no word there, so the
        # options of /draw come with the list.
        parts.append(messages.text("usage", lang))
    if front.admin.is_admin(request.requester):
        parts.append(messages.text("admin_usage", lang, p=request.admin_prefix))
    else:
        parts.append(messages.text("help_admin_pointer", lang))
    return Say("\n\n".join(parts))


async def quota(front: Front, asked: Asked, args: str) -> Answer:
    request = asked.request
    return Say(await front.account.quota(request.requester, request.place, lang=asked.lang))


async def history(front: Front, asked: Asked, args: str) -> Answer:
    reply, _ = await front.account.history(asked.request.requester, lang=asked.lang)
    return Say(reply)


async def models(front: Front, asked: Asked, args: str) -> Answer:
    """/models: what this deployment draws with."""
    return Say(await front.models.listing(asked.request.place, asked.lang))


async def model(front: Front, asked: Asked, args: str) -> Answer:
    """/model [name]: this chat's default model, shown or chosen."""
    return Say(await front.models.choose(asked.request, args, asked.lang))


async def forget(front: Front, asked: Asked, args: str) -> Answer:
    return Say(await front.account.forget(asked.request.requester, lang=asked.lang))


def admin_route(command: str) -> Route:
    async def route(front: Front, asked: Asked, args: str) -> Answer:
        reply = await front.admin.run(command, split_args(args), asked.request, lang=asked.lang)
        return Say(reply)

    return route


# -- what the commands are called -----------------------------------------------------------


def user_commands() -> list[str]:
    """The commands anyone may use, in COMMANDS order (the admin commands left out)."""
    return [name for name in COMMANDS if name not in ADMIN_COMMANDS]


def command_line(name: str, lang: str) -> str:
    """One command as /help and /start show it: `cmd_<name>` of core/texts_chat.py."""
    key = f"cmd_{name}"
    return messages.text(key, lang) if key in messages.TEXTS else f"/{name}"


def command_lines(lang: str) -> str:
    return "\n".join(command_line(name, lang) for name in user_commands())


def unknown_command(command: str, lang: str) -> str:
    """The sentence for `/command` that is not in COMMANDS, naming the closest one."""
    close = difflib.get_close_matches(command, list(COMMANDS), n=1, cutoff=0.6)
    if close:
        hint = messages.text("unknown_command_hint", lang, suggestion=close[0])
    else:
        hint = messages.text("unknown_command_draw", lang)
    return messages.text("unknown_command", lang, command=command[:40], hint=hint)


def addressed_to_us(request: Request) -> bool:
    """Whether a command names this bot: `/drow@drawbot` (a group has other bots)."""
    if not request.bot_username:
        return False
    name = re.escape(request.bot_username)
    found = re.match(rf"\s*[/／]\w+@{name}(?!\w)", request.text, re.IGNORECASE | re.ASCII)
    return found is not None


COMMANDS: dict[str, Route] = {
    "draw": draw,
    "redo": redo,
    "original": original,
    "cancel": cancel,
    "start": start,
    "help": help_,
    "quota": quota,
    "history": history,
    "models": models,
    "model": model,
    "forget": forget,
    **{name: admin_route(name) for name in sorted(ADMIN_COMMANDS)},
}
