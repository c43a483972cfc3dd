"""Every interaction as one core Request, and core's answer rendered on Discord.

An interaction is acknowledged at once with an ephemeral "thinking…" (Discord's 3 s; it is
the progress indicator), then handed to `core.front` as text (a slash command, written out by
bots/discord/commands.py) or as a button's raw custom_id. The answer is rendered:
a sentence replaces the placeholder (ephemeral, in the user's locale); pictures resolve the
placeholder and are posted as a public follow-up with buttons (Discord gives the first
follow-up the defer's visibility, so the placeholder is edited first and deleted once the
pictures are up); stored originals go to the asker alone.

Files over the interaction's upload limit are split across follow-ups; an image too large on
its own is re-encoded to fit (core.images.fit_within, in a thread). One that cannot be is left
out with core's sentence (it stays on disk and in /history); when no image could be attached,
the draw is reported undelivered (not charged) and the asker told why. Stored originals are
never re-encoded: they are asked for as they were drawn.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from dataclasses import replace
from typing import Any

import discord

from bots.discord.buttons import ResultButton, result_button, view_of
from bots.discord.status import DiscordStatus
from core import messages
from core.answer import Answer, Pictures, Receipt, Say
from core.images import Image, fit_within
from core.request import ChatAdminCheck, Picture, Place, Progress, Request, Requester
from core.root import Core

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Any]

NO_MENTIONS = discord.AllowedMentions.none()
CONTENT_MAX = 2000
CAPTION_PROMPT_MAX = 800
FILES_PER_MESSAGE = 10
ALREADY_ACKNOWLEDGED = 40060  # Discord's code when an interaction was answered before

# -- plain values from an interaction ---------------------------------------------------------


def language_code(interaction: Interaction) -> str | None:
    """The user's locale as Discord sent it ("zh-CN"); None when it sent none."""
    locale = getattr(interaction, "locale", None)
    value = getattr(locale, "value", None)
    return value if isinstance(value, str) and value else None


def requester_of(interaction: Interaction) -> Requester:
    user = interaction.user
    name = getattr(user, "display_name", None) or getattr(user, "name", None)
    return Requester("discord", str(user.id), name or None, language_code(interaction))


def place_of(interaction: Interaction) -> Place:
    """The server in a server (its limits and switches are the server's), else the DM."""
    if interaction.guild_id is not None:
        title = interaction.guild.name if interaction.guild else None
        return Place("discord", str(interaction.guild_id), title, is_group=True)
    return Place("discord", str(interaction.channel_id), "DM", is_group=False)


def manager_check(interaction: Interaction) -> ChatAdminCheck:
    """Whether the member may manage this server (asked by core only when it matters)."""

    async def manages_server() -> bool:
        if interaction.guild_id is None:
            return False
        return bool(interaction.permissions.manage_guild)

    return manages_server


def address_of(interaction: Interaction) -> str | None:
    """Where the bot can post to the asker later (after a restart): the channel, when the bot
    is there; None where it runs only as someone's own app (another server, another DM)."""
    users_app_only = interaction.is_user_integration() and not interaction.is_guild_integration()
    in_own_dm = interaction.guild_id is None and interaction.context.dm_channel
    if users_app_only and not in_own_dm:
        return None
    return f"{interaction.channel_id}:{interaction.user.id}"


def request_of(
    interaction: Interaction,
    *,
    text: str = "",
    button: str | None = None,
    redelivered: bool,
    progress: Progress | None = None,
    picture: Picture | None = None,
) -> Request:
    return Request(
        requester=requester_of(interaction),
        place=place_of(interaction),
        text=text,
        button=button,
        source_key=f"discord:{interaction.id}",
        redelivered=redelivered,
        chat_admin=manager_check(interaction),
        admin_prefix="/admin ",
        address=address_of(interaction),
        progress=progress,
        picture=picture,
    )


def picture_of(attachment: discord.Attachment | None) -> Picture | None:
    """An attachment to edit, with the size Discord declares (known before downloading),
    downloaded from Discord's CDN only when core edits it."""
    return None if attachment is None else Picture(attachment.read, attachment.size)


