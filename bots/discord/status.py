"""A draw's status on Discord, as core reports it (core.request.Progress): the deferred
"thinking…" reply, seen only by the asker, edited to say where the draw stands, with a
cancel button. The answer itself replaces it when the draw ends."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import discord

from bots.discord.buttons import ResultButton, view_of
from core.answer import Button

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


class DiscordStatus:
    """One interaction's placeholder, kept current."""

    def __init__(
        self, interaction: discord.Interaction[Any], button_type: type[ResultButton]
    ) -> None:
        self.interaction = interaction
        self.button_type = button_type

    async def reserved(self) -> None:
        """The deferred reply already shows it is seen."""

    async def queued(self, text: str, cancel: Button) -> None:
        await self._show(text, cancel)

    async def drawing(self, text: str, cancel: Button, elapsed: float) -> None:
        """The deferred "thinking…" already says it started: only later times are shown."""
        if elapsed > 0:
            await self._show(text, cancel)

    async def finished(self) -> None:
        """The answer replaces the placeholder; nothing to take down here."""

    async def _show(self, text: str, cancel: Button) -> None:
        with contextlib.suppress(discord.HTTPException):
            await self.interaction.edit_original_response(
                content=text,
                view=view_of(self.button_type, [[cancel]]),
                allowed_mentions=NO_MENTIONS,
            )
