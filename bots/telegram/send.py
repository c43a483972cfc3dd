"""Telegram output: sentences, photos with caption and buttons, documents, albums.

Everything here turns core's answers into Bot API calls; nothing decides anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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
from telegram.error import BadRequest, TelegramError

from core.answer import Pictures
from core.images import Image

log = logging.getLogger(__name__)

CAPTION_MAX = 1024  # UTF-16 code units, counted after entity parsing
TEXT_MAX = 4096
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES = 10_000  # width + height


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def photo_caption(pictures: Pictures) -> str:
    """Core's caption, cut to Telegram's 1024 UTF-16 units; sent without a parse mode,
    so `<`, `&`, `_` and `*` in prompts need no escaping."""
    return pictures.caption(limit=CAPTION_MAX, measure=utf16_len)


def keyboard(pictures: Pictures) -> InlineKeyboardMarkup | None:
    """Core's buttons, row by row, each carrying its data back as callback data."""
    if not pictures.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(button.label, callback_data=button.data) for button in row]
            for row in pictures.buttons
        ]
    )


def fits_photo(image: Image) -> bool:
    """Telegram's sendPhoto limits: 10 MB, width + height at most 10000, ratio at most 20."""
    if len(image.data) > PHOTO_MAX_BYTES or image.width + image.height > PHOTO_MAX_SIDES:
        return False
    small, large = sorted((image.width, image.height))
    return small == 0 or large / small <= 20


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
    """Posts core's answers to a chat; returns Telegram's file ids of what it posted."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def text(
        self, target: Target, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        if utf16_len(text) > TEXT_MAX:
            text = text[: TEXT_MAX // 2 - 1] + "…"
        await self.bot.send_message(text=text, reply_markup=markup, **target.kwargs())

    async def pictures(self, pictures: Pictures, target: Target) -> list[str] | None:
        """Photo(s) with caption and buttons, or the stored files as documents. The file ids
        of what was posted; None when Telegram refused them."""
        try:
            if pictures.original:
                sent = await self._documents(pictures, target)
            else:
                sent = await self._send_images(pictures, target)
        except TelegramError as error:
            log.warning(
                "sending generation %d to telegram failed: %s", pictures.generation.id, error
            )
            return None
        return [ref for ref in map(file_id_of, sent) if ref]

    async def _documents(self, pictures: Pictures, target: Target) -> list[Message]:
        """The stored files as they are (what /original and its button ask for)."""
        return [
            await self.bot.send_document(
                document=image.data, filename=pictures.file_name(index), **target.kwargs()
            )
            for index, image in enumerate(pictures.images)
        ]

    async def _send_images(self, pictures: Pictures, target: Target) -> list[Message]:
        """Send by Telegram file id when known; upload the bytes if the ids are refused."""
        known = pictures.generation.file_refs.get("telegram") or []
        count = len(pictures.images)
        refs: list[str | None] = list(known) if len(known) == count else [None] * count
        try:
            return await self._send_once(pictures, target, refs)
        except BadRequest as error:
            if not any(refs):
                raise
            log.info("resend by file id failed (%s); uploading again", error)
            return await self._send_once(pictures, target, [None] * count)

    async def _send_once(
        self, pictures: Pictures, target: Target, refs: Sequence[str | None]
    ) -> list[Message]:
        text, markup = photo_caption(pictures), keyboard(pictures)
        images = pictures.images
        as_photos = all(fits_photo(image) for image in images)
        if len(images) == 1:
            content = refs[0] or images[0].data
            common = {"caption": text, "reply_markup": markup, **target.kwargs()}
            if as_photos:
                return [await self.bot.send_photo(photo=content, **common)]
            name = pictures.file_name(0)
            return [await self.bot.send_document(document=content, filename=name, **common)]
        album = await self._album(pictures, target, refs, as_photos, text)
        # An album cannot carry buttons: they follow in a short message of their own.
        if markup is not None:
            await self.text(target, text.splitlines()[-1], markup)
        return album

    async def _album(
        self,
        pictures: Pictures,
        target: Target,
        refs: Sequence[str | None],
        as_photos: bool,
        text: str,
    ) -> list[Message]:
        media: list[InputMediaPhoto | InputMediaDocument] = []
        for index, (image, ref) in enumerate(zip(pictures.images, refs, strict=True)):
            content = ref if ref is not None else image.data
            first = text if index == 0 else None
            if as_photos:
                media.append(InputMediaPhoto(content, caption=first))
            else:
                name = pictures.file_name(index)
                media.append(InputMediaDocument(content, caption=first, filename=name))
        return list(await self.bot.send_media_group(media=media, **target.kwargs()))
