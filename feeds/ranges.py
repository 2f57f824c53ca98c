"""Byte ranges of a plain text base: how a file is cut into units and how one range is read.

A line belongs to the range it starts in. A range [start, stop) is read from the first line
start at or after `start` to the first line start at or after `stop`, so consecutive ranges
read every line exactly once whatever the range size. Line numbers stay those of the whole
file: the reader counts the newlines before its first line from the nearest point known, by this
process or published by another one that read the ranges before (so each byte is counted about
once, whoever reads it).
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path
from typing import BinaryIO

from feeds.counting import file_newlines
from monitor.feed import LineMarks

_STEP = 8 << 20
_known: dict[tuple[str, int], int] = {}  # (file identity, line start) -> lines before it
_known_lock = threading.Lock()


def spans(size: int, range_size: int) -> list[tuple[int, int]]:
    """The ranges a file of `size` bytes is cut into."""
    return [(a, min(a + range_size, size)) for a in range(0, size, range_size)]


_PROBE = 8 << 10


def line_start(fd: int, offset: int, lo: int, hi: int) -> int:
    """The first line start at or after `offset` in bytes [lo, hi] of the open file `fd`
    (`lo` itself is one; `hi` when no line starts before it)."""
    if offset <= lo:
        return lo
    if offset >= hi:
        return hi
    pos = offset - 1
    while pos < hi:
        data = os.pread(fd, min(_PROBE, hi - pos), pos)
        if not data:
            return hi
        nl = data.find(b"\n")
        if nl != -1:
            return pos + nl + 1
        pos += len(data)
    return hi


def lines_before(
    f: BinaryIO, offset: int, key: str, *, threads: int = 1, marks: LineMarks | None = None
) -> int:
    """How many newlines the file holds before `offset` (a line start), counted by up to
    `threads` threads from the nearest point already known here or published by another
    process (`marks`)."""
    with _known_lock:
        base, count = 0, 0
        for (k, at), n in _known.items():
            if k == key and base < at <= offset:
                base, count = at, n
    if marks is not None and base < offset:
        shared = marks.nearest(key, offset)
        if shared is not None and base < shared[0] <= offset:
            base, count = shared
    count += file_newlines(f.fileno(), base, offset, threads=threads)
    remember(key, offset, count)
    return count


def remember(key: str, offset: int, count: int, marks: LineMarks | None = None) -> None:
    """Note that `count` lines come before `offset` in the file known as `key` (and tell the
    other processes, with `marks`)."""
    with _known_lock:
        if len(_known) > 4096:
            _known.clear()
        _known[(key, offset)] = count
    if marks is not None:
        marks.publish(key, offset, count)


class RangeReader(io.RawIOBase):
    """The bytes of a file from one line start up to another (the range's own lines)."""

    def __init__(self, f: BinaryIO, start: int, end: int) -> None:
        self._f = f
        self._left = end - start
        f.seek(start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._left <= 0:
            return 0
        want = min(len(buffer), self._left)
        data = self._f.read(want)
        n = len(data)
        buffer[:n] = data
        self._left -= n
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


def bounds(path: Path, start: int, stop: int) -> tuple[int, int]:
    """Where range [start, stop) of `path` lies: (first byte, end byte)."""
    with path.open("rb") as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        return line_start(fd, start, 0, size), line_start(fd, stop, 0, size)


def count_before(
    path: Path, first: int, key: str, *, threads: int = 1, marks: LineMarks | None = None
) -> int:
    """The lines of `path` before line start `first` (see `lines_before`)."""
    with path.open("rb") as f:
        return lines_before(f, first, key, threads=threads, marks=marks)


def locate(
    path: Path, start: int, stop: int, key: str, *, threads: int = 1
) -> tuple[int, int, int]:
    """Where range [start, stop) of `path` lies: (first byte, end byte, lines before it)."""
    first, end = bounds(path, start, stop)
    return first, end, count_before(path, first, key, threads=threads)


def open_span(path: Path, first: int, end: int) -> BinaryIO:
    """The bytes of `path` from line start `first` to line start `end`."""
    return io.BufferedReader(RangeReader(path.open("rb"), first, end), _STEP)
