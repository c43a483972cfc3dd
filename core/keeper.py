"""The kept copy of a picture Telegram fetches by its link: downloaded off the asker's path.

When the relay gives links and the adapter can hand a link over (Telegram's sendPhoto by
URL), the draw is answered as soon as it is recorded, without its bytes; the kept copy (for
/original, delivery after a restart and retention) is downloaded once the platform has the
photo (or could not take it), so the two fetches of the same picture never share the relay
CDN's bandwidth while the asker waits. It is written under IMAGE_DIR and recorded beside the
record (`Store.record_kept`), never touching its phase. The adapter awaits the same download
when it needs the bytes after all (Telegram refused the link). A crash before the copy is
written leaves a generated record, which the next process delivers from the relay's link,
or a delivered one without files: /original then says the file is gone, as after retention.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from core.config import Settings
from core.http import threadable
from core.images import Image, ImageError, fetch_in_thread
from core.kept import remove_files, save_image, save_images
from core.ledger import Ledger
from core.records import Generation
from core.relay import RelayClient, RelayResult
from core.store import Store

log = logging.getLogger(__name__)

KEEP_AT_ONCE = 4
HOLD_AT_MOST = 120.0  # seconds a download's slot stays taken by its pictures still in memory
WAIT_AT_MOST = 30.0  # seconds a kept copy waits to be wanted before it is downloaded anyway


class Download:
    """A draw's kept copy on its way: `task` gives the images; `now()` wants them at once
    (a platform that needs the bytes after all, /original) and gives the task."""

    def __init__(self, task: asyncio.Task[list[Image]], go: asyncio.Event) -> None:
        self.task = task
        self._go = go

    def now(self) -> asyncio.Task[list[Image]]:
        self._go.set()
        return self.task


class Slot:
    """One of the keeper's download slots: taken for a download, and given back only once its
    pictures are gone from memory (nobody holds them any more: the adapter has uploaded them,
    or never needed them), so at most KEEP_AT_ONCE downloaded pictures live at once, however
    slowly their uploads go. A holder that never lets go delays the next downloads by
    HOLD_AT_MOST seconds, never for good."""

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self.semaphore = semaphore
        self.taken = False

    async def take(self) -> None:
        await self.semaphore.acquire()
        self.taken = True

    def give_back(self) -> None:
        if self.taken:
            self.taken = False
            self.semaphore.release()

    def give_back_when_gone(self, images: list[Image], at_most: float) -> None:
        """Give the slot back when the last of `images` is freed (from whichever thread drops
        it), or after `at_most` seconds."""
        loop = asyncio.get_running_loop()
        timer = loop.call_later(at_most, self.give_back)
        alive = len(images)

        def one_gone() -> None:
            nonlocal alive
            alive -= 1
            if alive == 0:
                timer.cancel()
                self.give_back()

        def freed() -> None:  # may run in another thread, or after the loop has closed
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(one_gone)

        if not images:
            timer.cancel()
            self.give_back()
        for image in images:
            weakref.finalize(image, freed)


def image_meta(images: list[Image], urls: list[str]) -> list[dict[str, Any]]:
    """What the record says of each image: its size and kind, and the relay's link if known
    (only the links while the images are still downloading)."""
    if not images:
        return [{"url": url} for url in urls]
    links = urls if len(urls) == len(images) else []
    return [
        {"width": i.width, "height": i.height, "bytes": len(i.data), "mime": i.mime}
        | ({"url": links[n]} if links else {})
        for n, i in enumerate(images)
    ]


class Keeper:
    """Background downloads of kept copies; each draw's one download is shared with the
    adapter that may still need its bytes."""

    def __init__(self, relay: RelayClient, ledger: Ledger, settings: Settings) -> None:
        self.relay = relay
        # Kept copies are downloaded a few at a time, each slot held while its pictures are
        # in memory (Slot): a burst of draws does not hold every picture at once.
        self._at_once = asyncio.Semaphore(KEEP_AT_ONCE)
        self.ledger = ledger
        self.settings = settings
        self._downloads: dict[int, Download] = {}

    def folder(self) -> Path:
        """Where a file is kept now: IMAGE_DIR/<year-month>."""
        return self.settings.image_dir / datetime.now(self.settings.zone).strftime("%Y-%m")

    async def record_generated(
        self, generation_id: int, result: RelayResult
    ) -> tuple[list[str], list[dict[str, Any]], Generation | None]:
        """Write the images' files and record them generated: the paths, the images' meta
        and the row (None while the write must wait; it finishes even if cancelled)."""
        paths = (
            await asyncio.to_thread(save_images, self.folder(), generation_id, result.images)
            if result.images
            else []  # sent by link: the keeper writes them once downloaded
        )
        meta = image_meta(result.images, result.image_urls)
        writing = asyncio.ensure_future(
            self.ledger.write_or_later(
                Store.settle_generated,
                generation_id,
                images=meta,
                paths=paths,
                request_id=result.request_id,
                relay_seconds=result.seconds,
                attempts=result.attempts,
                rephrased=result.rephrased,
            )
        )
        try:
            return paths, meta, await asyncio.shield(writing)
        except asyncio.CancelledError:
            return paths, meta, await writing  # the images exist: finish recording them

    def start(self, generation_id: int, urls: list[str], *, now: bool = True) -> Download:
        """Download and keep the images; the download's task gives them (none if it failed).
        `now` False: only once wanted (`want`: the photo was delivered, or its images are
        asked for), or after WAIT_AT_MOST seconds, so the platform fetching the same links
        for the asker has them to itself meanwhile."""
        go = asyncio.Event()
        if now:
            go.set()
        task = asyncio.create_task(self._keep(generation_id, urls, go))
        download = self._downloads[generation_id] = Download(task, go)
        task.add_done_callback(lambda _: self._downloads.pop(generation_id, None))
        return download

    def want(self, generation_id: int) -> None:
        """The kept copy of this draw may be downloaded now (if it waits)."""
        download = self._downloads.get(generation_id)
        if download is not None:
            download.now()

    async def kept(self, generation_id: int) -> list[Image] | None:
        """The images of a draw whose copy is still downloading (None if none is): so
        /original right after the photo gets the file, not "no longer kept"."""
        download = self._downloads.get(generation_id)
        if download is None:
            return None
        images = await asyncio.shield(download.now())
        return images or None

    async def _download(self, generation_id: int, urls: list[str]) -> tuple[list[Image], list[str]]:
        """The images and the paths of their kept files (none if any could not be written).
        Each is read whole and written in one worker thread (`fetch_in_thread`: nothing
        waits for them, and the event loop's client costs the bot about twice the CPU);
        through the relay client where the proxy is one only it speaks (SOCKS)."""
        proxy, folder = self.settings.https_proxy, self.folder()
        if not threadable(proxy):
            images = await self.relay.download(urls)
            return images, await asyncio.to_thread(save_images, folder, generation_id, images)
        seconds = max(5.0, self.settings.relay_timeout / 2)  # as the relay client's downloads
        limit = self.settings.max_image_bytes
        written: list[str | None] = [None] * len(urls)

        def writer(index: int) -> Callable[[Image], None]:
            def write(image: Image) -> None:
                written[index] = save_image(folder, generation_id, index, image)

            return write

        fetches = (
            fetch_in_thread(u, max_bytes=limit, seconds=seconds, proxy=proxy, then=writer(n))
            for n, u in enumerate(urls)
        )
        # every download ends before any file is judged: none is written after its removal
        results = await asyncio.gather(*fetches, return_exceptions=True)
        images = [r for r in results if isinstance(r, Image)]
        paths = [p for p in written if p]
        if len(images) == len(urls) and len(paths) == len(urls):
            return images, paths
        await asyncio.to_thread(remove_files, paths)  # all or none
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return images, []

    async def _keep(self, generation_id: int, urls: list[str], go: asyncio.Event) -> list[Image]:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WAIT_AT_MOST):
                await go.wait()
        slot = Slot(self._at_once)
        await slot.take()
        try:
            images, paths = await self._download(generation_id, urls)
        except ImageError as error:
            slot.give_back()
            log.warning("generation %d: the images could not be kept (%s)", generation_id, error)
            return []
        except BaseException:
            slot.give_back()
            raise
        slot.give_back_when_gone(images, HOLD_AT_MOST)
        if paths:
            meta = image_meta(images, urls)
            kept = await self.ledger.write_or_later(Store.record_kept, generation_id, paths, meta)
            if kept is False:  # forgotten meanwhile: no file outlives its record
                await asyncio.to_thread(remove_files, paths)
        return images

    async def close(self, grace: float) -> int:
        """At shutdown: give the downloads `grace` seconds; how many were cut short."""
        if not self._downloads:
            return 0
        # nothing waits any more: keep what can be kept
        tasks = {download.now() for download in self._downloads.values()}
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        return len(late)
