"""What each Discord command and button does, in core calls; and how answers are sent.

A draw: parse the options with core's parser (a usage error is answered at once, ephemeral);
acknowledge with an ephemeral "thinking…" (the progress indicator, well within Discord's 3 s);
`DrawService.draw`; then a refusal replaces the placeholder (ephemeral, in the user's locale),
while an image resolves the placeholder and is posted as a public follow-up with buttons.
(Discord gives the first follow-up the defer's visibility, so the placeholder is edited first
and deleted once the image is up.)

Files over the interaction's upload limit are split across follow-ups; an image too large on
its own is left out with a sentence (it stays on disk and in /history).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any, Concatenate, ParamSpec

import discord

from bots.discord_commands import DrawButton
from core import messages
from core.account import caption, resize_choice
from core.admin import AdminContext
from core.chat import text_reply
from core.command import UsageError, parse_draw
from core.images import Image
from core.root import Core
from core.service import Delivered, Outcome, Place, Refused, Requester
from core.store import Generation, Store

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
CONTENT_MAX = 2000
FILES_PER_MESSAGE = 10

# -- plain values from an interaction ---------------------------------------------------------


def requester_of(interaction: discord.Interaction) -> Requester:
    user = interaction.user
    return Requester("discord", str(user.id), user.display_name, str(interaction.locale))


def place_of(interaction: discord.Interaction) -> Place:
    if interaction.guild_id is not None:
        title = interaction.guild.name if interaction.guild else None
        return Place("discord", str(interaction.guild_id), title, is_group=True)
    return Place("discord", str(interaction.channel_id), "DM", is_group=False)


def is_server_manager(interaction: discord.Interaction) -> bool:
    return interaction.guild_id is not None and interaction.permissions.manage_guild


def discord_caption(generation: Generation, lang: str) -> str:
    """core's caption with the prompt cut first, then markdown-escaped."""
    prompt = generation.params.prompt
    if len(prompt) > 800:
        prompt = prompt[:799].rstrip() + "…"
    escaped = discord.utils.escape_markdown(prompt)
    escaped_params = replace(generation.params, prompt=escaped)
    return caption(replace(generation, params=escaped_params), lang, prompt_limit=CONTENT_MAX)


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


def result_buttons(generation: Generation, lang: str) -> discord.ui.View:
    width, height = resize_choice(generation)
    view = discord.ui.View(timeout=None)
    view.add_item(DrawButton("again", generation.id, messages.text("button_again", lang)))
    resize = messages.text("button_resize", lang, size=f"{width}x{height}")
    view.add_item(DrawButton("resize", generation.id, resize))
    view.add_item(DrawButton("original", generation.id, messages.text("button_original", lang)))
    return view


# -- handlers ---------------------------------------------------------------------------------

P = ParamSpec("P")
Handler = Callable[Concatenate["Handlers", discord.Interaction, P], Coroutine[Any, Any, None]]


