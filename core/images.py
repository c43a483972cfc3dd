"""Images: what the relay returned, checked, fetched within a size cap and a deadline, and
re-encoded to fit a platform's upload limit."""

from __future__ import annotations

import asyncio
import base64
import binascii
import http.client
import io
import math
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
import PIL.Image

from core.http import BUFFERS, BlockingGet, BodyError, read_body


@dataclass(frozen=True)
class Image:
    """One picture: its bytes, MIME type and pixel size (0 when the header is unreadable)."""

    data: bytes
    mime: str
    width: int
    height: int

    @property
    def length(self) -> int:
        """Its size in bytes."""
        return len(self.data)

    @property
    def extension(self) -> str:
        return extension_of(self.mime)

    def __repr__(self) -> str:
        return f"Image({self.mime}, {self.width}x{self.height}, {len(self.data)} bytes)"


T = TypeVar("T")


def extension_of(mime: str) -> str:
    """A kept file's extension for a picture of this type."""
    return {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(mime, "bin")


class ImageError(Exception):
    """An image could not be had: too large, unreachable, slow, or not an image."""


def sniff(data: bytes) -> Image:
    """Wrap bytes as an Image, reading type and size from the header; reject non-images."""
    return Image(data, *describe(data))


HEAD_BYTES = 65536  # enough of nearly every picture for `describe` (a JPEG may say its size later)


def describe(head: bytes) -> tuple[str, int, int]:
    """The MIME type and pixel size (0 when unreadable) of the picture starting with `head`;
    ImageError for what is not a picture."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return "image/png", width, height
    if head.startswith(b"\xff\xd8"):
        return ("image/jpeg", *_jpeg_size(head))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ("image/webp", *_webp_size(head))
    raise ImageError("the relay returned something that is not an image")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            index += 1
            continue
        marker = data[index + 1]
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return 0, 0


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return 0, 0


def decode_base64(text: str, *, max_bytes: int) -> Image:
    """An image from the relay's binary_data_base64 entry (a data: prefix is tolerated),
    refused like a download when it decodes to more than `max_bytes`."""
    if text.startswith("data:"):
        text = text.partition(",")[2]
    # 4 characters carry 3 bytes; twice the cap is too long even with line breaks in between,
    # and is refused before decoding. Otherwise the decoded size is what counts.
    if len(text) > 2 * max_bytes + 16:
        raise ImageError(f"the image is larger than {max_bytes} bytes")
    try:
        data = base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ImageError("the relay returned invalid base64 image data") from exc
    if len(data) > max_bytes:
        raise ImageError(f"the image is larger than {max_bytes} bytes")
    return sniff(data)


async def fetch(client: httpx.AsyncClient, url: str, *, max_bytes: int, seconds: float) -> Image:
    """Download one image: refuse bodies over `max_bytes`, give up after `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            return await _download(client, url, max_bytes)
    except TimeoutError as exc:
        raise ImageError(f"the image download took longer than {seconds:g}s") from exc
    except httpx.HTTPError as exc:
        raise ImageError(f"the image download failed ({type(exc).__name__})") from exc


async def _download(client: httpx.AsyncClient, url: str, max_bytes: int) -> Image:
    """The body in one buffer (core.http.read_body), refused past `max_bytes`."""
    async with client.stream("GET", url) as response:
        if response.status_code != 200:
            raise ImageError(f"the image download answered HTTP {response.status_code}")
        try:
            data = await read_body(response, max_bytes)
        except BodyError:
            raise ImageError(f"the image is larger than {max_bytes} bytes") from None
    return sniff(data)


async def fetch_in_thread(
    url: str,
    *,
    max_bytes: int,
    seconds: float,
    proxy: str | None,
    then: Callable[[memoryview], T],
) -> T:
    """`fetch` on a blocking socket in a worker thread (core.http.BlockingGet), for downloads
    nobody waits for, where the CPU counts more than the loop's own client (no SOCKS or
    https:// proxy: `core.http.threadable`). The body is read into a reused buffer
    (core.http.BUFFERS) and handed to `then` in that thread once whole (writing the kept
    file: one hand-off to a thread, not two), outside the download's deadline; `then` must
    not keep the view it is given, and its answer is this one's."""
    get = BlockingGet(url, proxy=proxy, seconds=seconds)

    def work() -> T:
        buffer = BUFFERS.take(max_bytes + 1)
        size = 0
        try:
            with memoryview(buffer) as view:
                size = get.body_into(view, max_bytes)
                with view[:size] as body:
                    return then(body)
        finally:
            BUFFERS.give(buffer, size)

    working = asyncio.get_running_loop().run_in_executor(None, work)
    try:
        try:
            async with asyncio.timeout(seconds):
                return await asyncio.shield(working)
        except TimeoutError:
            get.abort()  # the read ends at once; one already whole finishes `then`
            return await working
    except asyncio.CancelledError:
        get.abort()
        raise
    except (BodyError, OSError, http.client.HTTPException) as exc:
        if get.aborted:
            raise ImageError(f"the image download took longer than {seconds:g}s") from exc
        if isinstance(exc, BodyError):
            raise ImageError(f"the image download failed: {exc}") from exc
        raise ImageError(f"the image download failed ({type(exc).__name__})") from exc


# -- re-encoding to fit a byte limit ----------------------------------------------------------

# Pictures larger than this (in pixels) are not decoded: a relay image is a few megapixels,
# and a header claiming more is a decompression bomb, not a drawing.
FIT_MAX_PIXELS = 64_000_000
# Below this shorter side a picture is not worth sending: the caller says "too large" instead.
FIT_MIN_SIDE = 256
FIT_QUALITIES = (90, 80, 68)
FIT_ROUNDS = 6
FIT_SECONDS = 20.0


def fit_within(
    image: Image,
    max_bytes: int,
    *,
    max_side_sum: int | None = None,
    seconds: float = FIT_SECONDS,
) -> Image | None:
    """`image` itself when it already fits; else a JPEG of it of at most `max_bytes` (and,
    if given, width + height at most `max_side_sum`); None when none can be had (not
    decodable, too many pixels, or still too large at FIT_MIN_SIDE or after `seconds`).

    JPEG at falling quality, then smaller: each round scales by the square root of how far
    the last try was over, so a few encodes suffice. CPU-bound: run it off the event loop
    (`asyncio.to_thread`).
    """
    if len(image.data) <= max_bytes and _sides_fit(image.width, image.height, max_side_sum):
        return image
    try:
        with PIL.Image.open(io.BytesIO(image.data)) as source:
            if source.width * source.height > FIT_MAX_PIXELS:
                return None
            picture = _opaque(source)
    except (OSError, ValueError, SyntaxError, PIL.Image.DecompressionBombError):
        return None
    deadline = time.monotonic() + seconds
    width, height = picture.size
    scale = 1.0
    if max_side_sum is not None and width + height > max_side_sum:
        scale = max_side_sum / (width + height)
    floor = min(FIT_MIN_SIDE, int(min(width, height) * scale))  # what the sides allow at most
    for _ in range(FIT_ROUNDS):
        size = (max(1, int(width * scale)), max(1, int(height * scale)))
        if min(size) < floor or time.monotonic() >= deadline:
            return None
        frame = picture
        if size != picture.size:
            frame = picture.resize(size, PIL.Image.Resampling.LANCZOS)
        smallest = 0
        for quality in FIT_QUALITIES:
            data = _jpeg(frame, quality)
            if len(data) <= max_bytes:
                return Image(data, "image/jpeg", size[0], size[1])
            smallest = len(data)
            if len(data) > 2 * max_bytes:  # hopeless at this size: go straight to the lowest
                data = _jpeg(frame, FIT_QUALITIES[-1])
                if len(data) <= max_bytes:
                    return Image(data, "image/jpeg", size[0], size[1])
                smallest = len(data)
                break
        # JPEG bytes grow about with the pixel count: shrink both sides by the square root
        # of how far over the last try was, with a margin, by at least 10% and at most 70%.
        scale *= min(0.9, max(0.3, math.sqrt(max_bytes / smallest) * 0.9))
    return None


def _sides_fit(width: int, height: int, max_side_sum: int | None) -> bool:
    return max_side_sum is None or width + height <= max_side_sum


def _opaque(source: PIL.Image.Image) -> PIL.Image.Image:
    """The picture decoded as RGB (or grey), transparency laid on white: what JPEG holds."""
    if source.mode in ("RGB", "L"):
        return source.convert(source.mode)
    if source.mode in ("RGBA", "LA", "P", "PA") or "transparency" in source.info:
        rgba = source.convert("RGBA")
        flat = PIL.Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return source.convert("RGB")


def _jpeg(picture: PIL.Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()
