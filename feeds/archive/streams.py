"""Raw stream adapters shared by every container: partial reads, buffering, a head put back."""

from __future__ import annotations

import io
from typing import IO, BinaryIO, cast

BUFFER = 1 << 16
"""Buffer size of the streams a walk hands out."""

COPY_CHUNK = 1 << 20
"""Bytes copied or decompressed in one step (spooling, zip salvage, 7z extraction)."""


def read_some(source: IO[bytes], size: int) -> bytes:
    """Up to `size` bytes in one step: a decoder's partial output is returned before its error."""
    read1 = getattr(source, "read1", None)
    if read1 is not None:
        return cast(bytes, read1(size))
    return source.read(size)


def buffered(raw: io.RawIOBase) -> BinaryIO:
    """`raw` behind a read buffer of `BUFFER` bytes."""
    return io.BufferedReader(raw, BUFFER)


class Prefixed(io.RawIOBase):
    """`head` followed by the rest of `source`; closing it leaves `source` to its owner."""

    def __init__(self, head: bytes, source: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = read_some(self._source, len(buffer))
        size = len(data)
        buffer[:size] = data
        return size


def put_back(head: bytes, source: IO[bytes]) -> BinaryIO:
    """A buffered stream of `head` then the rest of `source` (after a sniff read its head)."""
    return buffered(Prefixed(head, source))
