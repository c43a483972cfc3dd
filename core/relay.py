"""RelayClient: the Jimeng 2.1 text-to-image call through a YunApi relay.

Its errors are in core/relay_errors.py (the tree is drawn there).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import stamina

from core.http import BodyError, cannot_connect, fast_transport, read_body
from core.images import Image, ImageError, decode_base64, fetch
from core.models import Family
from core.relay_errors import (
    OutputRefused,
    PromptRefused,
    RelayAuthError,
    RelayBadRequest,
    RelayBalanceError,
    RelayBusy,
    RelayCannotConnect,
    RelayError,
    RelayImageError,
    RelayInternal,
    RelayNoImage,
    RelayUnreachable,
)
from core.relay_job import RelayJob, TaskSink
from core.secrets import forms, scrub

log = logging.getLogger(__name__)

QUERY = {"Action": "CVProcess", "Version": "2022-08-31"}
SUCCESS = 10000
# Pauses between attempts: 1 s, then doubling up to 8 s, each plus up to 0.5 s of jitter.
# Tests make them zero with stamina's test mode (tests/conftest.py), not with these values.
FIRST_PAUSE = 1.0
LONGEST_PAUSE = 8.0
JITTER = 0.5


VOLC_CODES: dict[int, type[RelayError]] = {
    50411: PromptRefused,
    50412: PromptRefused,
    50413: PromptRefused,
    50512: PromptRefused,
    50511: OutputRefused,
    50519: OutputRefused,
    50429: RelayBusy,
    50430: RelayBusy,
    50500: RelayInternal,
    50501: RelayInternal,
    50400: RelayBadRequest,
}


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
        self._url = base_url.rstrip("/") + path
        self._root = base_url.rstrip("/")
        self._auth = {"Authorization": f"Bearer {api_key}"}
        # every shape of the key (raw, URL-encoded, base64...), cut from what the relay says
        self._key_forms = forms([api_key])
        self._deadline = deadline
        self._max_attempts = max_attempts
        self._max_image_bytes = max_image_bytes
        # The JSON answer may carry images as base64 (4 characters for 3 bytes): room for two
        # at the cap, plus 64 KiB for the rest (rephrased prompt, ids, an error page).
        self._max_body = 2 * (4 * (max_image_bytes // 3 + 1)) + 65_536
        timeout = httpx.Timeout(deadline, connect=10.0, write=30.0)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        self._http = httpx.AsyncClient(
            timeout=timeout,
            limits=limits,
            proxy=None if transport else proxy,
            transport=transport or fast_transport(limits, proxy),
            headers={"User-Agent": "drawbot/0.1"},
            follow_redirects=True,
        )

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
        `on_task` is told an asynchronous model's task id as soon as the relay gives it.
        """
        started = time.monotonic()
        ends = started + self._deadline
        attempt: stamina.Attempt | None = None
        last: RelayError | None = None  # the error a pause (not an attempt) was cut short after

        def worth_retrying(error: Exception) -> bool | float:
            nonlocal last
            if not isinstance(error, RelayError) or not error.retryable or attempt is None:
                return False
            if isinstance(error, RelayBusy) and not retry_busy:
                return False
            if attempt.num >= self._max_attempts:
                return False  # stamina would stop here too; this keeps the log line honest
            if isinstance(error, OutputRefused) and attempt.num >= 2:
                return False  # a refused image is redrawn once; the next is as likely refused
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
                        return await self._attempt(job, started, attempt.num, download)
        except TimeoutError:
            if last is not None:  # the deadline fell in a pause: the last answer stands
                raise last from None
            raise RelayUnreachable(f"no answer within {self._deadline:g}s", status=None) from None
        raise AssertionError("stamina ends with a result or the last error")

    async def _attempt(
        self, job: RelayJob, started: float, attempt: int, download: bool
    ) -> RelayResult:
        if job.model.family is not Family.VOLC_SYNC:
            raise NotImplementedError(f"the {job.model.family} API family")
        payload = job.params.to_payload(job.watermark, req_key=job.model.model_id)
        try:
            async with self._http.stream(
                "POST", self._url, params=QUERY, json=payload, headers=self._auth
            ) as response:
                content = await self._read_body(response)
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from None
        # Some relays echo the key they rejected: it is cut out before anything else.
        body = _parse_body(response.status_code, response.headers, content, self._key_forms)
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        request_id = body.get("request_id") or (data or {}).get("request_id")
        images = await self._images(data or {}, request_id, download)
        seconds = time.monotonic() - started
        urls = [u for u in (data or {}).get("image_urls") or [] if isinstance(u, str)]
        rephrased = (data or {}).get("rephraser_result") or None
        log.info("relay ok request_id=%s images=%d in %.2fs", request_id, len(images), seconds)
        return RelayResult(images, request_id, seconds, attempt, rephrased, urls)

    async def _read_body(self, response: httpx.Response) -> bytes:
        """The answer's body, refused past `_max_body` bytes (declared or as it arrives).

        Too large a success can only be too large images: RelayImageError, as for a download
        over the cap. Too large anything else is the relay failing: RelayInternal (retried)."""
        kind = RelayImageError if response.status_code == 200 else RelayInternal
        too_large = f"the relay's answer is larger than {self._max_body} bytes"
        try:
            return await read_body(response, self._max_body)
        except BodyError:
            raise kind(too_large, status=response.status_code) from None

    async def _images(
        self, data: dict[str, Any], request_id: str | None, download: bool
    ) -> list[Image]:
        urls = [u for u in data.get("image_urls") or [] if isinstance(u, str) and u]
        encoded = [b for b in data.get("binary_data_base64") or [] if isinstance(b, str) and b]
        try:
            if encoded:
                return [decode_base64(item, max_bytes=self._max_image_bytes) for item in encoded]
            if urls and not download:
                return []  # the caller downloads them when it needs them (`download`)
            if urls:
                return await self.download(urls)
        except ImageError as exc:
            raise RelayImageError(str(exc), request_id=request_id) from None
        raise RelayNoImage("the relay answered success without an image", request_id=request_id)

    async def download(self, urls: list[str]) -> list[Image]:
        """The images behind the relay's links, at once (ImageError for any that fails)."""
        seconds = max(5.0, self._deadline / 2)
        limit = self._max_image_bytes
        return list(
            await asyncio.gather(
                *(fetch(self._http, url, max_bytes=limit, seconds=seconds) for url in urls)
            )
        )

    async def balance(self) -> Balance | None:
        """The OpenAI-style billing figures, or None where the relay does not offer them."""
        try:
            sub = await self._http.get(
                f"{self._root}/v1/dashboard/billing/subscription", headers=self._auth, timeout=15
            )
            usage = await self._http.get(
                f"{self._root}/v1/dashboard/billing/usage", headers=self._auth, timeout=15
            )
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from None
        if sub.status_code in (404, 405) or usage.status_code in (404, 405):
            return None
        sub_body = _parse_body(sub.status_code, sub.headers, sub.content, self._key_forms)
        usage_body = _parse_body(usage.status_code, usage.headers, usage.content, self._key_forms)
        total = sub_body.get("hard_limit_usd") or sub_body.get("system_hard_limit_usd")
        used_cents = usage_body.get("total_usage")
        if not isinstance(total, int | float) or not isinstance(used_cents, int | float):
            return None
        return Balance(total=float(total), used=float(used_cents) / 100)

    async def reachable(self) -> bool:
        """Whether the relay answers HTTP at all (any status), for /healthz."""
        try:
            await self._http.get(self._root + "/", timeout=5)
        except httpx.HTTPError:
            return False
        return True


