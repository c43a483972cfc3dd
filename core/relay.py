"""RelayClient: draws through a YunApi relay, whatever the model's API family.

The families' calls are in core/relay_volc.py (volc-sync, volc-async) and core/relay_openai.py
(openai); what they share (the HTTP client, key scrubbing, size caps, images) in
core/relay_http.py; how answers become errors in core/relay_answers.py; the error tree in
core/relay_errors.py. Here: the retries and the one deadline around every family's call.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import stamina

from core.images import Image
from core.models import Family
from core.relay_answers import parse_body, unreachable
from core.relay_errors import (
    OutputRefused,
    RelayBusy,
    RelayError,
    RelayNoImage,
    RelayUnreachable,
)
from core.relay_http import Drawn, RelayHttp, Task
from core.relay_job import RelayJob, TaskSink
from core.relay_openai import OpenAIImages
from core.relay_volc import VolcAsync, VolcSync

log = logging.getLogger(__name__)

# Pauses between attempts: 1 s, then doubling up to 8 s, each plus up to 0.5 s of jitter.
# Tests make them zero with stamina's test mode (tests/conftest.py), not with these values.
FIRST_PAUSE = 1.0
LONGEST_PAUSE = 8.0
JITTER = 0.5


@dataclass(frozen=True)
class RelayResult:
    """A completed draw: the images and what the relay said about it."""

    images: list[Image]
    request_id: str | None
    seconds: float
    attempts: int
    rephrased: str | None = None
    image_urls: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Balance:
    """What an OpenAI-style billing endpoint says: total granted and used, in its currency."""

    total: float
    used: float

    @property
    def remaining(self) -> float:
        return self.total - self.used


class FamilyCall(Protocol):
    """One API family's call: the images of `job`, or the RelayError the relay's answer means."""

    async def draw(self, job: RelayJob, task: Task, download: bool) -> Drawn: ...


class RelayClient:
    """One long-lived HTTP client for the relay; `generate` retries what is worth retrying."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        path: str = "/volcv",
        deadline: float = 120.0,
        max_attempts: int = 4,
        max_image_bytes: int = 20_000_000,
        proxy: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = RelayHttp(
            base_url,
            api_key,
            deadline=deadline,
            max_image_bytes=max_image_bytes,
            proxy=proxy,
            transport=transport,
        )
        self._deadline = deadline
        self._max_attempts = max_attempts
        self._families: dict[Family, FamilyCall] = {
            Family.VOLC_SYNC: VolcSync(self._http, path),
            Family.VOLC_ASYNC: VolcAsync(self._http, path),
            Family.OPENAI: OpenAIImages(self._http),
        }

    async def __aenter__(self) -> RelayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def generate(
        self,
        job: RelayJob,
        *,
        retry_busy: bool = True,
        download: bool = True,
        on_task: TaskSink | None = None,
    ) -> RelayResult:
        """Call the relay until it gives images, a final error, or the deadline passes.

        stamina runs the attempts: exponential backoff with jitter, at most `max_attempts`,
        only on errors `worth_retrying` accepts. One deadline bounds them all, pauses included;
        a pause that could not end before the deadline is not started (the error stands).
        Without `retry_busy`, a busy answer is raised at once (the caller queues the draw again
        and narrows its window: core/dispatch.py). Without `download`, images the relay gave
        as links are not downloaded: `images` is empty and `image_urls` holds them (`download`).
        `on_task` is told an asynchronous model's task id as soon as the relay gives it; once
        there is one (or `job.task_id` gives it), attempts poll that task and never submit
        another (that would draw, and be billed, twice).
        """
        started = time.monotonic()
        ends = started + self._deadline
        attempt: stamina.Attempt | None = None
        last: RelayError | None = None  # the error a pause (not an attempt) was cut short after
        task = Task(job.task_id, on_task)
        family = self._families[job.model.family]

        def worth_retrying(error: Exception) -> bool | float:
            nonlocal last
            if not isinstance(error, RelayError) or not error.retryable or attempt is None:
                return False
            if isinstance(error, RelayBusy) and not retry_busy and task.task_id is None:
                return False  # a submitted task holds its place: its polls are retried here
            if attempt.num >= self._max_attempts:
                return False  # stamina would stop here too; this keeps the log line honest
            if isinstance(error, OutputRefused) and attempt.num >= 2:
                return False  # a refused image is redrawn once; the next is as likely refused
            if task.task_id is not None and isinstance(error, OutputRefused | RelayNoImage):
                return False  # a finished task's result: asking again gives the same
            pause = max(attempt.next_wait, error.retry_after or 0.0)
            if time.monotonic() + pause >= ends:
                return False
            last = error
            log.warning("relay attempt %d failed (%s); retrying", attempt.num, error)
            # A relay's Retry-After sets a floor under the pause (stamina's test mode skips it).
            return pause if error.retry_after is not None else True

        try:
            async with asyncio.timeout(self._deadline):
                async for attempt in stamina.retry_context(
                    on=worth_retrying,
                    attempts=self._max_attempts,
                    timeout=self._deadline,
                    wait_initial=FIRST_PAUSE,
                    wait_max=LONGEST_PAUSE,
                    wait_jitter=JITTER,
                ):
                    with attempt:
                        last = None
                        drawn = await family.draw(job, task, download)
                        return self._result(drawn, started, attempt.num)
        except TimeoutError:
            if last is not None:  # the deadline fell in a pause: the last answer stands
                raise last from None
            raise RelayUnreachable(f"no answer within {self._deadline:g}s", status=None) from None
        raise AssertionError("stamina ends with a result or the last error")

    @staticmethod
    def _result(drawn: Drawn, started: float, attempts: int) -> RelayResult:
        seconds = time.monotonic() - started
        log.info(
            "relay ok request_id=%s images=%d in %.2fs",
            drawn.request_id,
            len(drawn.images),
            seconds,
        )
        return RelayResult(
            drawn.images, drawn.request_id, seconds, attempts, drawn.rephrased, drawn.image_urls
        )

    async def download(self, urls: list[str]) -> list[Image]:
        """The images behind the relay's links, at once (ImageError for any that fails)."""
        return await self._http.download(urls)

    async def balance(self) -> Balance | None:
        """The OpenAI-style billing figures, or None where the relay does not offer them."""
        http = self._http
        try:
            sub = await http.client.get(
                f"{http.root}/v1/dashboard/billing/subscription", headers=http.auth, timeout=15
            )
            usage = await http.client.get(
                f"{http.root}/v1/dashboard/billing/usage", headers=http.auth, timeout=15
            )
        except httpx.HTTPError as exc:
            raise unreachable(exc) from None
        if sub.status_code in (404, 405) or usage.status_code in (404, 405):
            return None
        sub_body = _billing(sub, http.key_forms)
        usage_body = _billing(usage, http.key_forms)
        total = sub_body.get("hard_limit_usd") or sub_body.get("system_hard_limit_usd")
        used_cents = usage_body.get("total_usage")
        if not isinstance(total, int | float) or not isinstance(used_cents, int | float):
            return None
        return Balance(total=float(total), used=float(used_cents) / 100)

    async def reachable(self) -> bool:
        """Whether the relay answers HTTP at all (any status), for /healthz."""
        try:
            await self._http.client.get(self._http.root + "/", timeout=5)
        except httpx.HTTPError:
            return False
        return True


def _billing(response: httpx.Response, secrets: tuple[str, ...]) -> dict[str, Any]:
    """A billing answer's JSON: any object on success (it has neither `code` nor `data`, which
    an image answer's reading would take for a failing relay), else the matching RelayError."""
    if response.status_code == 200:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if isinstance(body, dict) and "error" not in body:
            return body
    return parse_body(response.status_code, response.headers, response.content, secrets)
