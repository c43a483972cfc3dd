"""Photographic-like pictures for the fakes: what Jimeng 2.1 with super-resolution sends.

A real answer is 1536x1024 or larger, 2.5-4 MB of PNG that barely compresses (grain and
detail everywhere); the gradient PNGs of `tests.fakes.png` are ten times smaller and cost the
bot far less to download, hold and upload. These are smooth colour fields (a few random colours
blown up bicubically, like light and large shapes) with fine noise over them, so PNG lands in
that range: 1536x1024 is about 2.8 MB, 1536x1536 about 4.2 MB; as JPEG (quality 92) about
0.35 MB and 0.5 MB.

Deterministic: the same (width, height, seed, format) gives the same bytes. Generating one
takes about 0.3 s, so pictures are made one at a time and cached per (size, seed bucket,
format): seeds that agree modulo SEED_BUCKETS share a picture, and a fake answering many draws
spends its CPU once.
"""

from __future__ import annotations

import functools
import io
import random
import threading
from typing import Literal

import PIL.Image
import PIL.ImageChops

PhotoFormat = Literal["png", "jpeg"]

SEED_BUCKETS = 4
NOISE = 16  # noise amplitude in levels (0..15 added to each channel)
JPEG_QUALITY = 92
MIME = {"png": "image/png", "jpeg": "image/jpeg"}
_making = threading.Lock()  # 100 threads asking at once for a new picture make it once


def make_photo(width: int, height: int, seed: int = 0, fmt: PhotoFormat = "png") -> bytes:
    """A photographic-like picture of `width` x `height` as PNG or JPEG bytes (cached)."""
    if width <= 0 or height <= 0:
        raise ValueError("width and height must be positive")
    if fmt not in MIME:
        raise ValueError(f"format must be png or jpeg, not {fmt!r}")
    with _making:
        return _photo(width, height, seed % SEED_BUCKETS, fmt)


@functools.lru_cache(maxsize=16)
def _photo(width: int, height: int, bucket: int, fmt: PhotoFormat) -> bytes:
    rng = random.Random(f"drawbot-photo {width}x{height} {bucket}")
    field = PIL.Image.frombytes("RGB", (8, 6), rng.randbytes(8 * 6 * 3))
    base = field.resize((width, height), PIL.Image.Resampling.BICUBIC)
    table = bytes(level * NOISE // 256 for level in range(256))
    grain = rng.randbytes(width * height * 3).translate(table)
    picture = PIL.ImageChops.add(base, PIL.Image.frombytes("RGB", (width, height), grain))
    out = io.BytesIO()
    if fmt == "png":
        picture.save(out, "PNG")  # zlib level 6, like most encoders
    else:
        picture.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
