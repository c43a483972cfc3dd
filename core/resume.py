"""Resuming an asynchronous draw a gone process left while the relay drew it: its task was
submitted and recorded (Store.record_task), so the adopting process polls that task, never
submits another, and records the images as generated (the draw stays charged once)."""

from __future__ import annotations

from core.images import Image
from core.models import Family, Model
from core.records import Generation, Status
from core.relay_job import RelayJob
from core.service import DrawService
from core.store import Store


def resumable(service: DrawService, generation: Generation) -> Model | None:
    """The asynchronous model whose recorded task `generation` waits for, or None."""
    if generation.status != Status.GENERATING or not generation.task_id:
        return None
    model = service.settings.models.model(generation.params.model)
    return model if model.family is Family.VOLC_ASYNC else None


async def resume(service: DrawService, generation: Generation, model: Model) -> list[Image]:
    """Poll the task within the relay's deadline and record its images (RelayError when it
    is lost or fails)."""
    base = service.settings.watermark
    mark = await service.store.run(Store.chat_watermark, generation.chat_key, base)
    watermark = generation.params.watermark.apply(mark)
    job = RelayJob(model, generation.params, watermark, task_id=generation.task_id)
    result = await service.relay.generate(job)  # downloads the images
    await service.keeper.record_generated(generation.id, result)
    return result.images
