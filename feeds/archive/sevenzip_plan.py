"""Which 7z members to read: a bomb is judged per solid block (folder), not per archive.

A 7z decoder produces exactly the unpacked size the header gives for each folder, so those
sizes are what would really be inflated. A folder that inflates beyond the ratio limit is a
bomb: its members up to the first big one are still read (they come out before it), the big
one and the members behind it in the same solid block are skipped. Other folders are read
as usual, so one bomb member never costs the archive's benign members.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from feeds.archive.guards import over_ratio
from feeds.archive.names import safe_name
from monitor.feed import ArchiveLimits
from monitor.types import Problem


@dataclass(frozen=True, slots=True)
class Plan:
    """File ids (py7zr's `ArchiveFile.id`) not to extract, and a Problem for each of them."""

    skip: frozenset[int]
    problems: tuple[Problem, ...]


def folder_plan(archive: Any, limits: ArchiveLimits, origin: str) -> Plan:
    """Members of bomb folders that must not be inflated (see the module docstring)."""
    streams = getattr(archive.header, "main_streams", None)
    if streams is None or streams.unpackinfo is None or streams.packinfo is None:
        return Plan(frozenset(), ())
    positions = list(streams.packinfo.packpositions)
    skip: set[int] = set()
    problems: list[Problem] = []
    for index, folder in enumerate(streams.unpackinfo.folders):
        files = [f for f in (getattr(folder, "files", None) or ()) if not f.emptystream]
        packed = positions[index + 1] - positions[index] if index + 1 < len(positions) else 0
        unpacked = sum(int(f.uncompressed or 0) for f in files)
        reason = over_ratio(unpacked, max(packed, 1), limits)
        if reason is None:
            continue
        behind = False
        for f in files:
            if not behind and int(f.uncompressed or 0) <= limits.ratio_floor:
                continue  # comes out of the block before the bomb: cheap to read
            member = f"{origin}!{safe_name(f.filename)}"
            problems.append(
                Problem(origin=member, reason="skipped: behind a bomb in its solid block")
                if behind
                else Problem(origin=member, reason=reason)
            )
            skip.add(f.id)
            behind = True
    return Plan(frozenset(skip), tuple(problems))