def upload_batches(images: list[Image], limit: int) -> tuple[list[list[int]], list[int]]:
    """Indexes of images grouped so each message stays within `limit` bytes; and those too big."""
    batches: list[list[int]] = []
    too_big: list[int] = []
    current: list[int] = []
    total = 0
    for index, image in enumerate(images):
        size = len(image.data)
        if size > limit:
            too_big.append(index)
            continue
        if current and (total + size > limit or len(current) == FILES_PER_MESSAGE):
            batches.append(current)
            current, total = [], 0
        current.append(index)
        total += size
    if current:
        batches.append(current)
    return batches, too_big


async def fit_uploads(images: list[Image], limit: int) -> list[Image]:
    """Each image over the upload `limit` re-encoded to fit, off the event loop; one that
    cannot be stays as it is (and `upload_batches` leaves it out)."""
    fitted: list[Image] = []
    for image in images:
        smaller = None
        if len(image.data) > limit:
            smaller = await asyncio.to_thread(fit_within, image, limit)
        fitted.append(smaller or image)
    return fitted


def let_go(files: list[discord.File]) -> None:
    """Free the upload copies of sent files now. aiohttp copies a BytesIO it uploads (4 MB
    for a 4 MB picture), and the request objects that hold it are freed by the cycle collector,
    not when the send returns: 100 draws in flight held dozens of them (README, Benchmarks)."""
    for file in files:
        file.close()  # gives the BytesIO its close() back (discord.py stubs it while sending)
        file.fp.close()  # frees its buffer, whoever still holds the BytesIO


# -- handlers ---------------------------------------------------------------------------------


