"""What a container lists before sniffing, and the openers of members read in a single pass."""

from __future__ import annotations

import io
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, BinaryIO

from feeds.archive.errors import ArchiveError
from feeds.archive.guards import Budget, guard_member
from feeds.archive.passwords import PasswordRing
from feeds.archive.streams import buffered, read_some
from monitor.feed import ArchiveLimits
from monitor.types import Problem

REPLAY_LIMIT = 1 << 20
"""A member of a single-pass archive can be re-opened until this many bytes were read."""


@dataclass(slots=True, kw_only=True)
class Entry:
    """One file inside a container, before sniffing. `open` returns a guarded stream."""

    name: str
    size: int | None
    packed: int | None
    open: Callable[[], BinaryIO]
    single_pass: bool
    modified: datetime | None = None  # the date the container gives the file, if any


Entries = Generator[Entry | Problem, None, None]
"""What a container lister yields: its files, and a `Problem` for what it had to skip."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Container:
    """One container being listed: where it is, and the limits, budget and passwords that apply."""

    origin: str
    budget: Budget
    passwords: PasswordRing

    @property
    def limits(self) -> ArchiveLimits:
        return self.budget.limits

    def guard(self, raw: IO[bytes], *, packed: int | None = None, declared: int = 0) -> BinaryIO:
        """A member's stream under every limit (see `guard_member`)."""
        return guard_member(raw, self.budget, packed=packed, declared=declared)


class Once:
    """Opener of an entry whose stream already exists (single-pass containers)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream: BinaryIO | None = stream

    def __call__(self) -> BinaryIO:
        if self._stream is None:
            raise ArchiveError("member already read (single-pass archive)")
        stream, self._stream = self._stream, None
        return stream


class Replay:
    """Opener for a member of a single-pass container (tar, 7z, compressed stream).

    Every `open()` starts at byte 0: bytes already pulled from the live stream are replayed
    from a buffer, the rest is read on. Once more than `REPLAY_LIMIT` bytes have been read
    the buffer is dropped (memory stays flat) and a new `open()` raises `ArchiveError`.
    """

    def __init__(self, live: IO[bytes]) -> None:
        self._live = live
        self._buffer = bytearray()
        self._live_pos = 0
        self._kept = True

    def __call__(self) -> BinaryIO:
        if not self._kept:
            raise ArchiveError("member already read (single-pass archive)")
        return buffered(ReplayReader(self))

    def read_at(self, pos: int, size: int) -> bytes:
        if pos < self._live_pos:
            if not self._kept:
                raise ArchiveError("member already read (single-pass archive)")
            return bytes(self._buffer[pos : pos + size])
        data = read_some(self._live, size)
        self._live_pos += len(data)
        if self._kept:
            if len(self._buffer) + len(data) <= REPLAY_LIMIT:
                self._buffer += data
            else:
                self._kept = False
                self._buffer = bytearray()
        return data


class ReplayReader(io.RawIOBase):
    """One pass over a `Replay`, from byte 0."""

    def __init__(self, replay: Replay) -> None:
        super().__init__()
        self._replay = replay
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._replay.read_at(self._pos, len(buffer))
        size = len(data)
        buffer[:size] = data
        self._pos += size
        return size
