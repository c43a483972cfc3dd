"""core.images: fit_within (an image over a byte limit re-encoded to fit, or None), fetch (one
buffer, the byte cap), and the fakes' realistic pictures."""

from __future__ import annotations

import asyncio
import functools
import io
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator

import httpx
import PIL.Image
import pytest
from aiohttp import web

from core.http import IDLE
from core.images import (
    FIT_MIN_SIDE,
    Image,
    ImageError,
    fetch,
    fetch_in_thread,
    fit_within,
    sniff,
)
from tests.fakes.base import served
from tests.fakes.photo import SEED_BUCKETS, _photo, make_photo
from tests.fakes.png import make_png


def png_of(picture: PIL.Image.Image) -> Image:
    out = io.BytesIO()
    picture.save(out, "PNG")
    return sniff(out.getvalue())


def noise(width: int, height: int) -> Image:
    """A picture that compresses badly, like a detailed drawing."""
    return png_of(PIL.Image.effect_noise((width, height), 90).convert("RGB"))


def decoded(image: Image) -> PIL.Image.Image:
    picture = PIL.Image.open(io.BytesIO(image.data))
    picture.load()
    return picture


def test_an_image_that_fits_is_returned_as_it_is() -> None:
    image = sniff(make_png(64, 48))
    assert fit_within(image, len(image.data)) is image


def test_a_padded_image_is_re_encoded_at_full_size() -> None:
    image = sniff(make_png(1024, 768) + b"\0" * 3_000_000)  # what the fake relay serves
    fitted = fit_within(image, 1_000_000)
    assert fitted is not None and fitted.mime == "image/jpeg"
    assert len(fitted.data) <= 1_000_000
    assert (fitted.width, fitted.height) == (1024, 768) == decoded(fitted).size


def test_a_detailed_image_is_made_smaller_until_it_fits() -> None:
    image = noise(1200, 800)
    limit = len(image.data) // 8
    fitted = fit_within(image, limit)
    assert fitted is not None and len(fitted.data) <= limit
    assert fitted.width < 1200 and abs(fitted.width / fitted.height - 1.5) < 0.01
    assert decoded(fitted).size == (fitted.width, fitted.height)
    assert sniff(fitted.data) == fitted


def test_the_sum_of_sides_is_kept_within_a_limit() -> None:
    image = sniff(make_png(900, 300))
    fitted = fit_within(image, 10_000_000, max_side_sum=600)
    assert fitted is not None and fitted.width + fitted.height <= 600
    assert fitted.width == 3 * fitted.height


def test_transparency_is_laid_on_white() -> None:
    picture = PIL.Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    fitted = fit_within(png_of(picture), 1_000_000, max_side_sum=500)
    assert fitted is not None and fitted.mime == "image/jpeg"
    red, green, blue = decoded(fitted).convert("RGB").getpixel((150, 150))  # type: ignore[misc]
    assert min(red, green, blue) > 245


def test_impossible_limits_give_none() -> None:
    image = noise(600, 600)
    assert fit_within(image, 500) is None  # not even at the smallest size worth sending
    broken = sniff(make_png(1024, 1024)[:4000])  # a truncated download
    assert fit_within(broken, 1000) is None
    assert fit_within(sniff(b"\xff\xd8" + b"\0" * 5000), 1000) is None  # not a JPEG at all


def test_a_decompression_bomb_is_not_decoded() -> None:
    """A header claiming 40000x40000 pixels is refused at once, not inflated."""
    header = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
    started = time.monotonic()
    assert fit_within(sniff(data + b"\0" * 2000), 1000) is None
    assert time.monotonic() - started < 1


def test_fitting_is_bounded_in_time() -> None:
    image = noise(2048, 2048)
    started = time.monotonic()
    fitted = fit_within(image, 150_000)
    assert time.monotonic() - started < 10
    assert fitted is not None and min(fitted.width, fitted.height) >= FIT_MIN_SIDE
    assert fit_within(image, 150_000, seconds=0) is None  # the deadline holds too


# -- the fakes' realistic pictures (tests/fakes/photo.py) --------------------------------------


def test_realistic_photos_are_megabytes_of_png_that_pillow_decodes() -> None:
    data = make_photo(1536, 1024, seed=7)
    assert 2_000_000 <= len(data) <= 4_000_000
    image = sniff(data)
    assert (image.mime, image.width, image.height) == ("image/png", 1536, 1024)
    picture = decoded(image)
    assert picture.size == (1536, 1024) and picture.mode == "RGB"
    colours = picture.crop((0, 0, 64, 64)).getcolors(64 * 64)
    assert colours is not None and len(colours) > 1000  # grain, not flat colour


def test_realistic_photos_are_deterministic_and_cached_per_seed_bucket() -> None:
    data = make_photo(1536, 1024, seed=7)
    assert make_photo(1536, 1024, seed=7) is data  # cached, not made again
    assert make_photo(1536, 1024, seed=7 + SEED_BUCKETS) is data
    assert make_photo(1536, 1024, seed=8) != data
    fresh = _photo.__wrapped__(1536, 1024, 7 % SEED_BUCKETS, "png")  # bypass the cache
    assert fresh == data


