"""The per-member watchdog: a member that costs more CPU than its budget becomes a Problem.

Parsers are linear in their input; this is the backstop when one is not. The budget is CPU
time of the reading thread (time spent waiting on the store does not count), and it grows
with what the member has produced, so a big honest member is never cut: `seconds` plus one
second per `BYTES_PER_SECOND` read.
"""

from __future__ import annotations

import io
import time
from typing import BinaryIO

from feeds.archive import ArchiveError
from feeds.archive.streams import buffered, read_some

BYTES_PER_SECOND = 1 << 20
"""Slowest honest reading speed granted on top of the fixed budget (1 MiB of CPU-second)."""


TICKS = 64
"""Records between two looks at the clock (each record costs at most one line's parse)."""


class MemberTimeout(ArchiveError):
    """A member used up its CPU budget: the rest of it is skipped, the scan goes on."""


class Watchdog:
    """One member's clock: `check()` raises `MemberTimeout` once the member is over budget."""

    __slots__ = ("_read", "_seconds", "_started", "_ticks")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._started = time.thread_time()
        self._read = 0
        self._ticks = 0

    def count(self, size: int) -> None:
        self._read += size

    def tick(self) -> None:
        """`check()` once every TICKS calls: cheap enough to call for every record (reading the
        thread's CPU clock is a system call)."""
        self._ticks += 1
        if self._ticks >= TICKS:
            self._ticks = 0
            self.check()

    def check(self) -> None:
        allowed = self._seconds + self._read / BYTES_PER_SECOND
        if time.thread_time() - self._started > allowed:
            raise MemberTimeout(f"member over its time budget ({self._seconds:g} s of CPU)")

    def wrap(self, stream: BinaryIO) -> BinaryIO:
        """`stream`, checking the clock on every read."""
        return buffered(_Watched(stream, self))


class _Watched(io.RawIOBase):
    def __init__(self, source: BinaryIO, dog: Watchdog) -> None:
        super().__init__()
        self._source = source
        self._dog = dog

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self._dog.check()
        into = getattr(self._source, "readinto1", None) or getattr(self._source, "readinto", None)
        if into is not None:  # straight into the caller's buffer: no copy on the hot path
            size = int(into(buffer) or 0)
        else:
            data = read_some(self._source, len(buffer))
            size = len(data)
            buffer[:size] = data
        self._dog.count(size)
        return size

    def close(self) -> None:
        if not self.closed:
            self._source.close()
        super().close()
