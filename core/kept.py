"""The kept copies of images under IMAGE_DIR: written after a draw, read for /original and
for delivery after a restart, deleted by retention and /forget."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Callable
from pathlib import Path

from core.images import Image, ImageError, sniff
from core.records import Generation

log = logging.getLogger(__name__)


def save_images(folder: Path, generation_id: int, images: list[Image]) -> list[str]:
    """Write the images into `folder`; the paths written. A failing disk (full, read-only)
    keeps none: the draw is delivered from memory all the same."""
    paths: list[str] = []
    for index, image in enumerate(images):
        path = save_image(folder, generation_id, index, image)
        if path is None:
            with contextlib.suppress(OSError):
                remove_files(paths)
            return []
        paths.append(path)
    return paths


def save_image(folder: Path, generation_id: int, index: int, image: Image) -> str | None:
    """Write one image as `<generation id>-<index>.<ext>` in `folder`; its path, None when
    the disk failed."""
    return _saved(
        folder, generation_id, index, image.extension, lambda path: _write(path, image.data)
    )


def save_body(
    folder: Path, generation_id: int, index: int, extension: str, body: memoryview
) -> str | None:
    """`save_image` for a body read into one of core.http's page-aligned buffers, written
    with `write_body`."""
    return _saved(folder, generation_id, index, extension, lambda path: write_body(path, body))


def _saved(
    folder: Path, generation_id: int, index: int, extension: str, write: Callable[[Path], None]
) -> str | None:
    """`write` the file `<generation id>-<index>.<ext>` in `folder` (made if need be); its
    path, or None when the disk failed (a partly written file is removed)."""
    path = folder / f"{generation_id}-{index}.{extension}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write(path)
    except OSError as error:
        log.warning("generation %d: images not kept (%s)", generation_id, error)
        with contextlib.suppress(OSError):
            remove_files([str(path)])
        return None
    return str(path)


def _write(path: Path, data: bytes) -> None:
    """A new file holding `data`, its blocks reserved up front: ext4 otherwise reserves them
    page by page, which cost 1-4 ms of CPU for a 4 MB picture against 0.6-1 ms so (README,
    Benchmarks)."""
    with path.open("wb") as file:
        if data and hasattr(os, "posix_fallocate"):  # Linux; elsewhere a plain write
            os.posix_fallocate(file.fileno(), 0, len(data))
        file.write(data)


DIRECT = getattr(os, "O_DIRECT", 0)  # Linux
BLOCK = 4096  # what O_DIRECT writes in: a multiple of any disk's logical block


def write_body(path: Path, body: memoryview) -> None:
    """A new file holding `body`, which starts on a page (core.http.Buffers). Its whole
    blocks go straight to the disk (O_DIRECT): the copy into the page cache was most of a
    kept copy's CPU here (1.9 ms of 2.5 ms for a 1.87 MB picture, README: Benchmarks), the
    page cache being memory touched for the first time. The last part block, or all of it
    where the file system refuses O_DIRECT (EINVAL), goes through the page cache."""
    whole = len(body) // BLOCK * BLOCK if DIRECT else 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        fd = os.open(path, flags | (DIRECT if whole else 0), 0o666)
    except OSError as error:
        if error.errno != errno.EINVAL or not whole:
            raise
        fd, whole = os.open(path, flags, 0o666), 0
    try:
        done = 0
        if whole:
            try:
                done = _write_all(fd, body[:whole])
            except OSError as error:
                if error.errno != errno.EINVAL:
                    raise
                os.lseek(fd, 0, os.SEEK_SET)  # all of it through the page cache
            import fcntl  # POSIX, as O_DIRECT is: core.kept stays importable elsewhere

            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~DIRECT)
        _write_all(fd, body[done:])
    finally:
        os.close(fd)


def _write_all(fd: int, data: memoryview) -> int:
    """Write all of `data`; how many bytes that was."""
    total = len(data)
    while data:
        data = data[os.write(fd, data) :]
    return total


def load_images(generation: Generation) -> list[Image]:
    """The stored files of a generation, skipping any that are gone."""
    return [image for path in generation.image_paths if (image := read_image(path)) is not None]


def read_image(path: str) -> Image | None:
    """A kept file's picture; None when it is gone (or not a picture any more)."""
    try:
        return sniff(Path(path).read_bytes())
    except (OSError, ImageError):
        return None


def remove_files(paths: list[str]) -> int:
    """Delete kept image files, skipping those already gone; how many were deleted."""
    removed = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
            removed += 1
    return removed
