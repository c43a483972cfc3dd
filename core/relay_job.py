"""RelayJob: one call to draw, as the relay seam takes it, whatever the model's API family."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.images import Image
from core.models import Model
from core.params import DrawParams, Watermark

# Told the task id of an asynchronous draw as soon as the relay gives it (to record it).
TaskSink = Callable[[str], object]


@dataclass(frozen=True)
class RelayJob:
    """The model, what to draw, the watermark resolved for it, and what to start from."""

    model: Model
    params: DrawParams
    watermark: Watermark
    source: Image | None = None  # the picture to edit (models with `edits`)
    task_id: str | None = None  # an asynchronous task submitted before (resumed, not redone)
