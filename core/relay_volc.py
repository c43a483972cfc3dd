"""The Volcengine families at the relay's `/volcv` path (YUNAPI_T2I_PATH): one CVProcess call
(volc-sync, the seed's Jimeng 2.1), or a task submitted once and polled (volc-async, Jimeng
3.0, 3.1, 4.0: CVSync2AsyncSubmitTask, then CVSync2AsyncGetResult until it is done)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from typing import Any

import stamina

from core.params import DEFAULT_SCALE
from core.relay_errors import RelayInternal, RelayTaskLost
from core.relay_http import Drawn, RelayHttp, Task, texts
from core.relay_job import RelayJob

log = logging.getLogger(__name__)

VERSION = "2022-08-31"
SYNC_QUERY = {"Action": "CVProcess", "Version": VERSION}
SUBMIT_QUERY = {"Action": "CVSync2AsyncSubmitTask", "Version": VERSION}
RESULT_QUERY = {"Action": "CVSync2AsyncGetResult", "Version": VERSION}
# Pauses between polls of a task: 1 s, growing by half up to 5 s (none in stamina's test mode).
FIRST_POLL = 1.0
LONGEST_POLL = 5.0
WAITING = ("in_queue", "generating")
LOST = ("not_found", "expired")


def _data(body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def _request_id(body: dict[str, Any]) -> str | None:
    found = body.get("request_id") or _data(body).get("request_id")
    return str(found) if found else None


def _source(job: RelayJob) -> dict[str, Any]:
    """The picture to edit, as Volcengine's image-to-image models take it (none: nothing)."""
    if job.source is None:
        return {}
    return {"binary_data_base64": [base64.b64encode(job.source.data).decode()]}


async def _drawn(http: RelayHttp, body: dict[str, Any], download: bool) -> Drawn:
    data = _data(body)
    request_id = _request_id(body)
    urls = texts(data.get("image_urls"))
    images = await http.images(urls, texts(data.get("binary_data_base64")), request_id, download)
    rephrased = data.get("rephraser_result") or None
    return Drawn(images, request_id, str(rephrased) if rephrased else None, urls)


class VolcSync:
    """volc-sync: one CVProcess call with the model's req_key."""

    def __init__(self, http: RelayHttp, path: str) -> None:
        self.http = http
        self.path = path

    async def draw(self, job: RelayJob, task: Task, download: bool) -> Drawn:
        payload = job.params.to_payload(job.watermark, req_key=job.model.model_id)
        body, _ = await self.http.send(self.path, params=SYNC_QUERY, json=payload | _source(job))
        return await _drawn(self.http, body, download)


class VolcAsync:
    """volc-async: submit the task once (unless `task` already has its id), then poll it."""

    def __init__(self, http: RelayHttp, path: str) -> None:
        self.http = http
        self.path = path

    async def draw(self, job: RelayJob, task: Task, download: bool) -> Drawn:
        if task.task_id is None:
            await self._submit(job, task)
        assert task.task_id is not None
        return await self._poll(job, task.task_id, download)

    async def _submit(self, job: RelayJob, task: Task) -> None:
        params = job.params
        payload: dict[str, Any] = {
            "req_key": job.model.model_id,
            "prompt": params.prompt,
            "seed": -1 if params.seed is None else params.seed,
            "width": params.width,
            "height": params.height,
            "use_pre_llm": params.expand,
        }
        if params.scale != DEFAULT_SCALE:  # the models' own default otherwise
            payload["scale"] = params.scale
        body, _ = await self.http.send(self.path, params=SUBMIT_QUERY, json=payload | _source(job))
        task_id = _data(body).get("task_id")
        if not isinstance(task_id, str | int) or isinstance(task_id, bool) or not str(task_id):
            raise RelayInternal("the relay accepted the task without a task id")
        log.info("relay task %s submitted request_id=%s", task_id, _request_id(body))
        task.submitted(str(task_id))

    async def _poll(self, job: RelayJob, task_id: str, download: bool) -> Drawn:
        """Ask for the task's result until it is done or lost (the caller's deadline ends
        the waiting)."""
        req_json = json.dumps({"return_url": True, "logo_info": job.watermark.to_logo_info()})
        query = {"req_key": job.model.model_id, "task_id": task_id, "req_json": req_json}
        pause = FIRST_POLL
        while True:
            body, _ = await self.http.send(self.path, params=RESULT_QUERY, json=query)
            status = _data(body).get("status")
            if status == "done":
                return await _drawn(self.http, body, download)
            if status in LOST:
                raise RelayTaskLost(
                    f"task {task_id} is {status}", code=str(status), request_id=_request_id(body)
                )
            if status not in WAITING:
                raise RelayInternal(f"task {task_id} has an unknown status {status!r:.40}")
            await asyncio.sleep(0.0 if stamina.is_testing() else pause)
            pause = min(pause * 1.5, LONGEST_POLL)
