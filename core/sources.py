"""Pictures to edit: which model edits one, fetching it within MAX_INPUT_IMAGE_BYTES, and
keeping it (KEEP_INPUT_IMAGES) or not.

A request may bring a picture (a /draw replying to a photo, an attachment: `Request.picture`).
It matters only when the model table has a model that edits (`edits = true`); otherwise the
picture is ignored and never downloaded. Every refusal here comes before anything is reserved.

An edit's `generations.source_path` is the kept input's path, or `SOURCE_NOT_KEPT` when the
input lived only in memory (or retention removed it); NULL marks a draw from text alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import replace
from pathlib import Path

from core import messages
from core.config import Settings
from core.images import Image, ImageError, sniff
from core.kept import remove_files
from core.ledger import Ledger
from core.models import Model, ModelTable
from core.outcome import Refused
from core.params import DrawParams
from core.request import Picture, Place
from core.store import Store
from core.store_thread import StoreThread

log = logging.getLogger(__name__)

FETCH_SECONDS = 60.0  # the platform's download of a picture to edit
SOURCE_NOT_KEPT = ""  # source_path of an edit whose input picture is not (or no longer) kept


def shown_bytes(size: int) -> str:
    """A size as people read it: `10 MB`, `2.5 MB`, `800 KB`."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(size / 1000))} KB"


def editor(table: ModelTable, chosen: str, chat_default: str | None) -> Model | None:
    """The model that edits the picture: the one chosen with --model (None if it cannot
    edit); with no choice (`chosen` is what the parser fills in then: the chat's default, else
    the table's) the chat's default model if it edits, else the deployment's default if it
    edits, else the table's first editing model."""
    model = table.get(chosen)
    chat = table.get(chat_default) if chat_default else None
    unchosen = {table.default.name, chat.name if chat else table.default.name}
    if model is not None and model.name not in unchosen:
        return model if model.edits else None
    defaults = (chat, table.default)
    return next((m for m in defaults if m is not None and m.edits), table.editors[0])


def kept_source(path: str) -> Picture | None:
    """The kept input picture of an edit, as a request would bring it; None when not kept."""
    if not path or not os.path.isfile(path):
        return None

    async def read() -> bytes:
        return await asyncio.to_thread(Path(path).read_bytes)

    return Picture(read, os.path.getsize(path))


def save_source(folder: Path, generation_id: int, image: Image) -> str:
    """Write an edit's input picture as `<id>-source.<ext>`; SOURCE_NOT_KEPT when the disk
    refuses (the draw goes on from memory)."""
    path = folder / f"{generation_id}-source.{image.extension}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(image.data)
    except OSError as error:
        log.warning("generation %d: the input picture not kept (%s)", generation_id, error)
        with contextlib.suppress(OSError):  # a partly written file
            remove_files([str(path)])
        return SOURCE_NOT_KEPT
    return str(path)


class Sources:
    """Decides whether a draw edits a picture, with which model, and fetches the picture."""

    def __init__(self, settings: Settings, store: StoreThread, ledger: Ledger) -> None:
        self.settings = settings
        self.store = store
        self.ledger = ledger

    async def start(
        self, place: Place, params: DrawParams, picture: Picture | None, lang: str
    ) -> tuple[DrawParams, Image | None] | Refused:
        """The params to draw (naming the editing model) and the picture to edit; or the
        sentence refusing it. No editing model in the table: `params` as they are, no picture."""
        table = self.settings.models
        if picture is None or not table.editors:
            return params, None
        chat = await self.store.run(Store.chat, place.key) or {}
        model = editor(table, params.model, chat.get("model"))
        if model is None:
            return self.cannot_edit(params.model, lang)
        image = await self.fetch(picture, lang)
        if isinstance(image, Refused):
            return image
        params = replace(params, model=model.name)
        if not model.allows(params.width, params.height):  # sized for another model
            size = model.size_for_ratio(image.width or 1, image.height or 1)
            width, height = size or model.default_size
            params = replace(params, width=width, height=height)
        return params, image

    def cannot_edit(self, name: str, lang: str) -> Refused:
        table = self.settings.models
        shown = table.model(name).name
        editors = ", ".join(m.name for m in table.editors)
        example = table.editors[0].name
        values = {"model": shown, "editors": editors, "example": example}
        return Refused("model_cannot_edit", messages.text("model_cannot_edit", lang, **values))

    async def fetch(self, picture: Picture, lang: str) -> Image | Refused:
        """The picture, checked: within the cap (the declared size before downloading, the
        real one after) and an image."""
        cap = self.settings.max_input_image_bytes
        if picture.size is not None and picture.size > cap:
            return self.too_large(picture.size, lang)
        try:
            async with asyncio.timeout(FETCH_SECONDS):
                data = await picture.fetch()
        except Exception as error:  # the platform's download failed, whatever its kind
            log.warning("the picture to edit could not be fetched (%s)", type(error).__name__)
            return Refused("source_unfetchable", messages.text("source_unfetchable", lang))
        if len(data) > cap:
            return self.too_large(len(data), lang)
        try:
            return sniff(bytes(data))
        except ImageError:
            return Refused("source_not_image", messages.text("source_not_image", lang))

    def too_large(self, size: int, lang: str) -> Refused:
        limit = shown_bytes(self.settings.max_input_image_bytes)
        text = messages.text("source_too_large", lang, size=shown_bytes(size), limit=limit)
        return Refused("source_too_large", text)

    async def keep(self, folder: Path, generation_id: int, source: Image | None) -> None:
        """Note that the draw edits a picture; with KEEP_INPUT_IMAGES, keep the picture in
        `folder` (the generated images' own) for 'again'."""
        if source is None:
            return
        path = SOURCE_NOT_KEPT
        if self.settings.keep_input_images:
            path = await asyncio.to_thread(save_source, folder, generation_id, source)
        await self.ledger.write_or_later(Store.record_source, generation_id, path)
