"""Tiny dependency-free PNG writer/reader for test fakes (zlib + struct only)."""

from __future__ import annotations

import functools
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.lru_cache(maxsize=32)
def make_png(width: int, height: int, seed: int = 0) -> bytes:
    """Return a valid 8-bit RGB PNG of ``width`` x ``height``.

    The picture is a gradient (red across, green down) with a blue level derived from
    ``seed``. Rows use filter 0 and zlib level 1 so 1536x1536 stays fast.
    """
    if width <= 0 or height <= 0:
        raise ValueError("width and height must be positive")
    row = bytearray(1 + 3 * width)  # leading 0 = filter type "None"
    row[1::3] = bytes(x * 255 // max(width - 1, 1) for x in range(width))
    row[3::3] = bytes([(seed * 97 + 31) % 256]) * width
    raw = bytearray()
    for y in range(height):
        row[2::3] = bytes([y * 255 // max(height - 1, 1)]) * width
        raw += row
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 1))
        + _chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Return ``(width, height)`` from a PNG's IHDR chunk; ValueError if not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return width, height
