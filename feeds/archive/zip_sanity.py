"""Zip central-directory entries that cannot be trusted: overlapping data, impossible sizes.

CPython's `zipfile` reads each entry where the central directory says, so entries that share
their compressed data (a "non-recursive" zip bomb) or claim more data than the file holds are
found here, before any byte is inflated.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

LOCAL_HEADER = 30
"""Fixed part of a local file header: an entry's data starts at least this far in."""


@dataclass(frozen=True, slots=True)
class Unsound:
    """Indexes (in central-directory order) of entries not to open."""

    overlapping: frozenset[int]
    impossible: frozenset[int]


def unsound_entries(infos: Sequence[zipfile.ZipInfo], file_size: int) -> Unsound:
    """Entries whose data overlaps another's, or lies (even partly) beyond the end of the file."""
    impossible = {
        i
        for i, info in enumerate(infos)
        if info.header_offset < 0
        or info.compress_size < 0
        or info.header_offset + LOCAL_HEADER + info.compress_size > file_size
    }
    spans = sorted(
        (info.header_offset, info.header_offset + LOCAL_HEADER + info.compress_size, i)
        for i, info in enumerate(infos)
        if i not in impossible
    )
    overlapping: set[int] = set()
    reach, owner = -1, -1  # the furthest end seen so far, and whose it is
    for start, end, index in spans:
        if start < reach:
            overlapping.update((index, owner))
        if end > reach:
            reach, owner = end, index
    return Unsound(overlapping=frozenset(overlapping), impossible=frozenset(impossible))
