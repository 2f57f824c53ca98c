"""Newlines counted outside the GIL (numpy), so threads reading blocks run in parallel."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from types import ModuleType


def count_newlines(buf: bytearray | bytes, start: int, stop: int) -> int:
    """Newlines in `buf[start:stop]`, without copying it."""
    if stop <= start:
        return 0
    np = _numpy() if stop - start >= _NUMPY_FROM else None
    if np is None:
        return buf.count(b"\n", start, stop)
    view = np.frombuffer(buf, np.uint8, stop - start, start)
    try:
        return int(np.count_nonzero(view == 10))
    finally:
        del view


_NUMPY_FROM = 64 << 10  # below this, bytearray.count is as quick (and numpy not worth loading)


@cache
def _numpy() -> ModuleType | None:
    """numpy, imported when the first block is counted (it costs ~0.1 s of start-up). Only its
    element-wise loops are used: OpenBLAS's thread pool, which numpy starts on import and whose
    idle threads spin for CPU the readers need, is kept to the calling thread."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy is a dependency; bytearray.count is the fallback
        return None
    return numpy


_PIECE = 8 << 20


def _count_piece(fd: int, start: int, stop: int) -> int:
    buf = bytearray(min(_PIECE, stop - start))
    count = 0
    pos = start
    with memoryview(buf) as view:
        while pos < stop:
            n = os.preadv(fd, [view[: min(len(buf), stop - pos)]], pos)
            if n <= 0:
                break
            count += count_newlines(buf, 0, n)
            pos += n
    return count


def file_newlines(fd: int, start: int, stop: int, *, threads: int = 1) -> int:
    """Newlines in bytes [start, stop) of the open file `fd`, counted by up to `threads`
    threads (reading and counting both leave the GIL)."""
    if stop <= start:
        return 0
    pieces = [(a, min(a + 4 * _PIECE, stop)) for a in range(start, stop, 4 * _PIECE)]
    if threads <= 1 or len(pieces) == 1:
        return sum(_count_piece(fd, a, b) for a, b in pieces)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="credwatch-count") as pool:
        return sum(pool.map(lambda p: _count_piece(fd, *p), pieces))
