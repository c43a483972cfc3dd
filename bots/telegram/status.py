"""A draw's status in a Telegram chat, as core reports it (core.request.Progress).

From the moment the draw is accepted: the `upload_photo` chat action (one loop per chat
however many draws run there). While it waits for the relay: one status message answering the
/draw, edited in place as it moves up, with a cancel button; while it draws, that message, if
there is one, edited now and then. When it ends, the status message is deleted: the picture
or the sentence follows.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import TelegramError

from bots.telegram.actions import ChatActions
from bots.telegram.send import Target
from core.answer import Button

log = logging.getLogger(__name__)


class TelegramStatus:
    """One draw's status message and chat action."""

    def __init__(self, bot: Bot, actions: ChatActions, target: Target) -> None:
        self.bot = bot
        self.actions = actions
        self.target = target
        self.message: Message | None = None
        self._acting = False

    async def reserved(self) -> None:
        """At once: the chat action (it skips the rate limiter, so it is seen within ms)."""
        self._act()

    async def queued(self, text: str, cancel: Button) -> None:
        await self._show(text, cancel)

    async def drawing(self, text: str, cancel: Button, elapsed: float) -> None:
        self._act()
        if self.message is not None:
            await self._show(text, cancel)

    def _act(self) -> None:
        if not self._acting:
            self._acting = True
            self.actions.start(self.target)

    async def finished(self) -> None:
        if self._acting:
            self._acting = False
            self.actions.stop(self.target)
        if self.message is not None:
            message, self.message = self.message, None
            with contextlib.suppress(TelegramError):
                await message.delete()

    async def _show(self, text: str, cancel: Button) -> None:
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(cancel.label, callback_data=cancel.data)]]
        )
        try:
            if self.message is None:
                self.message = await self.bot.send_message(
                    text=text, reply_markup=markup, **self.target.kwargs()
                )
            else:
                await self.message.edit_text(text, reply_markup=markup)
        except TelegramError as error:
            log.info("status not shown: %s", error)
