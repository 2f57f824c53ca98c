"""Bloom filters (pybloom-live) for large watched sets: build, persist with a versioned checksummed header, load."""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Iterable
from pathlib import Path

from pybloom_live import BloomFilter

from monitor.errors import CredwatchError

_MAGIC = b"CWBLOOM1"
_HEADER = struct.Struct("<8sQ32s")  # magic, payload length, sha256 of payload


class BloomFileError(CredwatchError):
    """A persisted filter is missing, truncated, corrupt or of another version."""


def build(keys: Iterable[str], *, capacity: int, error_rate: float = 0.001) -> BloomFilter:
    """A filter holding `keys` (str only: pybloom-live hashes bytes as their repr)."""
    bf = BloomFilter(capacity=max(capacity, 1), error_rate=error_rate)
    for key in keys:
        bf.add(key, skip_check=True)
    return bf


def save(bf: BloomFilter, path: Path) -> None:
    """Write atomically: header (magic, length, sha256) then pybloom-live's own format."""
    buf = io.BytesIO()
    bf.tofile(buf)
    payload = buf.getvalue()
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(_HEADER.pack(_MAGIC, len(payload), hashlib.sha256(payload).digest()))
        fh.write(payload)
    tmp.replace(path)


def load(path: Path) -> BloomFilter:
    """Read a filter written by `save`; any mismatch raises BloomFileError (rebuild it)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BloomFileError(f"{path}: cannot read bloom filter: {exc.strerror}") from None
    if len(data) < _HEADER.size:
        raise BloomFileError(f"{path}: truncated bloom filter")
    magic, length, digest = _HEADER.unpack_from(data)
    payload = data[_HEADER.size :]
    if magic != _MAGIC:
        raise BloomFileError(f"{path}: not a credwatch bloom filter (or another version)")
    if len(payload) != length or hashlib.sha256(payload).digest() != digest:
        raise BloomFileError(f"{path}: bloom filter checksum mismatch")
    return BloomFilter.fromfile(io.BytesIO(payload))
