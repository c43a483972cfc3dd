"""What a draw comes to: the images (Delivered) or the reason it did not (Refused)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from core.images import Image
from core.records import Generation


@dataclass(frozen=True)
class Delivered:
    """A finished draw: the record and its images (again, when `repeat` is true). `later`:
    the images are still downloading (core/keeper.py); `images` is empty meanwhile and the
    relay's links are in the record."""

    generation: Generation
    images: list[Image]
    repeat: bool = False
    later: asyncio.Future[list[Image]] | None = None


@dataclass(frozen=True)
class Refused:
    """No image: `reason` is a messages.py key and `text` the sentence for the user."""

    reason: str
    text: str
    silent: bool = False
    generation_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


Outcome = Delivered | Refused
