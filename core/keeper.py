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
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from core.config import Settings
from core.http import threadable
from core.images import (
    HEAD_BYTES,
    Image,
    ImageError,
    describe,
    extension_of,
    fetch_in_thread,
)
from core.kept import read_image, remove_files, save_body, save_images
from core.ledger import Ledger
from core.records import Generation
from core.relay import RelayClient, RelayResult
from core.store import Store

log = logging.getLogger(__name__)

KEEP_AT_ONCE = 4
HOLD_AT_MOST = 120.0  # seconds a download's slot stays taken by its pictures still in memory
WAIT_AT_MOST = 30.0  # seconds a kept copy waits to be wanted before it is downloaded anyway


class Copy:
    """One downloaded picture: its kept file (None when the disk refused it) and what the
    record says of it; its bytes only when they were wanted as it arrived (`Download.images`)
    or could not be written (else they are read back from the file when asked for)."""

    def __init__(
        self, path: str | None, mime: str, width: int, height: int, length: int, held: Image | None
    ) -> None:
        self.path, self.held = path, held
        self.mime, self.width, self.height, self.length = mime, width, height, length

    @classmethod
    def of(cls, image: Image, path: str | None) -> Copy:
        """A copy whose bytes are in memory."""
        return cls(path, image.mime, image.width, image.height, image.length, image)

    def image(self) -> Image | None:
        """The picture (read from its file if not held); None when its file is gone."""
        if self.held is not None:
            return self.held
        return read_image(self.path) if self.path else None


class Download:
    """A draw's kept copy on its way: `task` gives its copies (none if it failed); `now()`
    starts it at once and `images()` wants the pictures themselves (a platform that needs
    the bytes, /original)."""

    task: asyncio.Task[list[Copy]]

    def __init__(self) -> None:
        self.go = asyncio.Event()  # set: download now
        self.hold = False  # set: keep the bytes in memory too, they are wanted

    def now(self) -> asyncio.Task[list[Copy]]:
        self.go.set()
        return self.task

    async def images(self) -> list[Image]:
        """The pictures, downloaded at once if they still wait; none if that failed."""
        self.hold = True
        copies = await asyncio.shield(self.now())
        if any(copy.held is None for copy in copies):  # some are only in their files
            return await asyncio.to_thread(images_of, copies)
        return images_of(copies)


def unkept(copies: list[Copy]) -> list[Copy]:
    """The copies without their files, which are removed; each holds its bytes instead."""
    held = [Copy.of(image, None) for copy in copies if (image := copy.image()) is not None]
    remove_files([copy.path for copy in copies if copy.path])
    return held


def images_of(copies: list[Copy]) -> list[Image]:
    """The pictures of these copies (from memory or their files); none if any is gone."""
    images = [image for copy in copies if (image := copy.image()) is not None]
    return images if len(images) == len(copies) else []


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


class Described(Protocol):
    """A picture as the record describes it (an Image, or a Copy)."""

    @property
    def mime(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def length(self) -> int: ...


def image_meta(images: Sequence[Described], urls: list[str]) -> list[dict[str, Any]]:
    """What the record says of each image: its size and kind, and the relay's link if known
    (only the links while the images are still downloading)."""
    if not images:
        return [{"url": url} for url in urls]
    links = urls if len(urls) == len(images) else []
    return [
        {"width": i.width, "height": i.height, "bytes": i.length, "mime": i.mime}
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
        """Download and keep the images; the download's task gives their copies (none if it
        failed). `now` False: only once wanted (`want`: the photo was delivered, or its
        images are asked for), or after WAIT_AT_MOST seconds, so the platform fetching the
        same links for the asker has them to itself meanwhile."""
        download = self._downloads[generation_id] = Download()
        if now:
            download.go.set()
        download.task = asyncio.create_task(self._keep(generation_id, urls, download))
        download.task.add_done_callback(lambda _: self._downloads.pop(generation_id, None))
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
        return await download.images() or None

    async def _download(
        self, generation_id: int, urls: list[str], download: Download
    ) -> list[Copy]:
        """The copies, with their kept files (none if any could not be written: all or none).
        Each is read whole and written in one worker thread (`fetch_in_thread`: nothing
        waits for them, and the event loop's client costs the bot about twice the CPU), its
        bytes kept in memory only if wanted by then (`Download.hold`) or not written;
        through the relay client where the proxy is one only it speaks (SOCKS)."""
        proxy, folder = self.settings.https_proxy, self.folder()
        if not threadable(proxy):
            images = await self.relay.download(urls)
            paths = await asyncio.to_thread(save_images, folder, generation_id, images)
            return [Copy.of(image, paths[n] if paths else None) for n, image in enumerate(images)]
        seconds = max(5.0, self.settings.relay_timeout / 2)  # as the relay client's downloads
        limit = self.settings.max_image_bytes

        def keeper(index: int) -> Callable[[memoryview], Copy]:
            def keep(body: memoryview) -> Copy:  # in the worker thread
                mime, width, height = describe(bytes(body[:HEAD_BYTES]))
                if not width and len(body) > HEAD_BYTES:  # a JPEG's size after a long header
                    mime, width, height = describe(bytes(body))
                path = save_body(folder, generation_id, index, extension_of(mime), body)
                wanted = path is None or download.hold
                held = Image(bytes(body), mime, width, height) if wanted else None
                return Copy(path, mime, width, height, len(body), held)

            return keep

        fetches = (
            fetch_in_thread(u, max_bytes=limit, seconds=seconds, proxy=proxy, then=keeper(n))
            for n, u in enumerate(urls)
        )
        # every download ends before any file is judged: none is written after its removal
        results = await asyncio.gather(*fetches, return_exceptions=True)
        copies = [result for result in results if isinstance(result, Copy)]
        if len(copies) == len(urls) and all(copy.path for copy in copies):
            return copies
        copies = await asyncio.to_thread(unkept, copies)  # all or none
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return copies

    async def _keep(self, generation_id: int, urls: list[str], download: Download) -> list[Copy]:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WAIT_AT_MOST):
                await download.go.wait()
        slot = Slot(self._at_once)
        await slot.take()
        try:
            copies = await self._download(generation_id, urls, download)
        except ImageError as error:
            slot.give_back()
            log.warning("generation %d: the images could not be kept (%s)", generation_id, error)
            return []
        except BaseException:
            slot.give_back()
            raise
        slot.give_back_when_gone([copy.held for copy in copies if copy.held], HOLD_AT_MOST)
        paths = [copy.path for copy in copies if copy.path]
        if paths:
            meta = image_meta(copies, urls)
            kept = await self.ledger.write_or_later(Store.record_kept, generation_id, paths, meta)
            if kept is False:  # forgotten meanwhile: no file outlives its record
                await asyncio.to_thread(remove_files, paths)
        return copies

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
