"""The `Member` record a walk yields, and reading one with read failures turned into a `Problem`."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, TypeVar

from feeds.archive.errors import reason_of
from monitor.errors import FeedError
from monitor.types import Problem

HEAD_SIZE = 4096
"""Bytes of every member read up front: archive sniffing and `Member.head`."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """A readable file found by `walk()`; `open()` streams its bytes (see feeds.archive)."""

    origin: str
    name: str
    size: int | None
    head: bytes = field(default=b"", repr=False, compare=False)
    _opener: Callable[[], BinaryIO] = field(repr=False, compare=False)
    # When the file was last written, as its container (or the disk) says; unchecked.
    modified: datetime | None = field(default=None, compare=False)

    def open(self) -> BinaryIO:
        """A read-only stream of the member's bytes; reading may raise `FeedError`."""
        return self._opener()

    @classmethod
    def from_bytes(cls, *, origin: str, name: str, data: bytes) -> Member:
        """An in-memory member (for tests and for feeds that already hold the bytes)."""
        return cls(
            origin=origin,
            name=name,
            size=len(data),
            head=data[:HEAD_SIZE],
            _opener=lambda: io.BytesIO(data),
        )


def read_member(member: Member, reader: Callable[[BinaryIO], T]) -> T | Problem:
    """Open `member`, pass the stream to `reader` and close it; a read failure is a `Problem`.

    Only `FeedError` (corrupt data, bad CRC, limits) becomes a `Problem`; a bug in `reader`
    still raises.
    """
    try:
        with member.open() as stream:
            return reader(stream)
    except FeedError as exc:
        return Problem(origin=member.origin, reason=reason_of(exc))
