"""Core: the composition root every adapter shares (settings, store, relay, services, front)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from core.account import Account
from core.admin import Admin
from core.config import SettingRejected, Settings
from core.front import Front
from core.images import remove_files
from core.relay import RelayClient
from core.service import QUEUE_DEADLINE, DrawService
from core.store import Store, StoreThread

log = logging.getLogger(__name__)


@dataclass
class Core:
    """One of each shared part, opened together and closed together."""

    settings: Settings
    store: StoreThread
    relay: RelayClient
    service: DrawService
    account: Account
    admin: Admin
    front: Front

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, settings: Settings, platforms: Iterable[str]) -> AsyncIterator[Core]:
        """Open the store (settling draws a crash left pending) and the relay client."""
        names = list(platforms)
        try:
            store = StoreThread(settings.database_path)
        except (OSError, sqlite3.Error) as error:
            reason = f"({settings.database_path}) cannot be used: {error}"
            raise SettingRejected("DATABASE_PATH", reason) from None
        stale = stale_before(settings, time.time())
        settled = await store.run(Store.recover, names, stale)
        if settled:
            log.warning("settled %d draws left pending by an earlier run (refunded)", settled)
        relay = RelayClient(
            settings.yunapi_base_url,
            settings.yunapi_api_key.reveal(),
            path=settings.yunapi_t2i_path,
            deadline=settings.relay_timeout,
            max_image_bytes=settings.max_image_bytes,
            proxy=settings.https_proxy,
        )
        service = DrawService(settings, store, relay)
        account, admin = Account(service), Admin(service)
        front = Front(service, account, admin)
        core = cls(settings, store, relay, service, account, admin, front)
        housekeeping = asyncio.create_task(core._housekeeping())
        try:
            yield core
        finally:
            housekeeping.cancel()
            await service.close()
            await store.run(Store.recover, names, stale)
            await relay.aclose()
            store.close()

    async def database_answers(self) -> bool:
        """For health checks: whether a trivial read of the database succeeds."""
        try:
            return await self.store.run(Store.ping)
        except Exception:
            log.exception("health check: database failed")
            return False

    async def _housekeeping(self) -> None:
        """Hourly: blank prompts and delete kept images past their retention periods."""
        while True:
            await self.expire()
            await asyncio.sleep(3600)

    async def expire(self, now: float | None = None) -> tuple[int, int]:
        """Apply PROMPT_RETENTION_DAYS and IMAGE_RETENTION_DAYS, and settle any draw still
        pending long past every deadline (its record failed to settle); (prompts, files)."""
        now = time.time() if now is None else now
        stale = stale_before(self.settings, now)
        if settled := await self.store.run(Store.recover, [], stale):
            log.warning("settled %d draws left pending past every deadline (refunded)", settled)
        prompts = files = 0
        if days := self.settings.prompt_retention_days:
            prompts = await self.store.run(Store.purge_prompts, now - days * 86400)
        if days := self.settings.image_retention_days:
            paths = await self.store.run(Store.expire_images, now - days * 86400)
            files = await asyncio.to_thread(remove_files, paths)
        if prompts or files:
            log.info("retention: blanked %d prompts, deleted %d image files", prompts, files)
        return prompts, files


def stale_before(settings: Settings, now: float) -> float:
    """A draw still pending from before this time is past every deadline: queue and relay."""
    return now - QUEUE_DEADLINE - 2 * settings.relay_timeout
