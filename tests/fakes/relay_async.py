"""The fake relay's asynchronous pair at the Volcengine path: ``CVSync2AsyncSubmitTask`` makes
a task (in_queue), and each ``CVSync2AsyncGetResult`` poll moves it on: in_queue, generating
for ``polls`` polls, then done with its images; ``Reply.task(status)`` forces a poll's status
(``not_found`` or ``expired``: a lost task, answered with ``code`` 10000 like Volcengine)."""

from __future__ import annotations

import json
import random
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

if TYPE_CHECKING:
    from .relay import Call, FakeRelay, Reply

SUBMIT = "CVSync2AsyncSubmitTask"
RESULT = "CVSync2AsyncGetResult"
TaskStatus = Literal["in_queue", "generating", "done", "not_found", "expired"]


@dataclass
class AsyncTask:
    """An asynchronous task: what was submitted and how many polls it has answered."""

    body: dict[str, Any]
    reply: Reply  # the submit's Reply.ok (images, image_status...)
    polls: int  # polls answering in_queue / generating before done
    seen: int = 0


def volc_request_id() -> str:
    """A Volcengine-looking request id: timestamp + hex."""
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(9).upper()


def submitted(relay: FakeRelay, reply: Reply, call: Call) -> web.Response:
    """CVSync2AsyncSubmitTask: a new task, in_queue."""
    task_id = str(random.randrange(10**18, 10**19))
    polls = relay.task_polls if reply.polls is None else reply.polls
    relay.submitted[task_id] = AsyncTask(call.body, reply, polls)
    request_id = volc_request_id()
    payload = {
        "code": 10000,
        "data": {"task_id": task_id},
        "message": "Success",
        "request_id": request_id,
        "status": 10000,
        "time_elapsed": relay.elapsed(call),
    }
    return web.json_response(payload)


async def polled(relay: FakeRelay, reply: Reply, call: Call) -> web.Response:
    """CVSync2AsyncGetResult: the task's state, moving in_queue -> generating -> done one
    poll at a time (or ``reply.task_status`` whatever the state)."""
    task = relay.submitted.get(call.body["task_id"])
    if task is not None and task.body["req_key"] != call.body["req_key"]:
        task = None
    status: str = reply.task_status or ("not_found" if task is None else "done")
    if task is not None and reply.task_status is None and task.seen < task.polls:
        status = "in_queue" if task.seen == 0 else "generating"
        task.seen += 1
    call.task_status = status
    if status != "done" or task is None:
        return relay.volc_ok(call, reply, [], False, status=status)
    options = json.loads(call.body.get("req_json") or "{}")
    as_base64 = task.reply.as_base64
    if as_base64 is None:
        as_base64 = options.get("return_url", False) is not True  # Volcengine's default
    size = task.body.get("width") or 1328, task.body.get("height") or 1328
    call.seed = relay.seed_of(task.body)
    images = await relay.pictures(task.reply, call, size, as_base64)
    return relay.volc_ok(call, task.reply, images, as_base64, status=status)
