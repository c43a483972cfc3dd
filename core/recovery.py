"""Recovery: what a process finishes for processes that are gone.

Every running process registers itself and beats a heartbeat in SQLite. A process of this host
is gone when its pid is no longer (or is now ours); one of another host when it stopped
cleanly or its heartbeat is older than EXPIRY_SECONDS. Its draws still in flight are adopted by
one statement (so each is settled once) by a process serving their platform, which then:

- refunds a draw that had no image yet and tells the asker, in the chat where they asked,
  that it was interrupted and did not count;
- resumes a draw of an asynchronous model whose task was submitted (core/resume.py), in a
  task of its own (RESUMES_AT_ONCE at a time; the sweep goes on): polls that task, never
  drawing it again, and delivers its images; refunds it when the task is lost; a clean exit
  stops the resume and leaves the row to the next process;
- delivers a draw whose images were stored but never sent, from the kept files (or, for one
  answered by link before its copy was kept, from the relay's links while they last), and
  marks it delivered; if that is impossible, refunds it and says the picture is kept for
  /original.

Adapters make this possible by attaching a courier: a way to post an answer to an address
they gave with the request (`Request.address`), without a request to answer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable

from core import messages
from core.answer import Answer, Receipt, Say
from core.images import Image
from core.kept import load_images
from core.ledger import WriteFailed
from core.records import Generation, Status
from core.relay_errors import RelayError
from core.request import Requester
from core.resume import resumable, resume
from core.service import DrawService
from core.store import Store

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
EXPIRY_SECONDS = 30.0
SWEEP_SECONDS = 10.0
RESUMES_AT_ONCE = 4  # adopted tasks polled at the same time (each up to RELAY_TIMEOUT)

# Post `answer` to `address` (as given in the request); the receipt, or None if not posted.
Courier = Callable[[str, Answer], Awaitable[Receipt | None]]
# How core shows a stored draw's images (pictures with caption and buttons).
Render = Callable[[Generation, list[Image], str], Answer]


def is_gone_here(pid: int, host: str) -> bool:
    """A process of this host that no longer runs (or whose pid is now ours)."""
    if host != socket.gethostname():
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def alive_here(store: Store, me: str, now: float) -> list[str]:
    """On the store's thread: mark processes of this host that died as stopped, and return
    those of this host that still run (their pid says so, whatever their heartbeat: a write
    lock held for a while must not make a live process look gone)."""
    rows = list(
        store.sqlite.query(
            "SELECT id, pid, host FROM processes WHERE stopped_at IS NULL AND id != ?", [me]
        )
    )
    here = socket.gethostname()
    for row in rows:
        if is_gone_here(row["pid"], row["host"]):
            store.stop_process(row["id"], now)
    return [
        row["id"]
        for row in rows
        if row["host"] == here and not is_gone_here(row["pid"], row["host"])
    ]


def language_of(store: Store, user_key: str, service: DrawService) -> str:
    """The language a user last wrote in (recorded with each draw)."""
    user = store.user(user_key) or {}
    return service.lang(Requester("", "", language_code=user.get("language")))


class Recovery:
    """This process's registration, heartbeat, and the sweeps that adopt orphaned draws."""

    def __init__(self, service: DrawService, render: Render) -> None:
        self.service = service
        self.store = service.store
        self.owner = service.owner
        self.render = render
        self.couriers: dict[str, Courier] = {}
        self._sweeping = asyncio.Lock()
        self._resumes: dict[int, asyncio.Task[None]] = {}  # by generation id
        self._resuming = asyncio.Semaphore(RESUMES_AT_ONCE)

    async def attach(self, platform: str, courier: Courier) -> int:
        """An adapter can post again: settle what gone processes left on `platform` now."""
        self.couriers[platform] = courier
        return await self.sweep()

    def detach(self, platform: str) -> None:
        self.couriers.pop(platform, None)

    async def run(self) -> None:
        """Heartbeat every HEARTBEAT_SECONDS; sweep every SWEEP_SECONDS."""
        ledger = self.service.ledger
        last_sweep = 0.0
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            now = time.time()
            try:
                await ledger.write(Store.heartbeat, self.owner, now)
            except WriteFailed as error:
                log.warning("heartbeat not recorded: %s", error)
            if now - last_sweep >= SWEEP_SECONDS:
                last_sweep = now
                try:
                    await self.sweep()
                except Exception:
                    log.exception("recovery sweep failed")

    async def sweep(self) -> int:
        """Adopt and settle the draws in flight of gone processes, for attached platforms."""
        if not self.couriers:
            return 0
        store = self.store
        async with self._sweeping:
            now = time.time()
            alive = [*await store.run(alive_here, self.owner, now), self.owner]  # never ours
            orphans = await store.run(
                Store.adopt_orphans, self.owner, list(self.couriers), now - EXPIRY_SECONDS, alive
            )
            for generation in orphans:
                if resumable(self.service, generation) is not None:
                    self._resume(generation)  # polled beside, not in the way of the others
                else:
                    await self._settle(generation)
        if orphans:
            log.warning("recovered %d draws left by processes that are gone", len(orphans))
        return len(orphans)

    def _resume(self, generation: Generation) -> None:
        """Resume an adopted task in its own task (one per row), RESUMES_AT_ONCE at a time."""
        if generation.id in self._resumes:
            return

        async def resumed() -> None:
            async with self._resuming:
                try:
                    await self._settle(generation)
                except Exception:
                    log.exception("generation %d could not be resumed", generation.id)

        task = asyncio.create_task(resumed())
        self._resumes[generation.id] = task
        task.add_done_callback(lambda _: self._resumes.pop(generation.id, None))

    async def close(self) -> int:
        """Stop resuming: the rows stay in flight with their tasks, for the next process."""
        running = list(self._resumes.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        return len(running)

    async def _settle(self, generation: Generation) -> None:
        courier = self.couriers.get(generation.platform)
        lang = await self.store.run(language_of, generation.user_key, self.service)
        ledger = self.service.ledger
        images = (
            await asyncio.to_thread(load_images, generation)
            if generation.status == Status.GENERATED
            else []
        )
        if not images and generation.status == Status.GENERATED:
            images = await self._download(generation)
        kind = "interrupted"
        if (model := resumable(self.service, generation)) is not None:
            try:
                images = await resume(self.service, generation, model)
            except RelayError as error:
                log.warning(
                    "generation %d: its task could not be resumed: %s", generation.id, error
                )
                kind = error.reason
        if not images:
            status = "interrupted" if kind == "interrupted" else "failed"
            refunded = await ledger.write_or_later(
                Store.settle_failure, generation.id, kind=kind, status=status
            )
            if refunded is False:
                return  # settled meanwhile by someone else: nothing to say
            key = kind if refunded else "refund_delayed"
            await self._post(courier, generation, Say(messages.text(key, lang)))
            return
        answer = self.render(generation, images, lang)
        receipt = await self._post(courier, generation, answer)
        if receipt is not None:
            await ledger.write_or_later(
                Store.settle_delivered, generation.id, receipt.platform, receipt.file_refs
            )
            return
        await ledger.write_or_later(
            Store.settle_failure, generation.id, kind="send_failed", status="failed"
        )

    async def _download(self, generation: Generation) -> list[Image]:
        """A draw answered by link (core/keeper.py) that was never sent, nor kept: its
        images from the relay's links while they last (and kept now)."""
        links = [generation.relay_url(index) for index in range(len(generation.image_meta))]
        urls = [link for link in links if link]
        if not urls or len(urls) != len(links):
            return []
        return await self.service.keeper.start(generation.id, urls).images()

    async def _post(
        self, courier: Courier | None, generation: Generation, answer: Answer
    ) -> Receipt | None:
        if courier is None or not generation.address:
            return None
        try:
            return await courier(generation.address, answer)
        except Exception:
            log.exception("could not post to the asker of generation %d", generation.id)
            return None
