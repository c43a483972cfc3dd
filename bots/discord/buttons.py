"""The buttons under a picture: persistent (they work after a restart) and meaningless here.

A press hands the raw custom_id to the handler; core reads it (`g:<action>:<id>`, and the
older `drawbot:<action>:<id>`). Labels, order and rows come from core's `Pictures.buttons`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from core.answer import Action, Button

# What a press is handed to: the interaction and the button's custom_id, raw.
Press = Callable[[discord.Interaction[Any], str], Awaitable[None]]

# Every custom_id of ours, new and old; core judges what it says.
TEMPLATE = r"(?:g|drawbot):[a-z]+:\d{1,18}"
# Presentation only: the primary button stands out, the others do not.
STYLES = {Action.AGAIN: discord.ButtonStyle.primary, Action.CANCEL: discord.ButtonStyle.danger}


class ResultButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """One of our buttons; `result_button` makes the class whose presses are answered."""

    def __init__(
        self,
        custom_id: str,
        label: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id, row=row))

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ResultButton:
        return cls(match.string, getattr(item, "label", None))


def result_button(press: Press) -> type[ResultButton]:
    """The button class to register and to post, each press going to `press`."""

    class Answered(ResultButton, template=TEMPLATE):
        async def callback(self, interaction: discord.Interaction[Any]) -> None:
            await press(interaction, self.item.custom_id or "")

    return Answered


def view_of(button_type: type[ResultButton], rows: Sequence[Sequence[Button]]) -> discord.ui.View:
    """core's rows of buttons as a persistent view."""
    view = discord.ui.View(timeout=None)
    for number, row in enumerate(rows):
        for button in row:
            style = STYLES.get(button.action, discord.ButtonStyle.secondary)
            view.add_item(button_type(button.data, button.label, style, number))
    return view
