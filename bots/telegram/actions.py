"""Pacing Telegram: the `upload_photo` chat action while drawing, and the rate limiter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter

from bots.telegram.send import Target

log = logging.getLogger(__name__)

ACTION_EVERY = 4.0  # seconds; Telegram shows a chat action for about 5

JSONDict = dict[str, Any]
ApiResult = bool | JSONDict | list[JSONDict]


class ChatActions:
    """Shows `upload_photo` in a chat while any draw there runs: one loop per chat, not per draw."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._users: dict[tuple[int, int | None], int] = {}
        self._loops: dict[tuple[int, int | None], asyncio.Task[None]] = {}

    def start(self, target: Target) -> None:
        """One more draw in `target`'s chat: the loop runs while any does."""
        key = (target.chat_id, target.thread_id)
        self._users[key] = self._users.get(key, 0) + 1
        if key not in self._loops:
            self._loops[key] = asyncio.create_task(self._loop(*key), name=f"chat-action:{key}")

    def stop(self, target: Target) -> None:
        key = (target.chat_id, target.thread_id)
        if key not in self._users:
            return
        self._users[key] -= 1
        if not self._users[key]:
            del self._users[key]
            self._loops.pop(key).cancel()

    async def _loop(self, chat_id: int, thread_id: int | None) -> None:
        while True:
            try:
                await self.bot.send_chat_action(
                    chat_id, ChatAction.UPLOAD_PHOTO, message_thread_id=thread_id
                )
            except TelegramError as error:
                log.debug("chat action failed: %s", error)
            await asyncio.sleep(ACTION_EVERY)


class RateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter, except that chat actions pass straight through.

    They are cosmetic, and counted against a group's 20 messages a minute they would hold up
    the photos themselves; a flood answer to one is simply dropped."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> ApiResult:
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
