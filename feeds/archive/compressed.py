"""Single-stream compressors (.gz .bz2 .xz): inflate one layer under the ratio limit."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from typing import IO, BinaryIO, cast

from feeds.archive.entries import Container, Entry, Once
from feeds.archive.guards import Guard
from feeds.archive.streams import buffered, read_some
from monitor.feed import ArchiveLimits

_SUFFIXES = {"gz": ".gz", "bz2": ".bz2", "xz": ".xz"}


def open_layer(kind: str, source: IO[bytes], limits: ArchiveLimits) -> BinaryIO:
    """The inflated bytes of `source`; reading fails once they outgrow the compressed ones."""
    meter = _Meter(source)
    decoded = _decompressor(kind, buffered(meter))
    return buffered(
        Guard(decoded, limits=limits, max_size=None, packed=lambda: meter.count, budget=None)
    )


def layer_entry(inner: IO[bytes], *, kind: str, name: str, box: Container) -> Entry:
    """The one member of a compressed layer (not a tar): named after the layer, read once."""
    return Entry(
        name=_strip_suffix(name, kind),
        size=None,
        packed=None,
        open=Once(box.guard(inner)),
        single_pass=True,
    )


def _decompressor(kind: str, source: BinaryIO) -> IO[bytes]:
    if kind == "gz":
        return cast(IO[bytes], gzip.GzipFile(fileobj=source, mode="rb"))
    if kind == "bz2":
        return bz2.BZ2File(source)
    return lzma.LZMAFile(source)


def _strip_suffix(name: str, kind: str) -> str:
    """`x.txt.gz` → `x.txt`, `x.tgz` → `x.tar`; a name without the suffix is kept."""
    lowered = name.lower()
    if lowered.endswith(".tgz"):
        return name[:-4] + ".tar"
    suffix = _SUFFIXES[kind]
    if lowered.endswith(suffix) and len(name) > len(suffix):
        return name[: -len(suffix)]
    return name


class _Meter(io.RawIOBase):
    """Counts the bytes read through it (the compressed side of a layer)."""

    def __init__(self, source: IO[bytes]) -> None:
        super().__init__()
        self._source = source
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = read_some(self._source, len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size
