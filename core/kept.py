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
    for index, image in enumerate(images):
        path = save_image(folder, generation_id, index, image)
        if path is None:
            with contextlib.suppress(OSError):
                remove_files(paths)
            return []
        paths.append(path)
    return paths


def save_image(folder: Path, generation_id: int, index: int, image: Image) -> str | None:
    """Write one image as `<generation id>-<index>.<ext>` in `folder` (made if need be), its
    blocks reserved up front: ext4 otherwise reserves them page by page, which cost 1-4 ms of
    CPU for a 4 MB picture against 0.6-1 ms so (README, Benchmarks). Its path; None when the
    disk failed (a partly written file is removed)."""
    path = folder / f"{generation_id}-{index}.{image.extension}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            if image.data and hasattr(os, "posix_fallocate"):  # Linux; elsewhere a plain write
                os.posix_fallocate(file.fileno(), 0, len(image.data))
            file.write(image.data)
    except OSError as error:
        log.warning("generation %d: images not kept (%s)", generation_id, error)
        with contextlib.suppress(OSError):
            remove_files([str(path)])
        return None
    return str(path)


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
