"""What a draw comes to: the images (Delivered) or the reason it did not (Refused)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core import messages
from core.images import Image
from core.records import Denied, Generation

if TYPE_CHECKING:
    from core.config import Settings
    from core.keeper import Download


@dataclass(frozen=True)
class Delivered:
    """A finished draw: the record and its images (again, when `repeat` is true). `later`:
    the images are still downloading (core/keeper.py); `images` is empty meanwhile and the
    relay's links are in the record."""

    generation: Generation
    images: list[Image]
    repeat: bool = False
    later: Download | None = None


@dataclass(frozen=True)
class Refused:
    """No image: `reason` is a messages.py key and `text` the sentence for the user."""

    reason: str
    text: str
    silent: bool = False
    generation_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


Outcome = Delivered | Refused


def refusal(denied: Denied, lang: str, reset: datetime, settings: Settings) -> Refused:
    """A reservation the limits refused, as its sentence: the limit (in units where some
    model costs other than one), when it resets, and for a model costing more than what is
    left, what is left and what it costs."""
    values: dict[str, Any] = {
        "limit": denied.limit,
        "reset": reset.strftime("%H:%M"),
        "zone": settings.timezone,
        "left": max(0, denied.limit - denied.used),
        "cost": denied.cost,
    }
    if denied.until is not None:
        values["seconds"] = max(1, round(denied.until - time.time()))
    key = denied.reason
    if key in ("user_daily", "chat_daily") and any(m.cost != 1 for m in settings.models.models):
        key = f"{key}_units"
    return Refused(denied.reason, messages.text(key, lang, **values), detail=values)
