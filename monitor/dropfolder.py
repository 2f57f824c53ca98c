"""The drop folder: notice files once they stop changing; how often a failing one is tried."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".swp")


@dataclass(slots=True)
class DropFolder:
    """Polls a folder. A file is complete when its size and mtime held still for `settle` seconds.

    Which files were already processed is decided by the store (source identity), so restarts
    neither lose nor repeat work; this class only tracks what it saw changing.
    """

    root: Path
    settle: float = 1.0
    _seen: dict[Path, tuple[int, int, float]] = field(default_factory=dict)

    def ready(self) -> list[Path]:
        now = time.monotonic()
        found: list[Path] = []
        present: set[Path] = set()
        for path in sorted(self.root.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            if path.name.startswith(".") or path.name.endswith(_IGNORED_SUFFIXES):
                continue
            try:
                st = path.stat()
            except OSError:
                continue
            present.add(path)
            key = (st.st_size, st.st_mtime_ns)
            seen = self._seen.get(path)
            if seen is None or seen[:2] != key:
                self._seen[path] = (*key, now)
                continue
            if now - seen[2] >= self.settle:
                found.append(path)
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class DropRetry:
    """How a dropped file that fails is tried again before it is quarantined.

    A fault of the file (the reader failed on it, or died while reading it) counts an attempt
    and backs off exponentially; the `attempts`-th failure quarantines it. A fault of the
    machine (disk full, database gone) does not count and is tried after `resource_delay`.
    """

    attempts: int = 3
    base_delay: float = 60.0
    max_delay: float = 3600.0
    resource_delay: float = 60.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt."""
        return float(min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1)))
