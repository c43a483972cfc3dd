"""What every fake shares: an aiohttp server on 127.0.0.1, its lifecycle, and `wait_for`.

    async with FakeRelay() as relay:            # start() on entry, stop() on exit
        ...
        await wait_for(lambda: relay.calls, what="a relay call")

`wait_for` is the one way tests (and the fakes' own `wait_for_*` conveniences) wait: it re-checks
a probe whenever a fake calls `notify()` and at least every 10 ms otherwise, so probes may also
look at state outside the fakes (the database, the bot's client).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import ssl
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Self, TypeVar

from aiohttp import web

T = TypeVar("T")
HOST = "127.0.0.1"
POLL = 0.01

_log = logging.getLogger(__name__)
FAKE: web.AppKey[FakeServer] = web.AppKey("fake")
_changes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event] = (
    weakref.WeakKeyDictionary()
)


def notify() -> None:
    """Wake every `wait_for` of this event loop at once (fakes call it when their state changes)."""
    event = _changes.pop(asyncio.get_running_loop(), None)
    if event is not None:
        event.set()


async def wait_for(
    probe: Callable[[], T | Awaitable[T | None] | None],
    within: float = 5.0,
    what: str = "a condition",
) -> T:
    """Wait until `probe()` (or, if it returns an awaitable, what that gives) is truthy; return it.

    Raises TimeoutError naming `what` after `within` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        found = probe()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found  # type: ignore[return-value]
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"timed out after {within}s waiting for {what}")
        event = _changes.setdefault(loop, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), min(remaining, POLL))


@web.middleware
async def _record_internal_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A bug in a fake answers 500 and lands in `internal_errors` (fixtures assert it is empty)."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as error:
        fake = request.app[FAKE]
        _log.exception("%s failed on %s %s", type(fake).__name__, request.method, request.path)
        fake.internal_errors.append(error)
        return web.json_response({"ok": False, "error": repr(error)}, status=500)
    finally:
        notify()


@contextlib.asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """`app` on 127.0.0.1 at a free port, for a test's one-off server: its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, 0).start()
    try:
        yield f"http://{HOST}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


class FakeServer:
    """Base of the fakes: one aiohttp app on 127.0.0.1 and an ephemeral port.

    Subclasses add their routes in `routes(app)` and may free resources in `closing()`.
    """

    client_max_size = 1024**2  # aiohttp's default request size limit
    tls: ssl.SSLContext | None = None  # set before start: served over HTTPS with this context
    shutdown_timeout = 0.1  # seconds `stop` lets handlers still running finish
    handler_cancellation = True  # cancel a handler whose client went away

    def __init__(self) -> None:
        self.port = 0
        self.internal_errors: list[BaseException] = []
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` when served over TLS)."""
        if not self.port:
            raise RuntimeError(f"{type(self).__name__} is not started; use 'async with'")
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def middlewares(self) -> list[Any]:
        """Extra middlewares, run inside the one that records internal errors."""
        return []

    async def start(self) -> None:
        app = web.Application(
            client_max_size=self.client_max_size,
            middlewares=[_record_internal_errors, *self.middlewares()],
        )
        app[FAKE] = self
        self.routes(app)
        self._runner = web.AppRunner(
            app,
            handler_cancellation=self.handler_cancellation,
            shutdown_timeout=self.shutdown_timeout,
            access_log=None,
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, 0, ssl_context=self.tls).start()
        self.port = int(self._runner.addresses[0][1])

    async def closing(self) -> None:
        """Called first by `stop` (wake long polls, close connections, cancel slow answers)."""

    async def stop(self) -> None:
        await self.closing()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
