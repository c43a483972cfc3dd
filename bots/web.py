"""The process's HTTP server: /healthz always, and the Telegram webhook when it is enabled.

/healthz answers 200 or 503 with

    {"ok": true, "database": true, "relay": true, "draws_in_flight": 0,
     "adapters": {"telegram": {"ok": true, "up": true, "signal": "getUpdates",
                               "age_seconds": 3.2, "stale_after_seconds": 90.0}, ...}}

503 when the database fails or an adapter is down or stale (see bots/liveness.py); the relay's
reachability is reported (it makes `ok` false) but a relay outage alone keeps 200, since
restarting the bot would not help.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bots.liveness import Liveness
from core.root import Core

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebServer:
    """A small aiohttp server on 0.0.0.0:`port`; adapters may add routes before start()."""

    def __init__(self, core: Core, port: int, host: str = "0.0.0.0") -> None:
        self.core = core
        self.port = port
        self.host = host
        self.app = web.Application()
        self.app.router.add_get("/healthz", self.healthz)
        self.app.router.add_post("/{tail:.*}", self._dispatch_post)
        self._runner: web.AppRunner | None = None
        self._posts: dict[str, Handler] = {}
        self.adapters: dict[str, Liveness] = {}

    def track(self, name: str, liveness: Liveness) -> None:
        """Report `liveness` as adapter `name`'s in /healthz."""
        self.adapters[name] = liveness

    @property
    def ready(self) -> dict[str, bool]:
        """Which adapters are up (a snapshot)."""
        return {name: liveness.up for name, liveness in self.adapters.items()}

    def add_post(self, path: str, handler: Handler) -> None:
        """Route POSTs to `path` (also after start, so adapters may register when ready)."""
        self._posts[path] = handler

    async def _dispatch_post(self, request: web.Request) -> web.StreamResponse:
        handler = self._posts.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        return await handler(request)

    async def healthz(self, _: web.Request) -> web.Response:
        """200 when the database answers and every adapter is up and not stale, else 503."""
        database = await self.core.database_answers()
        relay = await self.core.relay.reachable()
        adapters = {name: liveness.report() for name, liveness in self.adapters.items()}
        adapters_ok = all(report["ok"] for report in adapters.values())
        body = {
            "ok": database and relay and adapters_ok,
            "database": database,
            "relay": relay,
            "draws_in_flight": self.core.service.in_flight,
            "adapters": adapters,
        }
        return web.json_response(body, status=200 if database and adapters_ok else 503)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info("http server listening on port %d (/healthz)", self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
