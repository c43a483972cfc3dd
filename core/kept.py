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
        folder.mkdir(parents=True, exist_ok=True)
        for index, image in enumerate(images):
            path = folder / f"{generation_id}-{index}.{image.extension}"
            paths.append(str(path))  # before writing: a partly written file is removed too
            path.write_bytes(image.data)
    except OSError as error:
        log.warning("generation %d: images not kept (%s)", generation_id, error)
        with contextlib.suppress(OSError):
            remove_files(paths)
        return []
    return paths


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
