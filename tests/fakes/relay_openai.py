"""The fake relay's OpenAI image endpoints: ``/v1/images/generations`` (JSON) and
``/v1/images/edits`` (multipart: an ``image`` file part and text fields, the picture kept in
``call.source``). Errors are the relay's usual ``Reply.openai_error`` answers."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .relay_checks import size_of

if TYPE_CHECKING:
    from .relay import Call, FakeRelay, Reply

GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"


async def read_openai(request: web.Request, call: Call) -> None:
    """An edit's form: its text fields as ``call.body``, its image as ``call.source``."""
    try:
        form = await request.post()
    except ValueError:
        call.body = None
        return
    fields: dict[str, Any] = {}
    for name, value in form.items():
        if isinstance(value, web.FileField):
            if name == "image":
                call.source = value.file.read()
        else:
            fields[name] = value
    call.body = fields


async def openai_ok(relay: FakeRelay, reply: Reply, call: Call) -> web.Response:
    """``{created, data: [{url} | {b64_json}]}`` with an ``X-Request-Id`` header."""
    body: dict[str, Any] = call.body
    as_base64 = reply.as_base64
    if as_base64 is None:
        as_base64 = body.get("response_format", "url") == "b64_json"
    call.seed = secrets.randbelow(2**31)
    images = await relay.pictures(reply, call, size_of(body.get("size")), as_base64)
    key = "b64_json" if as_base64 else "url"
    data = [{key: image, "revised_prompt": f"{body['prompt']}, detailed"} for image in images]
    request_id = secrets.token_hex(16)
    headers = {"X-Request-Id": request_id}
    return web.json_response({"created": int(time.time()), "data": data}, headers=headers)
