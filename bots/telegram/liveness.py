"""Long polling that survives a refused getUpdates, and knows when it last heard from Telegram.

python-telegram-bot's polling loop gives up for good on one 401 or 404 from getUpdates
("Invalid token. Aborting retry loop") while the Application keeps running: the process is up,
deaf, and its SIGTERM ends in "This Application is still running!". A flaky proxy or a Bot API
server that is restarting answers exactly that for a moment.

So the getUpdates request (PTB's `get_updates_request` seam) is a `WatchedPollRequest`:

- each getUpdates Telegram answers (2xx) is a sign of life for /healthz;
- a 401/404 never reaches PTB's loop: it is retried after `PollTimings.retry_delays`
  (1, 2, 4, 8, 16 s: six refusals over ~31 s), and polling goes on as soon as one passes;
- after the last delay the watch gives up: `gave_up` is set, `problem` names it in one line,
  and the poll waits until the adapter stops the updater, which cancels it.

Once the adapter is stopping, a refusal is not retried: PTB's last getUpdates (which only
confirms offsets) is told of an empty batch rather than logging a traceback; after giving up,
that last call is not even sent.

PTB's own retries (network errors, 409 conflicts, 429) are left as they are: they never stop
the loop, and /healthz turns 503 when they last longer than `stale_after`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import NoReturn

from telegram._utils.types import ODVInput
from telegram.error import TelegramError
from telegram.request import BaseRequest, RequestData

from bots.liveness import Liveness

log = logging.getLogger(__name__)

REFUSALS = (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND)
EMPTY_BATCH = b'{"ok":true,"result":[]}'


@dataclass(frozen=True)
class PollTimings:
    """How long refused polls are retried, and when polling counts as stale.

    `retry_delays`: the pause after each refused getUpdates (401/404) in a row; one more
    refusal after the last pause stops the adapter. `stale_after`: seconds without an answered
    getUpdates after which /healthz reports the adapter stale (PTB's long poll is 10 s).
    """

    retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
    stale_after: float = 90.0


class PollWatch:
    """What the adapter knows about its long polling."""

    def __init__(self, timings: PollTimings | None = None) -> None:
        self.timings = timings or PollTimings()
        self.liveness = Liveness("getUpdates", self.timings.stale_after)
        self.stopping = False
        self.problem: str | None = None
        self.gave_up = asyncio.Event()

    def give_up(self, status: int, attempts: int, seconds: float) -> None:
        self.problem = (
            f"Telegram refused getUpdates {attempts} times in a row over {seconds:.0f} s "
            f"({status} {HTTPStatus(status).phrase}); check TELEGRAM_BOT_TOKEN (@BotFather) "
            "and TELEGRAM_API_BASE_URL"
        )
        self.stopping = True
        self.gave_up.set()

    def polling_error(self, error: TelegramError) -> None:
        """PTB's `error_callback` for the errors it retries itself: one line, no traceback."""
        log.warning("telegram: getUpdates failed (%s); retrying", error)


class WatchedPollRequest(BaseRequest):
    """The getUpdates request (any BaseRequest, `inner`), reporting to a `PollWatch` (see the
    module doc)."""

    def __init__(self, watch: PollWatch, inner: BaseRequest) -> None:
        self.watch = watch
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        watch = self.watch
        if watch.problem is not None:  # gave up: PTB's last call at stop would be refused too
            return HTTPStatus.OK, EMPTY_BATCH
        delays = iter(watch.timings.retry_delays)
        first_refusal: float | None = None
        attempts = 0
        while True:
            code, payload = await self.inner.do_request(
                url,
                method,
                request_data,
                read_timeout,
                write_timeout,
                connect_timeout,
                pool_timeout,
            )
            if code not in REFUSALS:
                if HTTPStatus.OK <= code < HTTPStatus.MULTIPLE_CHOICES:
                    watch.liveness.seen()
                return code, payload
            attempts += 1
            now = time.monotonic()
            first_refusal = now if first_refusal is None else first_refusal
            answer = f"{code} {HTTPStatus(code).phrase}"
            if watch.stopping:
                log.warning(
                    "telegram: getUpdates answered %s while stopping; "
                    "the last updates may be fetched again at the next start",
                    answer,
                )
                return HTTPStatus.OK, EMPTY_BATCH
            delay = next(delays, None)
            if delay is None:
                watch.give_up(code, attempts, now - first_refusal)
                await until_cancelled()  # stopping the updater cancels this poll
            log.warning(
                "telegram: getUpdates answered %s (refusal %d in a row); retrying in %g s",
                answer,
                attempts,
                delay,
            )
            await asyncio.sleep(delay)


async def until_cancelled() -> NoReturn:
    await asyncio.Event().wait()
    raise AssertionError("an Event nobody sets was set")
