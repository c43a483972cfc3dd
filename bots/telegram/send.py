"""Telegram output: sentences, photos with caption and buttons, documents, albums.

Everything here turns core's answers into Bot API calls; nothing decides anything.

A picture over Telegram's photo limits (10 MB, width + height 10000) is re-encoded to fit as
a photo rather than sent as a file: Telegram shows every photo recompressed to at most 2560 px
anyway, so a JPEG under 10 MB loses nothing a viewer sees, while a file would show as an icon
to tap and download, without preview, and turn the whole album into files. The picture as it
was drawn stays one button away (/original sends the kept files). Only what cannot become a
photo (a ratio over 20, an undecodable file) goes as a document: as it is up to the 50 MB a
bot may upload, re-encoded beyond; past that nothing is sent and core is told it was not
delivered (so it is not charged).
"""

from __future__ import annotations

import asyncio
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
from core.images import Image, fit_within

log = logging.getLogger(__name__)

CAPTION_MAX = 1024  # UTF-16 code units, counted after entity parsing
TEXT_MAX = 4096
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES = 10_000  # width + height
UPLOAD_MAX_BYTES = 50 * 1024 * 1024  # what a bot may upload to api.telegram.org
URL_PHOTO_MAX_BYTES = 5 * 1024 * 1024  # what Telegram fetches itself for sendPhoto by URL


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


class Unsendable(Exception):
    """A picture Telegram would refuse whatever we do: not uploaded at all."""


async def postable(images: Sequence[Image]) -> tuple[list[Image], bool]:
    """The images as they will be posted, and whether as photos (see the module docstring):
    photos, re-encoded where over the photo limits; else documents, re-encoded only over the
    upload limit. Re-encoding runs in a thread. Unsendable when even a document cannot be."""
    photos: list[Image] = []
    for image in images:
        fitted: Image | None = image
        if not fits_photo(image):
            fitted = await asyncio.to_thread(
                fit_within, image, PHOTO_MAX_BYTES, max_side_sum=PHOTO_MAX_SIDES
            )
        if fitted is None or not fits_photo(fitted):
            break
        photos.append(fitted)
    else:
        return photos, True
    return [await as_document(image) for image in images], False


async def as_document(image: Image) -> Image:
    """The image as it is when Telegram takes it as a file; else re-encoded to fit."""
    if len(image.data) <= UPLOAD_MAX_BYTES:
        return image
    fitted = await asyncio.to_thread(fit_within, image, UPLOAD_MAX_BYTES)
    if fitted is None:
        raise Unsendable(f"{image!r} is over Telegram's {UPLOAD_MAX_BYTES} byte upload limit")
    return fitted


def file_name(pictures: Pictures, index: int, image: Image) -> str:
    """Core's name for the file, with the extension of what is sent (a JPEG once re-encoded)."""
    stem = pictures.file_name(index).rpartition(".")[0]
    return f"{stem}.{image.extension}"


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


def photo_url(pictures: Pictures, images: Sequence[Image], as_photos: bool) -> str | None:
    """The relay's link to a single downloaded picture when Telegram may fetch it itself
    instead of being sent the bytes: a photo as drawn (not re-encoded) of at most 5 MB."""
    if not as_photos or len(images) != 1 or len(pictures.images) != 1:
        return None
    image = images[0]
    if image is not pictures.images[0] or len(image.data) > URL_PHOTO_MAX_BYTES:
        return None
    url = pictures.generation.relay_url(0)
    return url if url is not None and url.startswith(("https://", "http://")) else None


class Sender:
    """Posts core's answers to a chat; returns Telegram's file ids of what it posted.

    With `by_url`, a single photo goes as the relay's URL (Telegram fetches it: no upload
    from here); when Telegram refuses the URL (unreachable, expired, over its 5 MB for URL
    photos), the bytes are uploaded instead."""

    def __init__(self, bot: Bot, *, by_url: bool = False) -> None:
        self.bot = bot
        self.by_url = by_url

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
        except (TelegramError, Unsendable) as error:
            log.warning(
                "sending generation %d to telegram failed: %s", pictures.generation.id, error
            )
            return None
        return [ref for ref in map(file_id_of, sent) if ref]

    async def _documents(self, pictures: Pictures, target: Target) -> list[Message]:
        """The stored files as they are (what /original and its button ask for); one over the
        upload limit is not uploaded only to be refused."""
        for image in pictures.images:
            if len(image.data) > UPLOAD_MAX_BYTES:
                raise Unsendable(f"{image!r} is over Telegram's {UPLOAD_MAX_BYTES} byte limit")
        return [
            await self.bot.send_document(
                document=image.data, filename=pictures.file_name(index), **target.kwargs()
            )
            for index, image in enumerate(pictures.images)
        ]

    async def _by_link(self, pictures: Pictures, target: Target, url: str) -> list[Message]:
        """The photo as the relay's link, fetched by Telegram; nothing when it refuses it
        (unreachable, expired, over 5 MB) or links are off."""
        if not self.by_url:
            return []
        markup = keyboard(pictures)
        try:
            photo = await self.bot.send_photo(
                photo=url, caption=photo_caption(pictures), reply_markup=markup, **target.kwargs()
            )
        except BadRequest as error:
            gid = pictures.generation.id
            log.info("generation %d: telegram refused the photo's link (%s); uploading", gid, error)
            return []
        return [photo]

    async def _send_images(self, pictures: Pictures, target: Target) -> list[Message]:
        """Send by Telegram file id when known; upload the bytes if the ids are refused. A
        picture still downloading goes as its link if it can, else once downloaded."""
        link = True  # the link may be tried (once)
        if not pictures.images:
            urls = pictures.urls
            if len(urls) == 1 and (by_link := await self._by_link(pictures, target, urls[0])):
                return by_link
            link = len(urls) != 1
            pictures = await pictures.loaded()
            if not pictures.images:
                raise Unsendable(f"generation {pictures.generation.id}: no image to send")
        known = pictures.generation.file_refs.get("telegram") or []
        count = len(pictures.images)
        refs: list[str | None] = list(known) if len(known) == count else [None] * count
        try:
            return await self._send_once(pictures, target, refs, link)
        except BadRequest as error:
            if not any(refs):
                raise
            log.info("resend by file id failed (%s); uploading again", error)
            return await self._send_once(pictures, target, [None] * count, link)

    async def _send_once(
        self, pictures: Pictures, target: Target, refs: Sequence[str | None], link: bool = True
    ) -> list[Message]:
        text, markup = photo_caption(pictures), keyboard(pictures)
        images, as_photos = await postable(pictures.images)
        if len(images) == 1:
            content = refs[0] or images[0].data
            common = {"caption": text, "reply_markup": markup, **target.kwargs()}
            url = photo_url(pictures, images, as_photos) if link and refs[0] is None else None
            if url is not None and (by_link := await self._by_link(pictures, target, url)):
                return by_link
            if as_photos:
                return [await self.bot.send_photo(photo=content, **common)]
            name = file_name(pictures, 0, images[0])
            return [await self.bot.send_document(document=content, filename=name, **common)]
        album = await self._album(pictures, images, target, refs, as_photos, text)
        # An album cannot carry buttons: they follow in a short message of their own.
        if markup is not None:
            await self.text(target, text.splitlines()[-1], markup)
        return album

    async def _album(
        self,
        pictures: Pictures,
        images: Sequence[Image],
        target: Target,
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
                name = file_name(pictures, index, image)
                media.append(InputMediaDocument(content, caption=first, filename=name))
        return list(await self.bot.send_media_group(media=media, **target.kwargs()))