def entry(method: Handler[P]) -> Handler[P]:
    """Track the handler (for a clean shutdown) and answer any unexpected error."""

    @functools.wraps(method)
    async def wrapper(
        self: Handlers, interaction: discord.Interaction, /, *args: P.args, **kwargs: P.kwargs
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.running.add(task)
        try:
            await method(self, interaction, *args, **kwargs)
        except Exception:
            log.exception("discord: %s failed (interaction %s)", method.__name__, interaction.id)
            with contextlib.suppress(discord.HTTPException):
                await self.say(interaction, messages.text("error", self.lang(interaction)))
        finally:
            if task is not None:
                self.running.discard(task)

    return wrapper


class Handlers:
    """What each command and button does, in terms of core calls."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.running: set[asyncio.Task[Any]] = set()

    def lang(self, interaction: discord.Interaction) -> str:
        return self.core.service.lang(requester_of(interaction))

    @entry
    async def draw(self, interaction: discord.Interaction, text: str) -> None:
        requester = requester_of(interaction)
        try:
            params = parse_draw(text)
        except UsageError as error:
            await self.say(interaction, error.text(self.core.service.lang(requester)))
            return
        key = f"discord:{interaction.id}"
        if await self.acknowledge(interaction, key):
            outcome = await self.core.service.draw(
                requester, place_of(interaction), params, source_key=key
            )
            await self.deliver(interaction, outcome)

    @entry
    async def redo(self, interaction: discord.Interaction, generation_id: int | None) -> None:
        key = f"discord:{interaction.id}"
        if await self.acknowledge(interaction, key):
            outcome = await self.core.account.redo(
                requester_of(interaction), place_of(interaction), generation_id, source_key=key
            )
            await self.deliver(interaction, outcome)

    @entry
    async def button(
        self, interaction: discord.Interaction, action: str, generation_id: int
    ) -> None:
        requester, place = requester_of(interaction), place_of(interaction)
        key = f"discord:{interaction.id}"
        if not await self.acknowledge(interaction, key):
            return
        account = self.core.account
        if action == "original":
            outcome = await account.original(requester, generation_id, place)
            await self.deliver(interaction, outcome, public=False)
            return
        outcome = await account.redo(
            requester,
            place,
            generation_id,
            new_seed=action == "again",
            turn=action == "resize",
            source_key=key,
            anyone=True,
        )
        await self.deliver(interaction, outcome)

    @entry
    async def text(self, interaction: discord.Interaction, command: str) -> None:
        ctx = AdminContext(requester_of(interaction), place_of(interaction))
        reply = await text_reply(self.core, command, "", ctx)
        await self.say(interaction, reply or messages.text("usage", self.lang(interaction)))

    @entry
    async def admin(self, interaction: discord.Interaction, command: str, args: list[str]) -> None:
        # Deferred: /admin balance asks the relay, which may take more than Discord's 3 s.
        await interaction.response.defer(ephemeral=True, thinking=True)
        ctx = AdminContext(
            requester_of(interaction),
            place_of(interaction),
            is_chat_admin=is_server_manager(interaction),
            command_prefix="/admin ",
        )
        await self.say(interaction, await self.core.admin.run(command, args, ctx))

    @entry
    async def original(self, interaction: discord.Interaction, generation_id: int) -> None:
        """`/original <id>`: a stored picture again, only to the asker, never charged."""
        if await self.acknowledge(interaction, f"discord:{interaction.id}"):
            outcome = await self.core.account.original(
                requester_of(interaction), generation_id, place_of(interaction)
            )
            await self.deliver(interaction, outcome, public=False)

    # -- answering --------------------------------------------------------------------------

    async def acknowledge(self, interaction: discord.Interaction, source_key: str) -> bool:
        """Defer ephemerally; False when this interaction cannot or need not be answered here.

        A redelivered interaction was already acknowledged (40060): it is only worked on if its
        draw never reached the store; the earlier delivery answers otherwise."""
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            return True
        except discord.HTTPException as error:
            log.warning("discord: could not acknowledge interaction %s: %s", interaction.id, error)
            if error.code != 40060:
                return False
        interaction.extras["acknowledged"] = True
        seen = await self.core.store.run(Store.by_source, source_key)
        return seen is None

    async def say(self, interaction: discord.Interaction, text: str) -> None:
        """An ephemeral sentence: the answer, or the deferred placeholder's replacement."""
        text = text[:CONTENT_MAX]
        if interaction.response.is_done() or interaction.extras.get("acknowledged"):
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )

    async def deliver(
        self, interaction: discord.Interaction, outcome: Outcome, *, public: bool = True
    ) -> None:
        """A refusal as an ephemeral sentence; images as follow-ups (public ones with buttons)."""
        lang = self.lang(interaction)
        if isinstance(outcome, Refused):
            await self.say(interaction, outcome.text)
            return
        assert isinstance(outcome, Delivered)
        generation, images = outcome.generation, outcome.images
        limit = interaction.filesize_limit
        batches, too_big = upload_batches(images, limit)
        lines = [discord_caption(generation, lang)]
        for index in too_big:
            size = len(images[index].data) / 2**20
            url = generation.relay_url(index)
            lines.append(
                messages.text(
                    "too_large_link" if url else "too_large",
                    lang,
                    n=index + 1,
                    size=size,
                    limit=limit / 2**20,
                    url=url,
                )
            )
        content = "\n".join(lines)[:CONTENT_MAX]
        if public:  # resolve the ephemeral placeholder, so the next follow-up can be public
            await interaction.edit_original_response(
                content=f"✅ #{generation.id}", allowed_mentions=NO_MENTIONS
            )
        try:
            for number, batch in enumerate(batches or [[]]):
                extra: dict[str, Any] = {}
                if number == 0:
                    extra["content"] = content
                    if public:
                        extra["view"] = result_buttons(generation, lang)
                files = [
                    discord.File(
                        io.BytesIO(images[i].data),
                        filename=f"drawbot-{generation.id}-{i + 1}.{images[i].extension}",
                    )
                    for i in batch
                ]
                await interaction.followup.send(
                    files=files, ephemeral=not public, allowed_mentions=NO_MENTIONS, **extra
                )
        except discord.HTTPException:
            log.exception("discord: could not send generation %d", generation.id)
            with contextlib.suppress(discord.HTTPException):
                await interaction.edit_original_response(
                    content=messages.text("send_failed", lang, id=generation.id),
                    allowed_mentions=NO_MENTIONS,
                )
            return
        if public:
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
