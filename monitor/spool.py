"""Spool files left in the work directory: removed on exit, swept at start.

A nested archive is copied to `<workdir>/.credwatch-<pid>-<random>.spool` while it is read
(`feeds/archive/guards.py`), credentials inside. A process removes its own on the way out; a
process killed before that leaves them, and the next start removes those whose process is gone
(or whose pid now belongs to a younger process). Nothing else in the work directory is touched.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from monitor import proc

log = logging.getLogger(__name__)

_OWNED = re.compile(r"^\.credwatch-(\d+)-[^/]*\.spool$")
_UNOWNED = re.compile(r"^\.credwatch-[^-/]*\.spool$")  # written before spool names had a pid


def sweep(workdir: Path) -> int:
    """Remove the spool files of processes that are gone; returns how many were removed."""
    boot = proc.boot_time()
    removed = 0
    for path, pid in _spools(workdir):
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        if pid is None:
            stale = boot is not None and mtime < boot
        elif pid == os.getpid():
            stale = False
        else:
            began = proc.started_at(pid)
            stale = proc.start_ticks(pid) is None or (began is not None and mtime < began - 1)
        if stale and _remove(path):
            removed += 1
    if removed:
        log.info("spool files of stopped processes removed", extra={"files": removed})
    return removed


def remove_own(workdir: Path) -> int:
    """Remove this process's spool files (a read abandoned on the way out leaves them)."""
    me = os.getpid()
    return sum(_remove(p) for p, pid in _spools(workdir) if pid == me)


def _spools(workdir: Path) -> list[tuple[Path, int | None]]:
    try:
        names = os.listdir(workdir)
    except OSError:
        return []
    found: list[tuple[Path, int | None]] = []
    for name in names:
        m = _OWNED.match(name)
        if m:
            found.append((workdir / name, int(m[1])))
        elif _UNOWNED.match(name):
            found.append((workdir / name, None))
    return found


def _remove(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.warning("spool file not removed", extra={"path": str(path), "error": str(exc)})
        return False
    return True