class DiscordHandlers:
    """interaction -> Request -> core's answer -> Discord messages."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.front = core.front
        # Draws here are answered before their pictures are downloaded: the keeper fetches
        # them a few at a time (core/keeper.py), so a burst of draws does not hold every
        # picture in memory at once; each is uploaded as soon as it is here.
        core.service.download_later.add("discord")
        self.running: set[asyncio.Task[Any]] = set()
        self.answering: set[int] = set()  # the interactions being answered here
        self.button_type: type[ResultButton] = result_button(self.press)

    async def command(
        self, interaction: Interaction, text: str, image: discord.Attachment | None = None
    ) -> None:
        """A slash command, written out as the text core reads (with the picture it brings)."""
        await self.answer(interaction, text=text, picture=picture_of(image))

    async def press(self, interaction: Interaction, custom_id: str) -> None:
        """A button, by its custom_id as Discord carried it back."""
        await self.answer(interaction, button=custom_id)

    async def answer(
        self,
        interaction: Interaction,
        *,
        text: str = "",
        button: str | None = None,
        picture: Picture | None = None,
    ) -> None:
        """Acknowledge, ask core, render; any unexpected error still gets a sentence."""
        if interaction.id in self.answering:  # delivered twice at once: one copy answers
            await self.acknowledge(interaction)  # (its placeholder, whichever copy made it)
            return
        self.answering.add(interaction.id)
        task = asyncio.current_task()
        if task is not None:
            self.running.add(task)
        try:
            redelivered = await self.acknowledge(interaction)
            if redelivered is None:
                return
            status = DiscordStatus(interaction, self.button_type)
            request = request_of(
                interaction,
                text=text,
                button=button,
                redelivered=redelivered,
                progress=status,
                picture=picture,
            )
            answer = await self.front.handle(request)
            await self.render(interaction, answer, redelivered=redelivered)
        except Exception:
            log.exception("discord: interaction %s failed", interaction.id)
            with contextlib.suppress(discord.HTTPException):
                await self.say(interaction, messages.text("error", self.lang(interaction)))
        finally:
            self.answering.discard(interaction.id)
            if task is not None:
                self.running.discard(task)

    def lang(self, interaction: Interaction) -> str:
        """The asker's language, as core resolves it (for the generic error sentence)."""
        return self.core.service.lang(requester_of(interaction))

    # -- answering --------------------------------------------------------------------------

    async def acknowledge(self, interaction: Interaction) -> bool | None:
        """Defer ephemerally. False: fresh; True: Discord says it was acknowledged before (a
        redelivery, which core answers only if it never saw it); None: it cannot be answered."""
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            return False
        except discord.HTTPException as error:
            log.warning("discord: could not acknowledge interaction %s: %s", interaction.id, error)
            if error.code != ALREADY_ACKNOWLEDGED:
                return None
        interaction.extras["acknowledged"] = True
        return True

    async def render(self, interaction: Interaction, answer: Answer, *, redelivered: bool) -> None:
        if isinstance(answer, Say):
            await self.say(interaction, answer.text)
        elif isinstance(answer, Pictures):
            await self.post(interaction, answer)
        elif not redelivered:  # nothing to say: do not leave "thinking…" spinning
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()

    async def say(self, interaction: Interaction, text: str) -> None:
        """An ephemeral sentence: the answer, or the deferred placeholder's replacement."""
        text = text[:CONTENT_MAX]
        if interaction.response.is_done() or interaction.extras.get("acknowledged"):
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )

    async def fitted(self, pictures: Pictures, limit: int) -> Pictures:
        """The pictures (once downloaded, if they still were) with each image over the upload
        `limit` re-encoded to fit; stored originals as they are."""
        pictures = await pictures.loaded()
        if pictures.original or all(len(image.data) <= limit for image in pictures.images):
            return pictures
        return replace(pictures, images=await fit_uploads(pictures.images, limit))

    def messages_of(
        self, pictures: Pictures, limit: int, mention: str = ""
    ) -> list[dict[str, Any]]:
        """The messages that post `pictures`, as send() keywords: the first with the caption
        (after `mention`, with a line for each image too large to attach) and the buttons, the
        files grouped so each message stays within the upload `limit`."""
        batches, too_big = upload_batches(pictures.images, limit)
        caption = pictures.caption(
            prompt_limit=CAPTION_PROMPT_MAX,
            limit=CONTENT_MAX,
            escape=discord.utils.escape_markdown,
        )
        lines = [caption, *(pictures.too_large(index, limit) for index in too_big)]
        messages: list[dict[str, Any]] = [
            {
                "files": [
                    discord.File(
                        io.BytesIO(pictures.images[i].data), filename=pictures.file_name(i)
                    )
                    for i in batch
                ]
            }
            for batch in batches or [[]]
        ]
        messages[0]["content"] = (mention + "\n".join(lines))[:CONTENT_MAX]
        if pictures.buttons and not pictures.original:
            messages[0]["view"] = view_of(self.button_type, pictures.buttons)
        return messages

    async def post(self, interaction: Interaction, pictures: Pictures) -> None:
        """Pictures as follow-ups: public with buttons, or only to the asker (originals)."""
        public = not pictures.original
        limit = interaction.filesize_limit
        pictures = await self.fitted(pictures, limit)
        messages = self.messages_of(pictures, limit)
        if public and not any(m["files"] for m in messages):  # none attached: not delivered
            await self.none_attached(interaction, pictures, limit)
            return
        if public:  # resolve the ephemeral placeholder, so the next follow-up can be public
            with contextlib.suppress(discord.NotFound):  # a duplicate's answer removed it
                await interaction.edit_original_response(
                    content=pictures.posted, allowed_mentions=NO_MENTIONS
                )
        try:
            for message in messages:
                try:
                    await interaction.followup.send(
                        ephemeral=not public, allowed_mentions=NO_MENTIONS, **message
                    )
                finally:
                    let_go(message["files"])
        except discord.HTTPException:
            log.exception("discord: could not send generation %d", pictures.generation.id)
            instead = await self.front.undelivered(pictures)
            with contextlib.suppress(discord.HTTPException):
                await interaction.edit_original_response(
                    content=instead.text, allowed_mentions=NO_MENTIONS
                )
            return
        try:  # posted: a failure to note it is not the user's
            await self.front.delivered(Receipt(pictures.generation.id, "discord", []))
        except Exception:
            log.exception("discord: could not note delivery of %d", pictures.generation.id)
        if public:
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()

    async def none_attached(self, interaction: Interaction, pictures: Pictures, limit: int) -> None:
        """Every image is over the upload limit even re-encoded: the draw is refunded, and the
        asker told why (with the relay's links while they last) and that it did not count."""
        instead = await self.front.undelivered(pictures)
        lines = [pictures.too_large(index, limit) for index in range(len(pictures.images))]
        text = "\n".join([*lines, instead.text])[:CONTENT_MAX]
        with contextlib.suppress(discord.HTTPException):
            await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)
