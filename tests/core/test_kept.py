"""Kept files written from a body in a page-aligned buffer (core/kept.py: write_body): whole
blocks straight to the disk, the rest (or all, where O_DIRECT is refused) through the page
cache; either way the file holds exactly the body."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import pytest

from core.http import Buffers
from core.kept import BLOCK, DIRECT, save_body, write_body


def body_in_buffer(data: bytes) -> tuple[mmap.mmap, int]:
    buffer = Buffers().take(len(data) + 1)
    buffer[: len(data)] = data
    buffer[len(data) : len(data) + 1] = b"!"  # what the buffer held past the body
    return buffer, len(data)


@pytest.mark.parametrize("length", [1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7, 1_866_788])
def test_the_file_holds_exactly_the_body(tmp_path: Path, length: int) -> None:
    data = os.urandom(length)
    buffer, size = body_in_buffer(data)
    with memoryview(buffer) as view, view[:size] as body:
        write_body(tmp_path / "k.png", body)
    assert (tmp_path / "k.png").read_bytes() == data


def test_a_body_not_on_a_page_is_written_all_the_same(tmp_path: Path) -> None:
    """O_DIRECT refuses a buffer that does not start on a block (EINVAL): the page cache
    takes it instead."""
    data = os.urandom(5 * BLOCK + 3)
    buffer, size = body_in_buffer(b"x" + data)
    with memoryview(buffer) as view, view[1:size] as body:
        write_body(tmp_path / "k.png", body)
    assert (tmp_path / "k.png").read_bytes() == data


@pytest.mark.skipif(not DIRECT, reason="O_DIRECT is Linux's")
def test_a_kept_file_skips_the_page_cache(tmp_path: Path) -> None:
    """Its whole blocks are not left in memory: only the last part block is cached."""
    data = os.urandom(64 * BLOCK + 100)
    buffer, size = body_in_buffer(data)
    with memoryview(buffer) as view, view[:size] as body:
        write_body(tmp_path / "k.png", body)
    cached = resident_pages(tmp_path / "k.png")
    assert cached <= 1, f"{cached} of 65 pages in the page cache"


def resident_pages(path: Path) -> int:
    """How many of the file's pages are in the page cache (mincore over a map of it)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    ]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    size = path.stat().st_size
    with path.open("rb") as file:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, file.fileno(), 0)
        try:
            pages = -(-size // mmap.PAGESIZE)
            vector = ctypes.create_string_buffer(pages)
            assert libc.mincore(address, size, vector) == 0, ctypes.get_errno()
            return sum(byte & 1 for byte in vector.raw)
        finally:
            libc.munmap(address, size)


def test_a_full_disk_keeps_no_file(tmp_path: Path) -> None:
    """/dev/full refuses every write (ENOSPC): no path, and no partly written file left."""
    folder = tmp_path / "kept"
    folder.mkdir()
    (folder / "7-0.png").symlink_to("/dev/full")
    buffer, size = body_in_buffer(os.urandom(3 * BLOCK))
    with memoryview(buffer) as view, view[:size] as body:
        assert save_body(folder, 7, 0, "png", body) is None
    assert not (folder / "7-0.png").exists()
