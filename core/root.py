"""Core: the composition root every adapter shares (settings, store, relay, services, front)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from core.account import Account
from core.admin import Admin
from core.config import SettingRejected, Settings
from core.front import Front
from core.kept import remove_files
from core.relay import RelayClient
from core.service import QUEUE_DEADLINE, DrawService
from core.store import Store
from core.store_thread import StoreThread

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
        """Open the store, register this process (its heartbeat is what tells other processes
        it is alive) and open the relay client. Draws that gone processes left are settled
        once an adapter attaches to the front (Front.attach)."""
        names = list(platforms)
        owner = uuid.uuid4().hex[:16]
        try:
            store = StoreThread(settings.database_path)
            await store.run(Store.register_process, owner, names, time.time())
        except (OSError, sqlite3.Error) as error:
            reason = f"({settings.database_path}) cannot be used: {error}"
            raise SettingRejected("DATABASE_PATH", reason) from None
        relay = RelayClient(
            settings.yunapi_base_url,
            settings.yunapi_api_key.reveal(),
            path=settings.yunapi_t2i_path,
            deadline=settings.relay_timeout,
            max_image_bytes=settings.max_image_bytes,
            proxy=settings.https_proxy,
        )
        service = DrawService(settings, store, relay, owner)
        account, admin = Account(service), Admin(service)
        front = Front(service, account, admin)
        core = cls(settings, store, relay, service, account, admin, front)
        housekeeping = asyncio.create_task(core._housekeeping())
        heartbeat = asyncio.create_task(front.recovery.run())
        try:
            yield core
        finally:
            housekeeping.cancel()
            heartbeat.cancel()
            await front.recovery.close()  # resumed tasks are left to the next process
            await service.close()
            await core._stop(owner)
            await relay.aclose()
            store.close()

    async def _stop(self, owner: str) -> None:
        """Finish this process's records: background writes get a few seconds, draws of ours
        with no image yet are refunded, and the process is marked stopped, so the next one
        delivers at once any picture of ours that was drawn but not yet sent."""
        if left := await self.service.ledger.flush(within=5.0):
            log.error("%d records could not be written before exit", left)
        try:
            if settled := await self.store.run(Store.settle_owned, owner):
                log.warning("%d draws were interrupted and refunded", settled)
            await self.store.run(Store.stop_process, owner, time.time())
        except sqlite3.Error:
            log.exception("could not record this process's exit")

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
        if settled := await self.store.run(Store.settle_stale, stale):
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