def _unreachable(error: httpx.HTTPError) -> RelayUnreachable:
    """No answer: no connection at all (said at once), or a timeout or a dropped one."""
    why = cannot_connect(error)
    if why is not None:
        return RelayCannotConnect(why)
    if isinstance(error, httpx.TimeoutException):
        return RelayUnreachable(f"timed out ({type(error).__name__})")
    return RelayUnreachable(f"connection failed ({type(error).__name__})")


def _message(raw: object, secrets: tuple[str, ...]) -> str:
    """A relay's error message, without our key in any shape, short enough for a log line."""
    return scrub(str(raw or ""), secrets)[:200]


def _echoed(value: Any, secrets: tuple[str, ...]) -> Any:
    """A code or request id as the relay sent it; a text one without our key."""
    return scrub(value, secrets)[:200] if isinstance(value, str) else value


def _parse_body(
    status: int, headers: httpx.Headers, content: bytes, secrets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Turn any relay answer into its JSON body, or raise the matching RelayError."""
    retry_after = _retry_after(headers)
    try:
        body = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    if not isinstance(body, dict):
        kind = "an empty answer" if not content.strip() else "a non-JSON answer"
        if status == 401:
            raise RelayAuthError(f"the relay rejected the key ({kind})", status=status)
        if status == 429:
            raise RelayBusy(f"rate limited ({kind})", status=status, retry_after=retry_after)
        raise RelayInternal(f"the relay gave {kind}", status=status)
    if isinstance(body.get("error"), dict | str):
        raise _openai_error(body["error"], status, retry_after, secrets)
    code = _echoed(body.get("code", body.get("status")), secrets)
    request_id = _echoed(body.get("request_id"), secrets)
    if code == SUCCESS or (code is None and status == 200 and "data" in body):
        return body
    message = _message(body.get("message"), secrets)
    if isinstance(code, int) and code in VOLC_CODES:
        raise VOLC_CODES[code](message, code=code, status=status, request_id=request_id)
    if status == 429:
        raise RelayBusy(message, code=code, status=status, retry_after=retry_after)
    if status >= 500 or status == 200:
        raise RelayInternal(message or "unexpected answer", code=code, status=status)
    raise RelayBadRequest(message or "request rejected", code=code, status=status)


def _openai_error(
    error: dict[str, Any] | str, status: int, retry_after: float | None, secrets: tuple[str, ...]
) -> RelayError:
    if isinstance(error, str):
        error = {"message": error}
    message = _message(error.get("message"), secrets)
    code = _echoed(error.get("code") or error.get("type"), secrets)
    text = f"{message} {code}".lower()
    if status == 401:
        return RelayAuthError(message, code=code, status=status)
    if status == 402 or (
        status == 403 and ("quota" in text or "额度" in text or "balance" in text)
    ):
        return RelayBalanceError(message, code=code, status=status)
    if status == 403:
        return RelayAuthError(message, code=code, status=status)
    if status == 429:
        return RelayBusy(message, code=code, status=status, retry_after=retry_after)
    if status >= 500:
        return RelayInternal(message, code=code, status=status)
    return RelayBadRequest(message, code=code, status=status)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = str(headers.get("retry-after", ""))
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(seconds, 60.0) if math.isfinite(seconds) and seconds >= 0 else None
