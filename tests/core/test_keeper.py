"""The keeper's download slots (core/keeper.py): a slot is held while its pictures are in
memory (wanted by an adapter), so at most KEEP_AT_ONCE downloaded pictures live at once,
whoever holds them; pictures nobody wanted are only in their files."""

from __future__ import annotations

import asyncio
import gc
import io
import struct
import threading
from pathlib import Path

import httpx
import PIL.Image
from aiohttp import web

from core.images import Image
from core.keeper import KEEP_AT_ONCE, Slot
from core.outcome import Delivered
from core.params import DrawParams
from core.request import Place, Requester
from core.root import Core
from core.store import Store
from tests.fakes.base import served, wait_for
from tests.fakes.relay import FakeRelay


async def answered_by_link(core: Core, count: int) -> list[Delivered]:
    """`count` draws by users of a platform whose adapter posts links: their pictures are
    downloaded by the keeper (`later`)."""
    core.service.download_later.add("test")
    outcomes = await asyncio.gather(
        *(
            core.service.draw(Requester("test", str(n)), Place("test", str(n)), DrawParams("fox"))
            for n in range(count)
        )
    )
    delivered = [o for o in outcomes if isinstance(o, Delivered)]
    assert len(delivered) == count and all(d.later is not None for d in delivered)
    return delivered


async def test_no_more_downloads_while_every_slot_is_held_by_pictures_in_memory(
    core: Core, relay: FakeRelay
) -> None:
    draws = await answered_by_link(core, KEEP_AT_ONCE + 2)
    slots = core.service.keeper._at_once
    futures = [asyncio.ensure_future(d.later.images()) for d in draws if d.later is not None]
    draws.clear()
    await wait_for(lambda: sum(f.done() for f in futures) == KEEP_AT_ONCE, 10, "4 kept")
    held = [f.result() for f in futures if f.done()]
    assert all(held) and slots.locked()  # the other two wait for a slot
    waiting = [f for f in futures if not f.done()]
    futures.clear()  # only `held` and `waiting` keep pictures now
    assert relay.image_fetches == KEEP_AT_ONCE
    held.pop()  # one asker is done with its pictures: the next download may start
    await wait_for(lambda: sum(f.done() for f in waiting) == 1, 10, "a fifth download")
    assert relay.image_fetches == KEEP_AT_ONCE + 1
    held.clear()
    await wait_for(lambda: all(f.done() for f in waiting), 10, "every download")
    waiting.clear()
    gc.collect()
    await wait_for(lambda: not slots.locked(), 10, "every slot given back")


def picture() -> Image:
    return Image(b"\x89PNG" + bytes(20), "image/png", 1, 1)


async def test_a_slot_comes_back_from_another_thread_or_after_its_time() -> None:
    semaphore = asyncio.Semaphore(1)
    slot = Slot(semaphore)
    await slot.take()
    images = [picture(), picture()]
    slot.give_back_when_gone(images, at_most=600)
    images.pop()
    assert semaphore.locked()  # one picture still lives
    dropped = threading.Thread(target=images.clear)  # the last one freed in a worker thread
    dropped.start()
    dropped.join()
    await wait_for(lambda: not semaphore.locked(), 5, "the slot back")

    await slot.take()
    kept_forever = [picture()]
    slot.give_back_when_gone(kept_forever, at_most=0.05)
    await wait_for(lambda: not semaphore.locked(), 5, "the slot back after its time")
    assert kept_forever


async def test_pictures_nobody_wants_are_kept_only_in_their_files(
    core: Core, relay: FakeRelay
) -> None:
    """Delivered by link and never asked for: each download gives its slot back at once and
    holds no bytes; asked for afterwards (/original), they are read from the file."""
    draws = await answered_by_link(core, KEEP_AT_ONCE + 2)
    for draw in draws:
        core.service.keeper.want(draw.generation.id)  # the platform took the link
    async with asyncio.timeout(10):  # more downloads than slots: none may wait on memory
        copies = await asyncio.gather(*(d.later.task for d in draws if d.later is not None))
    assert not core.service.keeper._at_once.locked()
    assert all(copy.held is None and copy.path for each in copies for copy in each)
    url = draws[0].generation.relay_url(0)
    assert url is not None
    async with httpx.AsyncClient() as client:
        served = (await client.get(url)).content
    assert await asyncio.to_thread(Path(copies[0][0].path or "").read_bytes) == served
    assert draws[0].later is not None
    assert [image.data for image in await draws[0].later.images()] == [served]


def jpeg_with_a_long_header(width: int, height: int) -> bytes:
    """A JPEG whose size (its SOF marker) comes after 80 KB of APP1 segments."""
    out = io.BytesIO()
    PIL.Image.new("RGB", (width, height), (200, 40, 40)).save(out, "JPEG")
    plain = out.getvalue()
    segment = b"\xff\xe1" + struct.pack(">H", 40_002) + bytes(40_000)
    return plain[:2] + segment + segment + plain[2:]


async def test_a_jpeg_that_says_its_size_late_is_recorded_with_it(
    core: Core, relay: FakeRelay
) -> None:
    picture = jpeg_with_a_long_header(320, 200)

    async def one(_: web.Request) -> web.Response:
        return web.Response(body=picture, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/late.jpg", one)
    (draw,) = await answered_by_link(core, 1)
    gid = draw.generation.id
    async with served(app) as url:
        copies = await core.service.keeper.start(gid, [url + "/late.jpg"]).task
    assert [(copy.width, copy.height, copy.length) for copy in copies] == [(320, 200, len(picture))]
    row = await core.store.run(Store.get, gid)
    assert row is not None and row.image_meta[0]["width"] == 320
    assert await asyncio.to_thread(Path(row.image_paths[0]).read_bytes) == picture
