"""What a draw comes to: the images (Delivered) or the reason it did not (Refused)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core import messages
from core.images import Image
from core.records import Denied, Generation


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


def denial(denied: Denied, reset: datetime, zone: str, lang: str) -> Refused:
    """The sentence for a reservation the limits refused (`reset`: when the day rolls over)."""
    values: dict[str, Any] = {"limit": denied.limit, "reset": reset.strftime("%H:%M"), "zone": zone}
    if denied.until is not None:
        values["seconds"] = max(1, round(denied.until - time.time()))
    return Refused(denied.reason, messages.text(denied.reason, lang, **values), detail=values)
