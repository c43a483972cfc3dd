"""Telegram output: photos with captions and buttons, documents, albums, chat actions.

Everything here turns core results into Bot API calls; nothing decides anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
    ReplyParameters,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError
from telegram.ext import AIORateLimiter

from core import messages
from core.account import caption, resize_choice
from core.images import Image
from core.service import Delivered, Outcome, Refused
from core.store import Generation, Store, StoreThread

log = logging.getLogger(__name__)

CAPTION_MAX = 1024  # UTF-16 code units, counted after entity parsing
TEXT_MAX = 4096
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES = 10_000  # width + height
ACTION_EVERY = 4.0  # seconds; Telegram shows a chat action for about 5


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def photo_caption(generation: Generation, lang: str) -> str:
    """The core caption, cut to Telegram's 1024 UTF-16 units; sent without a parse mode,
    so `<`, `&`, `_` and `*` in prompts need no escaping."""
    return caption(generation, lang, limit=CAPTION_MAX, measure=utf16_len)


def keyboard(generation: Generation, lang: str) -> InlineKeyboardMarkup:
    """Again (new seed), same seed at another size, the original file: `g:<action>:<id>`."""
    width, height = resize_choice(generation)
    gid = generation.id
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    messages.text("button_again", lang), callback_data=f"g:again:{gid}"
                ),
                InlineKeyboardButton(
                    messages.text("button_resize", lang, size=f"{width}x{height}"),
                    callback_data=f"g:size:{gid}",
                ),
            ],
            [
                InlineKeyboardButton(
                    messages.text("button_original", lang), callback_data=f"g:orig:{gid}"
                )
            ],
        ]
    )


def fits_photo(image: Image) -> bool:
    """Telegram's sendPhoto limits: 10 MB, width + height at most 10000, ratio at most 20."""
    if len(image.data) > PHOTO_MAX_BYTES or image.width + image.height > PHOTO_MAX_SIDES:
        return False
    small, large = sorted((image.width, image.height))
    return small == 0 or large / small <= 20


def file_name(generation: Generation, index: int, image: Image) -> str:
    return f"drawbot-{generation.id}-{index + 1}.{image.extension}"


def file_id_of(message: Message) -> str | None:
    if message.photo:
        return message.photo[-1].file_id
    if message.document:
        return message.document.file_id
    return None


@dataclass(frozen=True)
class Target:
    """Where a reply goes: the chat, the message it answers (groups only), the forum topic."""

    chat_id: int
    reply_to: int | None = None
    thread_id: int | None = None

    def kwargs(self) -> dict[str, Any]:
        reply = None
        if self.reply_to is not None:
            reply = ReplyParameters(self.reply_to, allow_sending_without_reply=True)
        return {
            "chat_id": self.chat_id,
            "reply_parameters": reply,
            "message_thread_id": self.thread_id,
        }


class Sender:
    """Sends outcomes to chats and remembers Telegram's file ids for cheap resends."""

    def __init__(self, bot: Bot, store: StoreThread) -> None:
        self.bot = bot
        self.store = store

    async def text(
        self, target: Target, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        if utf16_len(text) > TEXT_MAX:
            text = text[: TEXT_MAX // 2 - 1] + "…"
        await self.bot.send_message(text=text, reply_markup=markup, **target.kwargs())

    async def deliver(self, outcome: Outcome, target: Target, lang: str) -> None:
        """A finished draw as photo(s) with caption and buttons; a refusal as its sentence."""
        if isinstance(outcome, Refused):
            if not outcome.silent:
                await self.text(target, outcome.text)
            return
        generation, images = outcome.generation, outcome.images
        known = generation.file_refs.get("telegram") or []
        refs: list[str | None] = list(known) if len(known) == len(images) else [None] * len(images)
        try:
            sent = await self._send_images(target, generation, images, refs, lang)
        except TelegramError as error:
            log.warning("sending generation %d to telegram failed: %s", generation.id, error)
            with contextlib.suppress(TelegramError):
                await self.text(target, messages.text("send_failed", lang, id=generation.id))
            return
        ids = [file_id_of(message) for message in sent]
        found = [i for i in ids if i]
        if found and found != known:
            await self.store.run(Store.add_file_refs, generation.id, "telegram", found)

    async def _send_images(
        self,
        target: Target,
        generation: Generation,
        images: list[Image],
        refs: Sequence[str | None],
        lang: str,
    ) -> list[Message]:
        """Send by Telegram file id when known; upload the bytes if the ids are refused."""
        try:
            return await self._send_once(target, generation, images, refs, lang)
        except BadRequest as error:
            if not any(refs):
                raise
            log.info("resend by file id failed (%s); uploading again", error)
            return await self._send_once(target, generation, images, [None] * len(images), lang)

    async def _send_once(
        self,
        target: Target,
        generation: Generation,
        images: list[Image],
        refs: Sequence[str | None],
        lang: str,
    ) -> list[Message]:
        text, markup = photo_caption(generation, lang), keyboard(generation, lang)
        as_photos = all(fits_photo(image) for image in images)
        if len(images) == 1:
            content = refs[0] or images[0].data
            common = {"caption": text, "reply_markup": markup, **target.kwargs()}
            if as_photos:
                return [await self.bot.send_photo(photo=content, **common)]
            name = file_name(generation, 0, images[0])
            return [await self.bot.send_document(document=content, filename=name, **common)]
        album = await self._album(target, generation, images, refs, as_photos, text)
        # An album cannot carry buttons: they follow in a short message of their own.
        await self.text(target, text.splitlines()[-1], markup)
        return album

    async def _album(
        self,
        target: Target,
        generation: Generation,
        images: list[Image],
        refs: Sequence[str | None],
        as_photos: bool,
        text: str,
    ) -> list[Message]:
        media: list[InputMediaPhoto | InputMediaDocument] = []
        for index, (image, ref) in enumerate(zip(images, refs, strict=True)):
            content = ref if ref is not None else image.data
            first = text if index == 0 else None
            if as_photos:
                media.append(InputMediaPhoto(content, caption=first))
            else:
                name = file_name(generation, index, image)
                media.append(InputMediaDocument(content, caption=first, filename=name))
        return list(await self.bot.send_media_group(media=media, **target.kwargs()))

    async def originals(self, outcome: Outcome, target: Target) -> None:
        """The stored files of a generation as documents (the 'original file' button)."""
        if isinstance(outcome, Refused):
            await self.text(target, outcome.text)
            return
        assert isinstance(outcome, Delivered)
        generation = outcome.generation
        for index, image in enumerate(outcome.images):
            await self.bot.send_document(
                document=image.data, filename=file_name(generation, index, image), **target.kwargs()
            )


class ChatActions:
    """Shows `upload_photo` in a chat while any draw there runs: one loop per chat, not per draw."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._users: dict[tuple[int, int | None], int] = {}
        self._loops: dict[tuple[int, int | None], asyncio.Task[None]] = {}

    @contextlib.asynccontextmanager
    async def showing(self, target: Target) -> AsyncIterator[None]:
        key = (target.chat_id, target.thread_id)
        self._users[key] = self._users.get(key, 0) + 1
        if key not in self._loops:
            self._loops[key] = asyncio.create_task(self._loop(*key), name=f"chat-action:{key}")
        try:
            yield
        finally:
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
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