def test_realistic_photos_as_jpeg() -> None:
    image = sniff(make_photo(1536, 1024, seed=7, fmt="jpeg"))
    assert (image.mime, image.width, image.height) == ("image/jpeg", 1536, 1024)
    assert 200_000 <= len(image.data) <= 1_000_000
    assert decoded(image).size == (1536, 1024)


# -- fetch: one buffer, the byte cap, exactly the bytes served ---------------------------------


class Body(httpx.AsyncByteStream):
    """A response body served in 16 KB chunks (like httpx-aiohttp's), counting what was read;
    `endless` repeats the data forever, `pause` waits before each chunk."""

    def __init__(self, data: bytes, *, endless: bool = False, pause: float = 0.0) -> None:
        self.data, self.endless, self.pause, self.sent = data, endless, pause, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            for start in range(0, len(self.data), 16384):
                await asyncio.sleep(self.pause)
                chunk = self.data[start : start + 16384]
                self.sent += len(chunk)
                yield chunk
            if not self.endless:
                return


def serving(body: Body, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers or {}, stream=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_fetch_refuses_a_declared_length_over_the_cap_before_reading_the_body() -> None:
    body = Body(make_png(64, 64))
    async with serving(body, {"content-length": "100001"}) as client:
        with pytest.raises(ImageError, match="larger than 100000 bytes"):
            await fetch(client, "http://relay/i.png", max_bytes=100_000, seconds=5)
    assert body.sent == 0


async def test_fetch_refuses_a_body_that_grows_over_the_cap_without_a_length() -> None:
    body = Body(make_png(256, 256), endless=True)
    async with serving(body) as client:
        with pytest.raises(ImageError, match="larger than 100000 bytes"):
            await fetch(client, "http://relay/i.png", max_bytes=100_000, seconds=5)
    assert 100_000 < body.sent <= 100_000 + 16384  # stopped at the chunk that went over


async def test_fetch_refuses_a_body_longer_than_its_declared_length_past_the_cap() -> None:
    body = Body(make_png(256, 256), endless=True)
    async with serving(body, {"content-length": "50000"}) as client:
        with pytest.raises(ImageError, match="larger than 100000 bytes"):
            await fetch(client, "http://relay/i.png", max_bytes=100_000, seconds=5)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_fetch_returns_exactly_the_bytes_served(declared: bool) -> None:
    data = make_photo(1536, 1024, seed=7)
    headers = {"content-length": str(len(data))} if declared else {}
    async with serving(Body(data), headers) as client:
        image = await fetch(client, "http://relay/i.png", max_bytes=len(data), seconds=5)
    assert type(image.data) is bytes and image.data == data
    assert (image.width, image.height) == (1536, 1024)


async def test_fetch_keeps_only_what_arrived_when_the_declared_length_was_larger() -> None:
    # e.g. a compressed transfer: the length declared is not the length decoded
    data = make_png(64, 48)
    async with serving(Body(data), {"content-length": str(len(data) + 1000)}) as client:
        image = await fetch(client, "http://relay/i.png", max_bytes=100_000, seconds=5)
    assert image.data == data


async def test_fetch_gives_up_on_a_body_that_trickles_past_its_time() -> None:
    body = Body(make_png(256, 256), endless=True, pause=0.05)
    started = time.monotonic()
    async with serving(body) as client:
        with pytest.raises(ImageError, match=r"took longer than 0\.3s"):
            await fetch(client, "http://relay/i.png", max_bytes=100_000_000, seconds=0.3)
    assert time.monotonic() - started < 1.0


# -- fetch_in_thread: read whole on a blocking socket, over real HTTP ---------------------------


@pytest.fixture
async def server() -> AsyncIterator[str]:
    """A local HTTP server: /photo (with Content-Length), /chunked (without), /endless (a
    body without end, chunked), /trickle (a chunk every 50 ms), /big (declares 100001 bytes),
    /gone (404), /moved (a redirect to /photo). Its base URL."""
    photo = make_photo(1536, 1024, seed=7)

    async def streamed(request: web.Request, pause: float, endless: bool) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        while True:
            for start in range(0, len(photo), 65536):
                await asyncio.sleep(pause)
                await response.write(photo[start : start + 65536])
            if not endless:
                await response.write_eof()
                return response

    async def photo_(_: web.Request) -> web.Response:
        return web.Response(body=photo, content_type="image/png")

    async def small(_: web.Request) -> web.Response:
        return web.Response(body=make_png(64, 48), content_type="image/png")

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100001"})
        await response.prepare(request)
        return response  # never sends the body: it must not be waited for

    async def gone(_: web.Request) -> web.Response:
        return web.Response(status=404, text="expired")

    async def moved(_: web.Request) -> web.Response:
        raise web.HTTPFound("/photo")

    app = web.Application()
    app.router.add_get("/photo", photo_)
    app.router.add_get("/small", small)
    app.router.add_get("/chunked", functools.partial(streamed, pause=0.0, endless=False))
    app.router.add_get("/endless", functools.partial(streamed, pause=0.0, endless=True))
    app.router.add_get("/trickle", functools.partial(streamed, pause=0.05, endless=True))
    app.router.add_get("/big", big)
    app.router.add_get("/gone", gone)
    app.router.add_get("/moved", moved)
    async with served(app) as url:
        yield url


def copied(body: memoryview) -> Image:
    return sniff(bytes(body))


async def fetch_whole(url: str, max_bytes: int = 20_000_000, seconds: float = 10) -> Image:
    return await fetch_in_thread(url, max_bytes=max_bytes, seconds=seconds, proxy=None, then=copied)


@pytest.mark.parametrize("path", ["/photo", "/chunked", "/moved"])
async def test_fetch_in_thread_returns_exactly_the_bytes_served(server: str, path: str) -> None:
    image = await fetch_whole(server + path)
    assert type(image.data) is bytes and image.data == make_photo(1536, 1024, seed=7)
    assert (image.width, image.height) == (1536, 1024)


@pytest.mark.parametrize("path", ["/big", "/endless"], ids=["declared", "growing"])
async def test_fetch_in_thread_refuses_a_body_over_the_cap(server: str, path: str) -> None:
    with pytest.raises(ImageError, match="larger than 100000 bytes"):
        await fetch_whole(server + path, max_bytes=100_000)


async def test_fetch_in_thread_says_what_a_gone_link_answered(server: str) -> None:
    with pytest.raises(ImageError, match="HTTP 404"):
        await fetch_whole(server + "/gone")


async def test_fetch_in_thread_gives_up_on_a_body_that_trickles_past_its_time(
    server: str,
) -> None:
    with pytest.raises(ImageError, match=r"took longer than 0\.3s"):
        await fetch_whole(server + "/trickle", seconds=0.3)


async def test_fetch_in_thread_refuses_what_is_not_an_http_link() -> None:
    with pytest.raises(ImageError, match="not an http"):
        await fetch_whole("ftp://relay/i.png")


async def test_fetch_in_thread_hands_the_whole_body_to_then_in_its_thread(server: str) -> None:
    seen: list[tuple[bytes, str]] = []

    def then(body: memoryview) -> int:
        seen.append((bytes(body), threading.current_thread().name))
        return len(body)

    length = await fetch_in_thread(
        server + "/photo", max_bytes=20_000_000, seconds=10, proxy=None, then=then
    )
    assert seen == [(make_photo(1536, 1024, seed=7), seen[0][1])] and length == len(seen[0][0])
    assert seen[0][1] != threading.current_thread().name  # the worker's, not the loop's


async def test_fetch_in_thread_never_calls_then_for_a_download_cut_short(server: str) -> None:
    seen: list[bytes] = []
    with pytest.raises(ImageError, match=r"took longer than 0\.3s"):
        await fetch_in_thread(
            server + "/trickle",
            max_bytes=20_000_000,
            seconds=0.3,
            proxy=None,
            then=lambda body: seen.append(bytes(body)),
        )
    await asyncio.sleep(0.3)  # the worker has long ended
    assert seen == []


async def test_bodies_one_after_another_reuse_a_buffer_and_never_show_the_last_one(
    server: str,
) -> None:
    """A body read into a buffer that held a longer one before is exactly itself."""
    small = await fetch_whole(server + "/small")
    large = await fetch_whole(server + "/photo")
    again = await fetch_whole(server + "/small")
    assert small.data == again.data == make_png(64, 48) and len(large.data) > len(small.data)


async def test_a_connection_idle_too_long_is_not_used_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A NAT may drop an idle connection without a word: past `max_idle` a download opens a
    new one (and the old one is closed) instead of waiting out its deadline on it."""
    monkeypatch.setattr(IDLE, "max_idle", 0.2)
    photo = make_png(64, 48)
    peers: list[object] = []

    async def one(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername"))
        return web.Response(body=photo, content_type="image/png")

    app = web.Application()
    app.router.add_get("/p", one)
    async with served(app) as url:
        for pause in (0.0, 0.0, 0.4):
            await asyncio.sleep(pause)
            assert (await fetch_whole(url + "/p")).data == photo
    assert peers[0] == peers[1] != peers[2]


async def test_downloads_to_one_place_share_a_connection_and_outlive_its_closing() -> None:
    """One after another to the same host, downloads go over one kept-open connection; one
    that the server closed while it was idle is replaced, without an error."""
    photo = make_png(64, 48)
    peers: list[object] = []
    transports: list[asyncio.BaseTransport] = []

    async def one(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername"))
        transports.append(request.transport)
        return web.Response(body=photo, content_type="image/png")

    app = web.Application()
    app.router.add_get("/p", one)
    async with served(app) as url:
        for _ in range(3):
            assert (await fetch_whole(url + "/p")).data == photo
        assert len(peers) == 3 and len(set(peers)) == 1
        transports[-1].close()  # the server ends the idle connection
        await asyncio.sleep(0.1)
        assert (await fetch_whole(url + "/p")).data == photo
        assert len(set(peers)) == 2
