"""Limits a walk enforces: archive budget, stream size and ratio, temp files only in the workdir."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, BinaryIO

from feeds.archive.errors import ArchiveError, BudgetExceeded, LimitExceeded, as_archive_error
from feeds.archive.streams import COPY_CHUNK, buffered, read_some
from monitor.feed import ArchiveLimits


def over_ratio(size: int, packed: int, limits: ArchiveLimits) -> str | None:
    """The reason to stop `size` bytes inflated from `packed` (a probable bomb), else None."""
    if size <= limits.ratio_floor:
        return None
    ratio = size / max(packed, 1)
    if ratio > limits.max_ratio:
        return f"zip bomb (ratio {int(ratio)})"
    return None


def too_deep(depth: int, limits: ArchiveLimits) -> str | None:
    """The reason to skip an archive nested `depth` levels down, else None."""
    if depth > limits.max_depth:
        return f"nesting too deep (depth {depth})"
    return None


class Budget:
    """Uncompressed bytes and members counted per top-level archive.

    `physical` is the top-level archive's size on disk: the bytes inflated from it, nested
    archives included, may not exceed `max_ratio` times that size (once past `ratio_floor`),
    whatever its headers declare. A member that would cross that line is skipped; bytes a
    member inflates beyond its declared size are charged as they are read.
    """

    __slots__ = ("allowance", "limits", "members", "total")

    def __init__(self, limits: ArchiveLimits, *, physical: int | None = None) -> None:
        self.limits = limits
        self.total = 0
        self.members = 0
        self.allowance = limits.max_total_size
        if physical is not None:
            by_ratio = max(int(physical * limits.max_ratio), limits.ratio_floor)
            self.allowance = min(self.allowance, by_ratio)

    def charge(self, size: int) -> None:
        self.total += size
        if self.total > self.limits.max_total_size:
            raise BudgetExceeded("archive total size limit exceeded")
        if self.total > self.allowance:
            raise LimitExceeded(self.bomb_reason())

    def bomb_reason(self) -> str:
        return f"archive bomb (inflates beyond {int(self.limits.max_ratio)}x its size)"

    def count_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise BudgetExceeded("too many members")

    def admit(self, size: int | None, packed: int | None) -> str | None:
        """Count and charge a member before it is opened; the reason to skip it, else None.

        Raises `BudgetExceeded` when the archive as a whole is over its limits.
        """
        self.count_member()
        if size is None:
            return None
        if size > self.limits.max_member_size:
            return "member size limit exceeded"
        bomb = over_ratio(size, packed, self.limits) if packed is not None else None
        if bomb is not None:
            return bomb
        if self.total + size > self.allowance and self.total + size <= self.limits.max_total_size:
            return self.bomb_reason()
        self.charge(size)  # a skipped member costs nothing: only what is read is charged
        return None


class Guard(io.RawIOBase):
    """Turns any read failure into `ArchiveError` and enforces size, ratio and budget limits."""

    def __init__(
        self,
        source: IO[bytes],
        *,
        limits: ArchiveLimits,
        max_size: int | None,
        packed: int | Callable[[], int] | None,
        budget: Budget | None,
        declared: int = 0,
    ) -> None:
        super().__init__()
        self._source = source
        self._declared = declared
        self._charged = 0
        self._limits = limits
        self._max_size = max_size
        self._packed = packed
        self._budget = budget
        self._count = 0
        self._failure: ArchiveError | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._failure is not None:
            raise self._failure
        try:
            data = read_some(self._source, len(buffer))
            size = len(data)
            if size:
                self._count += size
                self._check(size)
        except Exception as exc:
            self._failure = as_archive_error(exc)
            raise self._failure from exc
        buffer[:size] = data
        return size

    def _check(self, size: int) -> None:
        if self._max_size is not None and self._count > self._max_size:
            raise LimitExceeded("member size limit exceeded")
        if self._packed is not None and self._count > self._limits.ratio_floor:
            packed = self._packed() if callable(self._packed) else self._packed
            reason = over_ratio(self._count, packed, self._limits)
            if reason is not None:
                raise LimitExceeded(reason)
        if self._budget is not None:
            # declared sizes were charged up front; only bytes beyond them (lying headers,
            # unknown sizes) are charged while streaming
            excess = self._count - self._declared
            if excess > self._charged:
                self._budget.charge(excess - self._charged)
                self._charged = excess

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._source.close()
        super().close()


def guard_member(
    raw: IO[bytes], budget: Budget, *, packed: int | None = None, declared: int = 0
) -> BinaryIO:
    """A member's stream under every limit: its size, its ratio to `packed`, the budget."""
    limits = budget.limits
    return buffered(
        Guard(raw, limits=limits, max_size=limits.max_member_size, packed=packed, budget=budget,
              declared=declared)
    )  # fmt: skip


def guard_reads(raw: IO[bytes], limits: ArchiveLimits) -> BinaryIO:
    """A stream whose read failures become `ArchiveError`, with no size limit (a file on disk)."""
    return buffered(Guard(raw, limits=limits, max_size=None, packed=None, budget=None))


@contextlib.contextmanager
def spool(stream: IO[bytes], workdir: Path) -> Iterator[Path]:
    """Copy a nested archive to a random temp file under `workdir`, removed afterwards. The
    name carries the process id, so a file a killed process left is swept at the next start."""
    workdir.mkdir(parents=True, exist_ok=True)
    prefix = f".credwatch-{os.getpid()}-"
    fd, name = tempfile.mkstemp(dir=workdir, prefix=prefix, suffix=".spool")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(stream, out, COPY_CHUNK)
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
