"""The kept copies of images under IMAGE_DIR: written after a draw, read for /original and
for delivery after a restart, deleted by retention and /forget."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from core.images import Image, ImageError, sniff
from core.records import Generation

log = logging.getLogger(__name__)


def save_images(folder: Path, generation_id: int, images: list[Image]) -> list[str]:
    """Write the images into `folder`; the paths written. A failing disk (full, read-only)
    keeps none: the draw is delivered from memory all the same."""
    paths: list[str] = []
    try:
        for index, image in enumerate(images):
            path = kept_path(folder, generation_id, index, image)
            paths.append(str(path))  # before writing: a partly written file is removed too
            write_file(path, image.data)
    except OSError as error:
        log.warning("generation %d: images not kept (%s)", generation_id, error)
        with contextlib.suppress(OSError):
            remove_files(paths)
        return []
    return paths


def kept_path(folder: Path, generation_id: int, index: int, image: Image) -> Path:
    return folder / f"{generation_id}-{index}.{image.extension}"


def write_file(path: Path, data: bytes) -> None:
    """Write `data` as the file `path` (its folder made if need be), its blocks reserved up
    front: ext4 otherwise reserves them page by page, which cost 1-4 ms of CPU for a 4 MB
    picture against 0.6-1 ms so (README, Benchmarks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        if data and hasattr(os, "posix_fallocate"):  # Linux; elsewhere a plain write
            os.posix_fallocate(file.fileno(), 0, len(data))
        file.write(data)


def load_images(generation: Generation) -> list[Image]:
    """The stored files of a generation, skipping any that are gone."""
    images = []
    for path in generation.image_paths:
        try:
            images.append(sniff(Path(path).read_bytes()))
        except (OSError, ImageError):
            continue
    return images


def remove_files(paths: list[str]) -> int:
    """Delete kept image files, skipping those already gone; how many were deleted."""
    removed = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
            removed += 1
    return removed
