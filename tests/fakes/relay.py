"""A fake YunApi relay in front of Volcengine Jimeng and OpenAI-style image models, for tests.

Usage::

    async with FakeRelay(api_key="test-key") as relay:
        relay.script(Reply.volc_error(50412), Reply.ok())
        ...  # POST f"{relay.base_url}/volcv?Action=CVProcess&Version=2022-08-31"

It answers Volcengine's ``CVProcess``, the asynchronous pair ``CVSync2AsyncSubmitTask`` /
``CVSync2AsyncGetResult`` at the same path (tests/fakes/relay_async.py: a task stays in_queue,
then generating, for ``task_polls`` polls, then is done), and ``/v1/images/generations`` and
``/v1/images/edits`` (tests/fakes/relay_openai.py). Every valid call, submits and polls
included, takes the next scripted reply: ``Reply.ok()`` on a poll answers the task's state,
``Reply.task("expired")`` a lost task. Models it knows: ``req_keys`` (Volcengine) and
``openai_models``.

Validation errors (bad key, bad query, bad body) are answered first and never consume
the script queue. When the queue is empty, ``relay.default`` (``Reply.ok()``) is used.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import secrets
import time
from collections import deque
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any, Literal

from aiohttp import web
from multidict import CIMultiDict

from .base import FakeServer, notify
from .photo import MIME, PhotoFormat, make_photo
from .png import make_png
from .relay_async import (
    RESULT,
    SUBMIT,
    AsyncTask,
    TaskStatus,
    polled,
    submitted,
    volc_request_id,
)
from .relay_billing import Billing
from .relay_checks import validate_body, validate_openai, validate_poll, validate_submit
from .relay_openai import EDITS, GENERATIONS, openai_ok, read_openai

REQ_KEY = "high_aes_general_v21_L"
ACTION = "CVProcess"
VERSION = "2022-08-31"
OPENAI_MODEL = "gpt-image-1"

VOLC_MESSAGES: dict[int, str] = {
    50400: "Invalid parameter",
    50411: "Pre Img Risk Not Pass",
    50412: "Text Risk Not Pass",
    50413: "Post Text Risk Not Pass",
    50429: "Request Has Reached API Limit, please try later",
    50430: "Request Has Reached API Concurrent Limit, please try later",
    50500: "Internal Error",
    50501: "Internal RPC Error",
    50511: "Post Img Risk Not Pass",
    50512: "Post Text Risk",
    50519: "Post Img Risk",
}
VOLC_HTTP_STATUS: dict[int, int] = {50429: 429, 50430: 429, 50500: 500, 50501: 500}
"""Default HTTP status per Volcengine code; anything not listed answers 400."""

ReplyKind = Literal["ok", "volc_error", "openai_error", "html", "empty", "drop", "raw", "task"]


@dataclass(frozen=True)
class Reply:
    """One scripted behaviour of the fake relay; build it with the constructors below.

    Every constructor takes ``delay``: seconds to wait (on top of the relay's global
    ``latency``) before answering.
    """

    kind: ReplyKind = "ok"
    delay: float = 0.0
    # ok
    images: int | None = None
    as_base64: bool | None = None
    no_images: bool = False
    null_lists: bool = False
    image_status: int = 200
    image_bytes: int | None = None
    image_delay: float = 0.0
    realistic: bool | None = None
    image_serves: int | None = None
    image_delay_agent: str | None = None
    polls: int | None = None  # an async task's polls before done (None: the relay's task_polls)
    task_status: TaskStatus | None = None  # a poll's forced status (Reply.task)
    image_status_agent: str | None = None
    # errors / raw
    status: int | None = None
    code: int | str | None = None
    message: str | None = None
    error_type: str | None = None
    retry_after: float | None = None
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def ok(
        images: int | None = None,
        as_base64: bool | None = None,
        empty: bool = False,
        delay: float = 0.0,
        image_status: int = 200,
        image_bytes: int | None = None,
        image_delay: float = 0.0,
        null_lists: bool = False,
        realistic: bool | None = None,
        image_serves: int | None = None,
        image_delay_agent: str | None = None,
        polls: int | None = None,
        image_status_agent: str | None = None,
    ) -> Reply:
        """Success (HTTP 200, ``code`` 10000).

        images: images in this answer (None = the relay's ``images_per_call``).
        as_base64: True -> ``binary_data_base64``; False -> ``image_urls``;
            None -> follow the request's ``return_url`` (default true).
        empty: answer success with no images at all.
        null_lists: send ``null`` instead of ``[]`` for empty image lists.
        image_status: HTTP status the image URLs answer (e.g. 404).
        image_bytes: make each image URL serve exactly this many bytes (a PNG padded
            with zeros, streamed) to emulate a huge image.
        image_delay: seconds the image URL waits before answering.
        realistic: photographic-like pictures (`tests.fakes.photo`: 2.8 MB of PNG at
            1536x1024) instead of gradients; None = the relay's ``realistic``.
        image_serves: each image URL answers this many downloads, then 404 (an expired
            link); None = for ever.
        image_delay_agent: ``image_delay`` only for downloads whose User-Agent starts with
            this (``drawbot``: the bot's own, not Telegram's fetch of the link).
        image_status_agent: ``image_status`` only for downloads whose User-Agent starts
            with this (the link gone by the time the bot fetches it, after Telegram did).
        """
        return Reply(
            "ok",
            delay=delay,
            images=images,
            as_base64=as_base64,
            no_images=empty,
            null_lists=null_lists,
            image_status=image_status,
            image_bytes=image_bytes,
            image_delay=image_delay,
            realistic=realistic,
            image_serves=image_serves,
            image_delay_agent=image_delay_agent,
            polls=polls,
            image_status_agent=image_status_agent,
        )

    @staticmethod
    def task(status: TaskStatus, delay: float = 0.0) -> Reply:
        """A poll (CVSync2AsyncGetResult) answering this status whatever the task's state:
        ``not_found`` or ``expired`` for a lost task (``code`` 10000, like Volcengine)."""
        return Reply("task", delay=delay, task_status=status)

    @staticmethod
    def volc_error(
        code: int, message: str | None = None, http_status: int | None = None, delay: float = 0.0
    ) -> Reply:
        """Volcengine-shaped error ``{"code", "message", "request_id", "status", ...}``.

        message defaults to the known text for ``code`` (see ``VOLC_MESSAGES``);
        http_status defaults to 429 for 50429/50430, 500 for 50500/50501, else 400
        (pass 200 to emulate relays that wrap errors in HTTP 200).
        """
        status = http_status or VOLC_HTTP_STATUS.get(code, 400)
        text = message or VOLC_MESSAGES.get(code, "Unknown Error")
        return Reply("volc_error", delay=delay, code=code, message=text, status=status)

    @staticmethod
    def openai_error(
        http_status: int,
        message: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        error_type: str | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """Relay (new-api / OpenAI) error ``{"error": {"message", "type", "code"}}``.

        Defaults per status: 401 invalid key ("无效的令牌", ``invalid_api_key``),
        403 no balance ("用户额度不足", ``insufficient_user_quota``), 429 rate limit
        (``rate_limit_exceeded``). retry_after adds a ``Retry-After`` header (seconds).
        A ``(request id: ...)`` suffix is appended to default messages only.
        """
        return Reply(
            "openai_error",
            delay=delay,
            status=http_status,
            message=message,
            code=code,
            error_type=error_type,
            retry_after=retry_after,
        )

    @staticmethod
    def html(status: int = 502, delay: float = 0.0) -> Reply:
        """An nginx-style HTML error page (Content-Type text/html)."""
        return Reply("html", delay=delay, status=status)

    @staticmethod
    def empty(status: int = 200, delay: float = 0.0) -> Reply:
        """An empty body (Content-Type application/json, Content-Length 0)."""
        return Reply("empty", delay=delay, status=status)

    @staticmethod
    def drop(delay: float = 0.0) -> Reply:
        """Close the connection without answering (client sees a protocol error)."""
        return Reply("drop", delay=delay)

    @staticmethod
    def hang(seconds: float, then: Reply | None = None) -> Reply:
        """Answer only after ``seconds`` (for client timeouts), then act like ``then`` (ok)."""
        return replace(then or Reply.ok(), delay=seconds)

    @staticmethod
    def raw(
        status: int,
        body: bytes | str | dict[str, Any] | list[Any],
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """Anything else: a literal answer (dict/list bodies are JSON-encoded)."""
        if isinstance(body, dict | list):
            body = json.dumps(body, ensure_ascii=False)
        if isinstance(body, str):
            body = body.encode()
        items = tuple((headers or {}).items())
        return Reply(
            "raw", delay=delay, status=status, body=body, content_type=content_type, headers=items
        )


@dataclass
class Call:
    """One request to the API path, as the fake saw and answered it."""

    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]
    started_at: float  # time.monotonic()
    finished_at: float | None = None
    body: Any = None  # parsed JSON (normally a dict); None if not JSON
    raw: bytes = b""
    error: str | None = None  # validation error message, if validation failed
    reply: Reply | None = None  # scripted behaviour used (None if validation failed)
    status: int | None = None  # HTTP status sent; None if dropped or cancelled
    seed: int | None = None  # seed actually used on success (random when -1)
    size: tuple[int, int] | None = None  # (width, height) of generated images
    image_urls: list[str] = field(default_factory=list)
    source: bytes | None = None  # the input picture of an edit, as received
    task_status: str | None = None  # what a poll answered

    @property
    def action(self) -> str:
        """CVProcess, CVSync2AsyncSubmitTask, CVSync2AsyncGetResult, generations or edits."""
        return self.query.get("Action") or self.path.rpartition("/")[2]

    @property
    def sources(self) -> list[bytes]:
        """The input pictures the call sent (``binary_data_base64``), decoded."""
        found = self.body.get("binary_data_base64") if isinstance(self.body, dict) else None
        return [base64.b64decode(s) for s in found or []]


@dataclass
class _Image:
    width: int
    height: int
    seed: int
    reply: Reply  # carries image_status / image_bytes / image_delay
    realistic: bool = False


# ---------------------------------------------------------------- the relay


class FakeRelay(FakeServer):
    """In-process aiohttp server imitating the YunApi relay (see the module's docstring).

    api_key: expected ``Authorization: Bearer <api_key>``.
    path: API path (e.g. "/volcv" or "/volcv/v1"); images are served at /images/<id>.png
        (.jpg for realistic JPEG).
    latency: seconds every API call waits before answering (asyncio.sleep; calls overlap).
    images_per_call: images per success when ``Reply.ok(images=None)``.
    realistic: serve photographic-like pictures of realistic size (`tests.fakes.photo`, cached
        per size and seed bucket) unless a reply says otherwise; else small gradient PNGs.
    image_format: "png" or "jpeg", for realistic pictures (gradients are always PNG).
    req_keys: the Volcengine models it draws (default Jimeng 2.1 alone); openai_models: the
        OpenAI-style ones (default gpt-image-1). A test adds the ones its table names.
    task_polls: polls an asynchronous task answers in_queue / generating before done.
    """

    def __init__(
        self,
        api_key: str = "test-key",
        path: str = "/volcv",
        latency: float = 0.0,
        images_per_call: int = 1,
        realistic: bool = False,
        image_format: PhotoFormat = "png",
        req_keys: set[str] | None = None,
        openai_models: set[str] | None = None,
        task_polls: int = 2,
    ) -> None:
        super().__init__()
        self.req_keys = req_keys if req_keys is not None else {REQ_KEY}
        self.billing = Billing(api_key)  # /balance: set granted and used_cents to answer
        self.openai_models = openai_models if openai_models is not None else {OPENAI_MODEL}
        self.task_polls = task_polls
        self.submitted: dict[str, AsyncTask] = {}  # asynchronous tasks by id
        self.api_key = api_key
        self.path = "/" + path.strip("/")
        self.latency = latency
        self.images_per_call = images_per_call
        self.realistic = realistic
        self.image_format: PhotoFormat = image_format
        self.default: Reply = Reply.ok()
        self.calls: list[Call] = []
        self.in_flight = 0
        self.max_concurrency_seen = 0
        # Like Volcengine's per-key concurrency: beyond this many draws at once, 50430 at once.
        self.concurrency_limit: int | None = None
        self.drawing = 0  # valid calls being drawn now (the limit counts these)
        self.pushed_back = 0  # calls answered 50430 because of concurrency_limit
        self.image_fetches = 0
        self.image_agents: list[str] = []  # the User-Agent of every image download, in order
        self._queue: deque[Reply] = deque()
        self._images: dict[str, _Image] = {}
        self._served: dict[str, int] = {}  # downloads of images whose links expire
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------ public helpers

    @property
    def endpoint(self) -> str:
        """Full API URL including the Action/Version query."""
        return f"{self.base_url}{self.path}?Action={ACTION}&Version={VERSION}"

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        return len(self._queue)

    def script(self, *replies: Reply) -> None:
        """Queue behaviours for the next valid calls, in order."""
        self._queue.extend(replies)

    # ------------------------------------------------------------ lifecycle

    def routes(self, app: web.Application) -> None:
        app.router.add_post(self.path, self._handle_api)
        app.router.add_post(GENERATIONS, self._handle_api)
        app.router.add_post(EDITS, self._handle_api)
        app.router.add_get("/images/{name}", self._handle_image)
        self.billing.routes(app)

    async def closing(self) -> None:
        """Cancel in-flight handlers (hangs, slow images)."""
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------ API handler

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        call = Call(
            path=request.path,
            query=dict(request.query),
            headers=request.headers.copy(),
            started_at=time.monotonic(),
        )
        self.calls.append(call)
        self.in_flight += 1
        self.max_concurrency_seen = max(self.max_concurrency_seen, self.in_flight)
        notify()
        try:
            response = await self._answer(request, call)
            call.status = None if call.reply and call.reply.kind == "drop" else response.status
            return response
        finally:
            self.in_flight -= 1
            call.finished_at = time.monotonic()
            self._tasks.discard(task)

    async def _answer(self, request: web.Request, call: Call) -> web.StreamResponse:
        if call.path == EDITS:
            await read_openai(request, call)
        else:
            call.raw = await request.read()
            try:
                call.body = json.loads(call.raw)
            except ValueError:
                call.body = None
        if (invalid := self._validate(request, call)) is not None:
            await asyncio.sleep(self.latency)
            return invalid
        if isinstance(call.body, dict) and call.body.get("binary_data_base64"):
            call.source = base64.b64decode(call.body["binary_data_base64"][0])
        if call.action == RESULT:  # a poll draws nothing: not counted against the limit
            return await self._scripted(request, call)
        limit = self.concurrency_limit
        if limit is not None and self.drawing >= limit:
            self.pushed_back += 1
            call.reply = Reply.volc_error(50430)
            return self._volc_error(call, 50430, VOLC_MESSAGES[50430], 429)
        self.drawing += 1
        try:
            return await self._scripted(request, call)
        finally:
            self.drawing -= 1

    async def _scripted(self, request: web.Request, call: Call) -> web.StreamResponse:
        reply = self._queue.popleft() if self._queue else self.default
        call.reply = reply
        await asyncio.sleep(self.latency + reply.delay)
        if reply.kind in ("ok", "task") and call.action == RESULT:
            return await polled(self, reply, call)
        if reply.kind == "ok" and call.action == SUBMIT:
            return submitted(self, reply, call)
        if reply.kind == "ok" and call.path in (GENERATIONS, EDITS):
            return await openai_ok(self, reply, call)
        if reply.kind == "ok":
            return await self._ok(reply, call)
        if reply.kind == "volc_error":
            assert isinstance(reply.code, int) and reply.message and reply.status
            return self._volc_error(call, reply.code, reply.message, reply.status)
        if reply.kind == "openai_error":
            return self._openai_error(reply)
        if reply.kind == "html":
            return self._html(reply.status or 502)
        if reply.kind == "empty":
            return web.Response(status=reply.status or 200, content_type="application/json")
        if reply.kind == "drop":
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=200)  # never reaches the client
        return web.Response(
            status=reply.status or 200,
            body=reply.body,
            content_type=reply.content_type,
            headers=dict(reply.headers),
        )

    def _validate(self, request: web.Request, call: Call) -> web.Response | None:
        """The answer to an invalid request (recording why), or None when valid."""
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            call.error = "invalid api key"
            return self._openai_error(Reply.openai_error(401))
        if call.path in (GENERATIONS, EDITS):
            return self._invalid_openai(call)
        actions = (ACTION, SUBMIT, RESULT)
        if request.query.get("Action") not in actions or request.query.get("Version") != VERSION:
            call.error = f"Action must be one of {', '.join(actions)} and Version {VERSION}"
            return self._openai_error(
                Reply.openai_error(
                    400,
                    message=f"Invalid Action or Version: {call.error}",
                    code="invalid_action",
                    error_type="invalid_request_error",
                )
            )
        check = {ACTION: validate_body, SUBMIT: validate_submit, RESULT: validate_poll}
        if call.body is None:
            error = "request body is not valid JSON"
        else:
            error = check[call.action](call.body, self.req_keys)
        if not error:
            return None
        call.error = error
        return self._volc_error(call, 50400, f"Invalid parameter: {error}", 400)

    # ------------------------------------------------------------ answers

    def _invalid_openai(self, call: Call) -> web.Response | None:
        error = validate_openai(call.body, self.openai_models)
        if call.path == EDITS and not error and call.source is None:
            error = "image is required (a file part)"
        if not error:
            return None
        call.error = error
        reply = Reply.openai_error(
            400, message=error, code="invalid_request", error_type="invalid_request_error"
        )
        return self._openai_error(reply)

    def elapsed(self, call: Call) -> str:
        return f"{time.monotonic() - call.started_at:.9f}s"

    def _volc_error(self, call: Call, code: int, message: str, status: int) -> web.Response:
        payload = {
            "code": code,
            "data": None,
            "message": message,
            "request_id": volc_request_id(),
            "status": code,
            "time_elapsed": self.elapsed(call),
        }
        return web.json_response(payload, status=status)

    def _openai_error(self, reply: Reply) -> web.Response:
        status = reply.status or 500
        defaults = {
            401: ("无效的令牌", "invalid_api_key"),
            403: ("用户额度不足, 剩余额度: ¥0.000000", "insufficient_user_quota"),
            429: ("当前分组上游负载已饱和，请稍后再试", "rate_limit_exceeded"),
        }
        text, code = defaults.get(status, ("upstream error", "bad_response_status_code"))
        message = reply.message or f"{text} (request id: {volc_request_id()})"
        error = {
            "message": message,
            "type": reply.error_type or "new_api_error",
            "code": reply.code if reply.code is not None else code,
        }
        headers = {}
        if reply.retry_after is not None:
            seconds = reply.retry_after
            headers["Retry-After"] = str(int(seconds) if seconds == int(seconds) else seconds)
        return web.json_response({"error": error}, status=status, headers=headers)

    @staticmethod
    def _html(status: int) -> web.Response:
        title = f"{status} {HTTPStatus(status).phrase}"
        page = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
        return web.Response(status=status, text=page, content_type="text/html")

    async def pictures(
        self, reply: Reply, call: Call, size: tuple[int, int], as_base64: bool
    ) -> list[str]:
        """The images of a success, as base64 or as links this fake serves (recorded in
        ``call``); ``call.seed`` is the first image's seed."""
        width, height = call.size = size
        count = 0 if reply.no_images else reply.images
        if count is None:
            count = self.images_per_call
        images: list[str] = []
        for i in range(count):
            realistic = self.realistic if reply.realistic is None else reply.realistic
            image = _Image(width, height, (call.seed or 0) + i, reply, realistic)
            if as_base64:
                data, _ = await self._picture(image)
                images.append(base64.b64encode(data).decode())
            else:
                image_id = secrets.token_hex(12)
                self._images[image_id] = image
                suffix = "jpg" if realistic and self.image_format == "jpeg" else "png"
                images.append(f"{self.base_url}/images/{image_id}.{suffix}")
        if not as_base64:
            call.image_urls = images
        return images

    @staticmethod
    def seed_of(body: dict[str, Any]) -> int:
        seed = body.get("seed")
        return random.randrange(2**31) if seed in (None, -1) else int(seed)

    def volc_ok(
        self, call: Call, reply: Reply, images: list[str], as_base64: bool, **data: Any
    ) -> web.Response:
        nothing: list[str] | None = None if reply.null_lists else []
        if not images:
            urls, b64 = nothing, nothing
        elif as_base64:
            urls, b64 = None, images  # CVProcess sends image_urls null in base64 mode
        else:
            urls, b64 = images, nothing
        request_id = volc_request_id()
        payload = {
            "code": 10000,
            "data": {
                "algorithm_base_resp": {"status_code": 0, "status_message": "Success"},
                "binary_data_base64": b64,
                "image_urls": urls,
                **data,
                "request_id": request_id,
            },
            "message": "Success",
            "request_id": request_id,
            "status": 10000,
            "time_elapsed": self.elapsed(call),
        }
        return web.json_response(payload)

    async def _ok(self, reply: Reply, call: Call) -> web.Response:
        body: dict[str, Any] = call.body
        scale = 2 if body.get("use_sr", True) is not False else 1
        size = (body.get("width") or 512) * scale, (body.get("height") or 512) * scale
        call.seed = self.seed_of(body)
        as_base64 = reply.as_base64
        if as_base64 is None:
            as_base64 = body.get("return_url", True) is False
        images = await self.pictures(reply, call, size, as_base64)
        use_pre_llm = body.get("use_pre_llm") is not False
        rephrased = f"{body['prompt']}，高清，细节丰富，柔和光影" if use_pre_llm else ""
        return self.volc_ok(
            call,
            reply,
            images,
            as_base64,
            pe_result="",
            predict_tags_result="",
            rephraser_result=rephrased,
        )

    # ------------------------------------------------------------ image handler

    async def _handle_image(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            self.image_fetches += 1
            self.image_agents.append(request.headers.get("User-Agent", ""))
            name = request.match_info["name"].rpartition(".")[0]
            image = self._images.get(name)
            if image is None:
                return web.Response(status=404, text="404 Not Found")
            if image.reply.image_serves is not None:
                self._served[name] = served = self._served.get(name, 0) + 1
                if served > image.reply.image_serves:
                    return web.Response(status=404, text="404 Not Found (expired)")
            agent = image.reply.image_delay_agent
            if agent is None or request.headers.get("User-Agent", "").startswith(agent):
                await asyncio.sleep(image.reply.image_delay)
            status = image.reply.image_status
            agent = image.reply.image_status_agent
            if agent is not None and not request.headers.get("User-Agent", "").startswith(agent):
                status = 200
            if status != 200:
                return web.Response(status=status, text=f"{status} image error")
            data, mime = await self._picture(image)
            if image.reply.image_bytes is None:
                return web.Response(body=data, content_type=mime)
            return await self._stream_huge(request, data, mime, image.reply.image_bytes)
        finally:
            self._tasks.discard(task)

    async def _picture(self, image: _Image) -> tuple[bytes, str]:
        """The image's bytes and MIME type (both generators cache what they made)."""
        if not image.realistic:
            png = await asyncio.to_thread(make_png, image.width, image.height, image.seed)
            return png, "image/png"
        fmt = self.image_format
        data = await asyncio.to_thread(make_photo, image.width, image.height, image.seed, fmt)
        return data, MIME[fmt]

    @staticmethod
    async def _stream_huge(
        request: web.Request, picture: bytes, mime: str, nbytes: int
    ) -> web.StreamResponse:
        """Send exactly ``nbytes``: the picture (truncated if needed) padded with zeros."""
        response = web.StreamResponse(headers={"Content-Type": mime})
        response.content_length = nbytes
        await response.prepare(request)
        head = picture[:nbytes]
        await response.write(head)
        left = nbytes - len(head)
        chunk = b"\0" * 65536
        while left > 0:
            await response.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
        await response.write_eof()
        return response
