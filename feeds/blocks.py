"""A plain text file read in blocks on every core, handed back in file order.

A block is the run of whole lines that start in `[a, a + BLOCK)`: a line belongs to the block
it starts in, as it belongs to the range it starts in (feeds.ranges). Threads read blocks with
`pread` into a buffer of their own, screen them and count their newlines; the caller takes the
blocks back in order, so line numbers are those of the whole read and no line is lost or read
twice whatever the block size.

The threads run in parallel because the heavy work leaves the GIL: the kernel's copy out of
the page cache, the Hyperscan scan and numpy's newline count. (A memory map would spare the
copy but faults page by page, which measured slower, and a file truncated under a map kills the
process with SIGBUS.) Memory: at most two blocks in flight per thread, plus the candidate
lines of the blocks not yet taken.
"""

from __future__ import annotations

import io
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from feeds.counting import count_newlines
from feeds.ranges import RangeReader, line_start
from feeds.text_scan import ScanCounters, candidate_lines
from monitor.feed import Screen

BLOCK = 4 << 20
_UTF8_BOM = b"\xef\xbb\xbf"


@runtime_checkable
class BufferScreen(Protocol):
    """A screen that reads the first `size` bytes of a reused buffer without copying them."""

    def line_starts_in(self, buf: bytearray, size: int) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class _Block:
    """What one block gave: its size, its newlines and its candidate lines (numbered from 1
    within the block, without their end of line)."""

    size: int
    newlines: int
    last_byte: int  # -1 for an empty block
    found: tuple[tuple[int, bytes], ...]
    candidates: int
    too_long: int


class _Reader:
    """Reads blocks of one open file; one instance is shared by the threads."""

    def __init__(self, path: Path, fd: int, screen: Screen, max_line: int, lo: int, hi: int):
        self._path = path
        self._fd = fd
        self._screen = screen
        self._max_line = max_line
        self._lo = lo
        self._hi = hi
        self._cap = BLOCK + min(max_line, 4 << 20) + 1
        self._local = threading.local()

    def _buffer(self) -> bytearray:
        buf: bytearray | None = getattr(self._local, "buf", None)
        if buf is None:
            buf = bytearray(self._cap)
            self._local.buf = buf
        return buf

    def spans(self) -> Iterator[tuple[int, int]]:
        """(first byte, end byte) of each block in file order: the lines starting in
        `[a, a + BLOCK)`. A block starts where the one before ended, so each boundary is looked
        for once."""
        first = self._lo
        for a in range(self._lo, self._hi, BLOCK):
            end = line_start(self._fd, a + BLOCK, self._lo, self._hi)
            yield first, end
            first = end

    def block(self, span: tuple[int, int]) -> _Block:
        first, end = span
        size = end - first
        if size <= 0:
            return _Block(0, 0, -1, (), 0, 0)
        if size > self._cap:  # an over-long line crosses the block's end: stream it
            return self._streamed(first, end)
        buf = self._buffer()
        got = 0
        with memoryview(buf) as view:
            while got < size:
                n = os.preadv(self._fd, [view[got:size]], first + got)
                if n <= 0:
                    break  # the file shrank while it was read: what is there counts
                got += n
        if got == 0:
            return _Block(0, 0, -1, (), 0, 0)
        return self._screened(buf, got)

    def _screened(self, buf: bytearray, size: int) -> _Block:
        screen, max_line = self._screen, self._max_line
        if isinstance(screen, BufferScreen):
            starts = screen.line_starts_in(buf, size)
        else:
            with memoryview(buf) as view:
                starts = screen.line_starts(view[:size].tobytes())
        found: list[tuple[int, bytes]] = []
        too_long = 0
        seen = prev = 0
        with memoryview(buf) as view:
            for s in starts:
                seen += count_newlines(buf, prev, s)
                prev = s
                e = buf.find(b"\n", s, size)
                e = size if e == -1 else e
                if e - s > max_line:
                    too_long += 1
                    continue
                found.append((seen + 1, view[s:e].tobytes().rstrip(b"\r")))
        newlines = seen + count_newlines(buf, prev, size)
        return _Block(size, newlines, buf[size - 1], tuple(found), len(starts), too_long)

    def _streamed(self, first: int, end: int) -> _Block:
        counters = ScanCounters()
        with io.BufferedReader(RangeReader(self._path.open("rb"), first, end)) as stream:
            found = tuple(candidate_lines(stream, self._screen, counters, max_line=self._max_line))
        if not counters.bytes:  # the file shrank under us: nothing was there
            return _Block(0, 0, -1, (), 0, 0)
        last = os.pread(self._fd, 1, first + counters.bytes - 1)
        ends_line = last == b"\n"
        newlines = max(0, counters.lines - (0 if ends_line else 1))
        last_byte = last[0] if last else -1
        return _Block(
            counters.bytes, newlines, last_byte, found, counters.candidates, counters.too_long
        )


def block_lines(
    path: Path,
    screen: Screen,
    counters: ScanCounters,
    *,
    lo: int = 0,
    hi: int | None = None,
    threads: int = 1,
    max_line: int,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, line) for the lines of `path[lo:hi]` the screen flags, numbered from
    1 at `lo` (a line start), in file order. A UTF-8 byte-order mark at the file's head is not
    part of line 1. Fills `counters` like `candidate_lines`."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        hi = size if hi is None else min(hi, size)
        if lo == 0 and os.pread(fd, 3, 0) == _UTF8_BOM:
            lo = 3
        reader = _Reader(path, fd, screen, max_line, lo, hi)
        if threads <= 1 or hi - lo <= BLOCK:
            blocks: Iterator[_Block] = (reader.block(span) for span in reader.spans())
            yield from _numbered(blocks, counters, on_bytes)
        else:
            yield from _numbered(_parallel(reader, threads), counters, on_bytes)
    finally:
        os.close(fd)


def _parallel(reader: _Reader, threads: int) -> Iterator[_Block]:
    """The blocks in order, read by `threads` threads at most two blocks ahead each."""
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="credwatch-block")
    pending: deque[Future[_Block]] = deque()
    todo = reader.spans()
    try:
        for span in todo:
            pending.append(pool.submit(reader.block, span))
            if len(pending) >= 2 * threads:
                break
        while pending:
            block = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(reader.block, nxt))
            yield block
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True)


def _numbered(
    blocks: Iterator[_Block], counters: ScanCounters, on_bytes: Callable[[int], None] | None
) -> Iterator[tuple[int, bytes]]:
    base = 0
    last = -1
    for block in blocks:
        counters.bytes += block.size
        counters.candidates += block.candidates
        counters.too_long += block.too_long
        if on_bytes is not None and block.size:
            on_bytes(block.size)
        for number, line in block.found:
            yield base + number, line
        base += block.newlines
        if block.size:
            last = block.last_byte
    counters.lines = base + (1 if last not in (-1, 0x0A) else 0)
