"""The routes that draw, draw again, send the original or cancel: /draw, /redo, /original,
/cancel and the buttons under a picture (`BUTTONS`). core/front.py routes to them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from core import messages
from core.answer import Action, Answer, Say
from core.command import UsageError, parse_draw
from core.models import ModelTable
from core.numbers import read_int
from core.params import DrawParams
from core.sources import editor

if TYPE_CHECKING:
    from core.front import Asked, Front

ID_MAX = 2**63 - 1  # SQLite's largest integer


# -- the buttons under a picture ------------------------------------------------------------


async def send_original(front: Front, asked: Asked, generation_id: int) -> Answer:
    """The kept file, free: one's own, or one posted in this chat."""
    request = asked.request
    outcome = await front.account.original(
        request.requester, generation_id, request.place, lang=asked.lang
    )
    return front.answer(outcome, asked.lang, original=True)


def redraw(*, new_seed: bool = False, turn: bool = False) -> ButtonRoute:
    """Draw a posted picture again (anyone may, where it was posted): a new seed, or the
    same seed at the other shape."""

    async def route(front: Front, asked: Asked, generation_id: int) -> Answer:
        request = asked.request
        outcome = await front.account.redo(
            request.requester,
            request.place,
            generation_id,
            new_seed=new_seed,
            turn=turn,
            source_key=request.source_key,
            anyone=True,
            lang=asked.lang,
            progress=request.progress,
            address=request.address,
        )
        return front.answer(outcome, asked.lang)

    return route


async def cancel_one(front: Front, asked: Asked, generation_id: int) -> Answer:
    """The cancel button under a draw's status: only its author may; the draw itself then
    answers that it was cancelled."""
    dropped = front.service.cancel(asked.request.requester.key, generation_id)
    return Say(messages.text("cancel_not_yours", asked.lang)) if dropped is None else None


ButtonRoute = Callable[["Front", "Asked", int], Awaitable[Answer]]
BUTTONS: dict[Action, ButtonRoute] = {
    Action.AGAIN: redraw(new_seed=True),
    Action.RESIZE: redraw(turn=True),
    Action.ORIGINAL: send_original,
    Action.CANCEL: cancel_one,
}


# -- the commands -------------------------------------------------------------------------


async def draw(front: Front, asked: Asked, args: str) -> Answer:
    """/draw <prompt> [options]; with no prompt, the quoted message's text is the prompt.
    A picture it brings (replied to, attached) is edited where a model can (core/sources.py)."""
    request = asked.request
    table, chat = front.models.table, (await front.models.chat_model(request.place)).name
    editing = request.picture is not None and bool(table.editors)
    try:
        params = parse_edit(args, table, chat, editing)
    except UsageError as error:
        quoted = request.quoted_text.strip()
        if error.reason != "empty_prompt" or not quoted:
            return Say(error.text(asked.lang))
        try:
            params = parse_edit(f"{quoted} {args}", table, chat, editing)
        except UsageError as second:
            return Say(second.text(asked.lang))
    outcome = await front.service.draw(
        request.requester,
        request.place,
        params,
        source_key=request.source_key,
        lang=asked.lang,
        progress=request.progress,
        address=request.address,
        picture=request.picture,
    )
    return front.answer(outcome, asked.lang)


def parse_edit(args: str, table: ModelTable, chat: str, editing: bool) -> DrawParams:
    """parse_draw; a size the chat's model cannot draw is judged again by the picture's editor."""
    try:
        return parse_draw(args, table, chat)
    except UsageError as error:
        if not editing or not error.reason.startswith(("bad_size", "bad_ratio")):
            raise
        return parse_draw(args, table, (editor(table, chat, chat) or table.editors[0]).name)


def generation_id(args: str, lang: str, command: str) -> int | Say:
    """The number after /redo or /original, or the sentence saying what is wrong with it."""
    if not args.strip():
        return Say(messages.text("missing_id", lang, command=command))
    number = read_int(args, 1, ID_MAX)
    if number is None:
        return Say(messages.text("bad_id", lang, value=args.strip()[:40], command=command))
    return number


async def redo(front: Front, asked: Asked, args: str) -> Answer:
    """/redo [id]: one's own drawing again, same seed; the last one without an id."""
    request = asked.request
    chosen = generation_id(args, asked.lang, "redo") if args.strip() else None
    if isinstance(chosen, Say):
        return chosen
    outcome = await front.account.redo(
        request.requester,
        request.place,
        chosen,
        source_key=request.source_key,
        lang=asked.lang,
        progress=request.progress,
        address=request.address,
    )
    return front.answer(outcome, asked.lang)


async def original(front: Front, asked: Asked, args: str) -> Answer:
    """/original <id>: the stored file again, free."""
    chosen = generation_id(args, asked.lang, "original")
    if isinstance(chosen, Say):
        return chosen
    request = asked.request
    outcome = await front.account.original(
        request.requester, chosen, request.place, lang=asked.lang
    )
    return front.answer(outcome, asked.lang, original=True)


async def cancel(front: Front, asked: Asked, args: str) -> Answer:
    """/cancel: drop every draw of the asker that waits or runs; each is refunded."""
    dropped = front.service.cancel(asked.request.requester.key) or 0
    if not dropped:
        return Say(messages.text("nothing_to_cancel", asked.lang))
    return Say(messages.text("cancel_done", asked.lang, count=dropped))
