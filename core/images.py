"""Images: what the relay returned, checked, fetched within a size cap and a deadline."""

from __future__ import annotations

import asyncio
import base64
import binascii
import struct
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Image:
    """One picture: its bytes, MIME type and pixel size (0 when the header is unreadable)."""

    data: bytes
    mime: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(self.mime, "bin")

    def __repr__(self) -> str:
        return f"Image({self.mime}, {self.width}x{self.height}, {len(self.data)} bytes)"


class ImageError(Exception):
    """An image could not be had: too large, unreachable, slow, or not an image."""


def sniff(data: bytes) -> Image:
    """Wrap bytes as an Image, reading type and size from the header; reject non-images."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return Image(data, "image/png", width, height)
    if data.startswith(b"\xff\xd8"):
        width, height = _jpeg_size(data)
        return Image(data, "image/jpeg", width, height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        width, height = _webp_size(data)
        return Image(data, "image/webp", width, height)
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
    async with client.stream("GET", url) as response:
        if response.status_code != 200:
            raise ImageError(f"the image download answered HTTP {response.status_code}")
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise ImageError(f"the image is larger than {max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise ImageError(f"the image is larger than {max_bytes} bytes")
            chunks.append(chunk)
    return sniff(b"".join(chunks))
