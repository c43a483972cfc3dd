"""What core hands back to an adapter: a sentence, pictures with caption and buttons, or nothing.

Adapters render these; the caption's layout, the buttons and their order, and every sentence
are decided here. Platform limits (caption length, how length is counted, escaping) are
passed in by the adapter as plain values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from core import messages
from core.images import Image
from core.models import JIMENG_21, Model
from core.records import Generation

if TYPE_CHECKING:
    from core.keeper import Download

CAPTION_PROMPT_LIMIT = 900


class Action(StrEnum):
    """What a button under a picture does; the same names on every platform."""

    AGAIN = "again"  # draw the same prompt with a new seed
    RESIZE = "resize"  # the same seed at the other shape (see resize_choice)
    ORIGINAL = "original"  # send the stored file again, free
    CANCEL = "cancel"  # drop a draw that waits or runs (under its status)


# `g:<action>:<id>`; Discord's older buttons say `drawbot:`, Telegram's `size` and `orig`.
_BUTTON = re.compile(r"^(?:g|drawbot):([a-z]+):(\d{1,18})$")
_OLD_NAMES = {"size": Action.RESIZE, "orig": Action.ORIGINAL}


@dataclass(frozen=True)
class Button:
    """One button: what it does to which generation, and its label in the user's language."""

    action: Action
    generation_id: int
    label: str

    @property
    def data(self) -> str:
        """What the platform carries back when it is pressed (callback data, custom_id)."""
        return f"g:{self.action}:{self.generation_id}"


def parse_button(data: str) -> tuple[Action, int] | None:
    """A button's data as (action, generation id); None for anything else."""
    found = _BUTTON.match(data)
    if found is None:
        return None
    name = found[1]
    action = _OLD_NAMES.get(name) or (Action(name) if name in set(Action) else None)
    return (action, int(found[2])) if action is not None else None


def resize_choice(generation: Generation, model: Model = JIMENG_21) -> tuple[int, int]:
    """The size offered by the 'same seed, other size' button, among the sizes of the
    picture's `model`: a square turned 3:2, a landscape turned upright, a portrait squared
    (768x512, 512x768 and 768x768 for Jimeng 2.1)."""
    width, height = generation.params.width, generation.params.height
    if width == height:
        turned = model.size_for_ratio(3, 2)
    elif width > height:
        turned = (
            (height, width) if model.allows(height, width) else model.size_for_ratio(height, width)
        )
    else:
        turned = model.size_for_ratio(1, 1)
    return turned or model.default_size


def caption(
    generation: Generation,
    lang: str,
    *,
    prompt_limit: int = CAPTION_PROMPT_LIMIT,
    limit: int | None = None,
    measure: Callable[[str], int] = len,
    escape: Callable[[str], str] = str,
    model: str = "",
) -> str:
    """Prompt, size, seed and id, and the `model` note when there is one (core/model_views).
    The prompt is cut to `prompt_limit` characters before it is escaped and, with `limit`,
    until the whole caption fits it as `measure` counts."""

    def render(prompt: str) -> str:
        params = generation.params
        values = {"size": params.size, "seed": params.seed, "id": generation.id}
        if model:
            key, values = "caption_model", values | {"model": escape(model)}
        else:
            key = "caption"
        return messages.text(key, lang, prompt=escape(prompt), **values)

    prompt = generation.params.prompt
    while True:
        if len(prompt) > prompt_limit:
            prompt = prompt[: max(0, prompt_limit - 1)].rstrip() + "…"
        text = render(prompt)
        over = 0 if limit is None else measure(text) - limit
        if over <= 0 or prompt_limit <= 1:
            return text
        prompt_limit = max(1, min(prompt_limit, len(prompt)) - over)


@dataclass(frozen=True)
class Say:
    """A sentence for the asker."""

    text: str


@dataclass(frozen=True)
class Pictures:
    """A generation's images, with everything an adapter needs to post them.

    `original` marks the stored files sent again on request: as files, to the asker only
    where the platform can, without buttons. `later`: the images are still downloading
    (`images` is empty; `urls` are the relay's links, which a platform may fetch itself);
    `loaded` waits for them."""

    generation: Generation
    images: list[Image]
    lang: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    original: bool = False
    later: Download | None = None
    model: str = ""  # the model's note in the caption ("" without MODELS_FILE)

    @property
    def urls(self) -> list[str]:
        """The relay's links to the images, where every one is known."""
        count = len(self.images) or len(self.generation.image_meta)
        links = [self.generation.relay_url(index) for index in range(count)]
        return [link for link in links if link] if all(links) else []

    async def loaded(self) -> Pictures:
        """These pictures with their images (downloaded if they still were); none when the
        download failed."""
        if self.images or self.later is None:
            return self
        return replace(self, images=await self.later.images(), later=None)

    def caption(
        self,
        *,
        prompt_limit: int = CAPTION_PROMPT_LIMIT,
        limit: int | None = None,
        measure: Callable[[str], int] = len,
        escape: Callable[[str], str] = str,
    ) -> str:
        return caption(
            self.generation,
            self.lang,
            prompt_limit=prompt_limit,
            limit=limit,
            measure=measure,
            escape=escape,
            model=self.model,
        )

    def file_name(self, index: int) -> str:
        return f"drawbot-{self.generation.id}-{index + 1}.{self.images[index].extension}"

    def too_large(self, index: int, limit_bytes: int) -> str:
        """The sentence for an image over the platform's upload limit (linked if it can be)."""
        url = self.generation.relay_url(index)
        return messages.text(
            "too_large_link" if url else "too_large",
            self.lang,
            n=index + 1,
            size=len(self.images[index].data) / 2**20,
            limit=limit_bytes / 2**20,
            url=url or "",
        )

    @property
    def send_failed(self) -> str:
        """The sentence when the platform refused the pictures; when they could not even be
        downloaded (so nothing is kept for /original either), that one."""
        later = self.later.task if self.later is not None else None
        if later is not None and later.done() and not later.cancelled() and not later.exception():
            missing = not later.result()
        else:
            missing = self.later is None and not self.images
        key = "image" if missing and not self.original else "send_failed"
        return messages.text(key, self.lang, id=self.generation.id)

    @property
    def posted(self) -> str:
        """A short line standing for the post (Discord's resolved placeholder)."""
        return f"✅ #{self.generation.id}"


def result_buttons(
    generation: Generation, lang: str, model: Model = JIMENG_21
) -> tuple[tuple[Button, ...], ...]:
    """Again and same-seed-other-size (a size of the picture's `model`) on the first row,
    the original file on the second."""
    width, height = resize_choice(generation, model)
    gid = generation.id
    return (
        (
            Button(Action.AGAIN, gid, messages.text("button_again", lang)),
            Button(
                Action.RESIZE, gid, messages.text("button_resize", lang, size=f"{width}x{height}")
            ),
        ),
        (Button(Action.ORIGINAL, gid, messages.text("button_original", lang)),),
    )


Answer = Say | Pictures | None


@dataclass(frozen=True)
class Receipt:
    """What an adapter delivered for a generation: the platform's own file references."""

    generation_id: int
    platform: str
    file_refs: list[str] = field(default_factory=list)
