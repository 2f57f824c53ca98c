"""Read what survives of a zip cut short: rebuild its central directory from the local headers."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from typing import IO, BinaryIO

from feeds.archive.streams import COPY_CHUNK, buffered


def salvage_zip(handle: BinaryIO) -> BinaryIO | None:
    """Rebuild a central directory from the local headers of a zip cut short.

    Members whose data is complete are kept; the first damaged or cut member ends the scan.
    Returns a seekable view that `zipfile` can open, or None when nothing is readable.
    """
    size = handle.seek(0, os.SEEK_END)
    records: list[bytes] = []
    pos = 0
    while pos + 30 <= size:
        handle.seek(pos)
        header = handle.read(30)
        if header[:4] != b"PK\x03\x04":
            break
        (_, version, flags, method, mtime, mdate, crc, csize, usize, nlen, xlen) = struct.unpack(
            "<4sHHHHHIIIHH", header
        )
        name = handle.read(nlen)
        start = pos + 30 + nlen + xlen
        end = start + csize
        if flags & 0x08:
            found = _descriptor_sizes(handle, start, size, method, flags)
            if found is None:
                break
            crc, csize, usize, end = found
        elif csize == 0xFFFFFFFF or usize == 0xFFFFFFFF or end > size:
            break
        records.append(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02", 20, version, flags, method, mtime, mdate, crc, csize, usize,
                nlen, 0, 0, 0, 0, 0, pos,
            )
            + name
        )  # fmt: skip
        pos = end
    if not records:
        return None
    directory = b"".join(records)
    count = len(records)
    end_record = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(directory),
                             pos, 0)  # fmt: skip
    return buffered(_Concat(handle, pos, directory + end_record))


def _descriptor_sizes(
    handle: BinaryIO, start: int, size: int, method: int, flags: int
) -> tuple[int, int, int, int] | None:
    """For a streamed (bit 3) deflate member: (crc, compressed, uncompressed, end offset)."""
    if method != zipfile.ZIP_DEFLATED or flags & 0x1:
        return None
    handle.seek(start)
    decoder = zlib.decompressobj(-15)
    consumed = 0
    while not decoder.eof:
        data = handle.read(COPY_CHUNK)
        if not data:
            return None
        try:
            decoder.decompress(data, 0)
        except zlib.error:
            return None
        consumed += len(data) - len(decoder.unused_data)
    csize = consumed
    tail_at = start + csize
    handle.seek(tail_at)
    tail = handle.read(16)
    if tail[:4] == b"PK\x07\x08":
        tail, skip = tail[4:], 16
    else:
        skip = 12
    if len(tail) < 12 or tail_at + skip > size:
        return None
    crc, csize_d, usize = struct.unpack("<III", tail[:12])
    return crc, csize_d, usize, tail_at + skip


class _Concat(io.RawIOBase):
    """A seekable view: the first `prefix` bytes of `source`, then `tail` (a rebuilt zip)."""

    def __init__(self, source: IO[bytes], prefix: int, tail: bytes) -> None:
        super().__init__()
        self._source = source
        self._prefix = prefix
        self._tail = tail
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        size = self._prefix + len(self._tail)
        base = {0: 0, 1: self._pos, 2: size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._pos < self._prefix:
            self._source.seek(self._pos)
            data = self._source.read(min(len(buffer), self._prefix - self._pos))
        else:
            start = self._pos - self._prefix
            data = self._tail[start : start + len(buffer)]
        size = len(data)
        buffer[:size] = data
        self._pos += size
        return size
