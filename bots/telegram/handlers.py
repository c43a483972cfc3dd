"""Telegram updates in, core's answers out: each update becomes one `Request` for the front
door; what it means (which command, which button, who may) is decided by core."""

from __future__ import annotations

import contextlib
import logging

from telegram import Bot, CallbackQuery, Chat, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bots.telegram.actions import ChatActions
from bots.telegram.send import Sender, Target
from bots.telegram.status import TelegramStatus
from core import messages
from core.answer import Answer, Receipt, Say
from core.request import ChatAdminCheck, Picture, Place, Request, Requester
from core.root import Core

log = logging.getLogger(__name__)

PLATFORM = "telegram"
GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
CHAT_ADMINS = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def requester_of(user: User) -> Requester:
    return Requester(PLATFORM, str(user.id), user.full_name, user.language_code)


def place_of(chat: Chat) -> Place:
    return Place(PLATFORM, str(chat.id), chat.title or chat.full_name, chat.type in GROUPS)


def target_of(message: Message) -> Target:
    """Answer in the message's chat and topic; in groups quote it (even once deleted)."""
    in_group = message.chat.type in GROUPS
    thread = message.message_thread_id if message.is_topic_message else None
    return Target(message.chat.id, message.message_id if in_group else None, thread)


def address_of(message: Message) -> str:
    """Where to reach the asker later (after a restart): chat, their message, topic."""
    thread = message.message_thread_id if message.is_topic_message else None
    return f"{message.chat.id}:{message.message_id}:{thread or ''}"


def target_at(address: str) -> Target:
    """The reply target an address stands for (see address_of)."""
    chat_id, message_id, thread = address.split(":")
    return Target(int(chat_id), int(message_id), int(thread) if thread else None)


def quoted(message: Message, bot_id: int) -> tuple[str, str | None]:
    """The replied-to message's text or caption, and its author unless that is the bot.
    In a forum topic Telegram sets every message's reply to the topic's first (service)
    message: that is no reply, nor its author whom `/ban` is about."""
    replied = message.reply_to_message
    if replied is None or replied.forum_topic_created is not None:
        return "", None
    author = replied.from_user
    author_id = str(author.id) if author is not None and author.id != bot_id else None
    return replied.text or replied.caption or "", author_id


def picture_of(message: Message, cap: int) -> Picture | None:
    """The picture a message brings to edit: its own (a photo or file sent with the caption
    `/draw …`), else the one it replies to. Of a photo's sizes, the largest within `cap`
    bytes (the smallest when none is: core refuses it by its declared size)."""
    for holder in (message, message.reply_to_message):
        if holder is None:
            continue
        if holder.photo:
            sizes = sorted(holder.photo, key=lambda size: size.width * size.height)
            within = [size for size in sizes if (size.file_size or 0) <= cap]
            chosen = within[-1] if within else sizes[0]
            return telegram_picture(message.get_bot(), chosen.file_id, chosen.file_size)
        if holder.document is not None:  # an image sent as a file (core checks it is one)
            document = holder.document
            return telegram_picture(message.get_bot(), document.file_id, document.file_size)
    return None


def telegram_picture(bot: Bot, file_id: str, size: int | None) -> Picture:
    """A file Telegram holds, downloaded (getFile, then the file) only when core asks."""

    async def fetch() -> bytes:
        file = await bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())

    return Picture(fetch, size)


def chat_admin_check(bot: Bot, chat: Chat, user: User, posted_as: Chat | None) -> ChatAdminCheck:
    """Asks Telegram whether `user` administers `chat`, once core needs to know. A message
    posted as the group itself (an anonymous admin) is an admin's."""

    async def check() -> bool:
        if posted_as is not None and posted_as.id == chat.id:
            return True
        try:
            member = await bot.get_chat_member(chat.id, user.id)
        except TelegramError as error:
            log.warning("getChatMember failed: %s", error)
            return False
        return member.status in CHAT_ADMINS

    return check


