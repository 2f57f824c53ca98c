"""Byte ranges of a text base: every line read once, with its whole-file number, whatever the cut."""

from __future__ import annotations

import bz2
import gzip
import random
from pathlib import Path

import pytest

from feeds import ranges
from feeds.reader import FileFeed


def read_all(path: Path, size: int) -> list[tuple[int, bytes]]:
    """(line number, line) of every line, reading the file range by range."""
    got: list[tuple[int, bytes]] = []
    total = path.stat().st_size
    for start, stop in ranges.spans(total, size):
        first, end, before = ranges.locate(path, start, stop, key=f"{path}:{size}")
        with ranges.open_span(path, first, end) as stream:
            data = stream.read()
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        got.extend((before + i + 1, line) for i, line in enumerate(lines))
    return got


def whole(path: Path) -> list[tuple[int, bytes]]:
    lines = path.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [(i + 1, line) for i, line in enumerate(lines)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 10, 64, 1000, 10_000])
@pytest.mark.parametrize("seed", range(5))
def test_every_line_once_with_its_number(tmp_path: Path, size: int, seed: int) -> None:
    rnd = random.Random(seed)
    parts = []
    for _ in range(rnd.randint(0, 200)):
        eol = rnd.choice([b"\n", b"\r\n", b"\n\n"])
        parts.append(bytes(rnd.choice(b"ab:/.\r") for _ in range(rnd.randint(0, 30))) + eol)
    if rnd.random() < 0.5:
        parts.append(b"no final newline")
    path = tmp_path / "base.txt"
    path.write_bytes(b"".join(parts))
    assert read_all(path, size) == whole(path)


def test_line_straddling_a_boundary_belongs_to_the_range_it_starts_in(tmp_path: Path) -> None:
    path = tmp_path / "b.txt"
    path.write_bytes(b"aaaa\r\nbbbbbbbb\r\ncc\n")
    start, end, before = ranges.locate(path, 0, 8, key="x")
    with ranges.open_span(path, start, end) as first:
        assert first.read() == b"aaaa\r\nbbbbbbbb\r\n" and before == 0 and (start, end) == (0, 16)
    start, end, before = ranges.locate(path, 8, 19, key="x")
    with ranges.open_span(path, start, end) as second:
        assert second.read() == b"cc\n" and before == 2 and start == 16


def text_base(path: Path, lines: int) -> Path:
    path.write_bytes(
        b"".join(b"https://h%d.example/:u%d:p%d\r\n" % (i, i, i) for i in range(lines))
    )
    return path


def test_split_cuts_only_large_plain_text_bases(tmp_path: Path) -> None:
    feed = FileFeed()
    big = text_base(tmp_path / "big.txt", 2000)
    assert feed.split(big, 1000) == ranges.spans(big.stat().st_size, 1000)
    assert feed.split(big, big.stat().st_size) is None  # smaller than one range
    utf16 = tmp_path / "u16.txt"
    utf16.write_bytes(big.read_text().encode("utf-16"))
    assert feed.split(utf16, 1000) is None
    gz = tmp_path / "big.txt.gz"
    gz.write_bytes(gzip.compress(big.read_bytes(), compresslevel=0))
    assert feed.split(gz, 1000) is None
    bz = tmp_path / "big.txt.bz2"
    bz.write_bytes(bz2.compress(big.read_bytes()))
    assert feed.split(bz, 10) is None
    assert feed.split(tmp_path, 10) is None  # a folder is one unit