class TelegramHandlers:
    """The update handlers: Update -> Request -> core's answer -> Bot API calls."""

    def __init__(self, core: Core, bot: Bot) -> None:
        self.core = core
        self.bot = bot
        self.send = Sender(bot, by_url=core.settings.telegram_photo_by_url)
        if self.send.by_url:  # draws here are answered by link, downloaded meanwhile
            core.service.download_later.add(PLATFORM)
        self.actions = ChatActions(bot)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None or message.from_user is None:
            return
        user, chat = message.from_user, message.chat
        quoted_text, quoted_user_id = quoted(message, self.bot.id)
        target = target_of(message)
        request = Request(
            requester=requester_of(user),
            place=place_of(chat),
            text=message.text or message.caption or "",
            quoted_text=quoted_text,
            quoted_user_id=quoted_user_id,
            source_key=f"telegram:{chat.id}:{message.message_id}",
            bot_username=self.bot.username,
            chat_admin=chat_admin_check(self.bot, chat, user, message.sender_chat),
            progress=TelegramStatus(self.bot, self.actions, target),
            address=address_of(message),
            picture=picture_of(message, self.core.settings.max_input_image_bytes),
        )
        await self.render(await self.core.front.handle(request), target)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        await stop_spinner(query)
        message = query.message
        if message is None or query.data is None:
            return
        target = target_of(message) if isinstance(message, Message) else Target(message.chat.id)
        request = Request(
            requester=requester_of(query.from_user),
            place=place_of(message.chat),
            button=query.data,
            source_key=f"telegram:callback:{query.id}",
            bot_username=self.bot.username,
            chat_admin=chat_admin_check(self.bot, message.chat, query.from_user, None),
            progress=TelegramStatus(self.bot, self.actions, target),
            address=address_of(message) if isinstance(message, Message) else None,
        )
        await self.render(await self.core.front.handle(request), target)

    async def render(self, answer: Answer, target: Target) -> Receipt | None:
        """Say the sentence, or post the pictures and tell core they were delivered (with
        their Telegram file ids) or refused (core refunds them and gives the sentence)."""
        if answer is None:
            return None
        if isinstance(answer, Say):
            await self.send.text(target, answer.text)
            return None
        file_ids = await self.send.pictures(answer, target)
        if file_ids is None:
            instead = await self.core.front.undelivered(answer)
            with contextlib.suppress(TelegramError):
                await self.send.text(target, instead.text)
            return None
        receipt = Receipt(answer.generation.id, PLATFORM, [] if answer.original else file_ids)
        await self.core.front.delivered(receipt)
        return receipt

    async def courier(self, address: str, answer: Answer) -> Receipt | None:
        """Post an answer without an update to answer (core, after a restart)."""
        return await self.render(answer, target_at(address))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure (the log filter scrubs secrets) and still answer the user."""
        if isinstance(context.error, Forbidden):
            log.info("telegram: not allowed to answer (blocked or removed): %s", context.error)
            return
        log.error("telegram handler failed", exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        chat, user = update.effective_chat, update.effective_user
        requester = requester_of(user) if user is not None else Requester(PLATFORM, str(chat.id))
        message = update.effective_message
        target = target_of(message) if message is not None else Target(chat.id)
        try:
            await self.send.text(target, messages.text("error", self.core.service.lang(requester)))
        except TelegramError as error:
            log.warning("could not tell the user about the failure: %s", error)

    async def alert(self, kind: str, text: str) -> None:
        """An admin alert sink: DM every telegram:<id> in ADMIN_IDS."""
        for user_id in self.core.settings.admins_on(PLATFORM):
            try:
                await self.bot.send_message(int(user_id), text)
            except TelegramError as error:
                log.warning("could not alert admin %s (%s): %s", user_id, kind, error)


async def stop_spinner(query: CallbackQuery) -> None:
    """Answer the query; an old one (e.g. redelivered) cannot be answered, which is fine."""
    try:
        await query.answer()
    except TelegramError as error:
        log.info("callback query not answered: %s", error)
