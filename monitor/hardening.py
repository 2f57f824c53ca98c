"""Process hardening at start-up: no core dumps (a crash core would hold the leaked passwords
in memory), and the process not dumpable by other users (`PR_SET_DUMPABLE` 0 on Linux)."""

from __future__ import annotations

import ctypes
import logging
import resource
import sys

log = logging.getLogger(__name__)
_PR_SET_DUMPABLE = 4


def harden() -> None:
    """Core dumps off (soft and hard limit 0) and, on Linux, the process marked not dumpable."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError) as exc:
        log.warning("core dumps could not be disabled", extra={"error": str(exc)})
    if sys.platform != "linux":
        return
    # The C library this process already loaded (`find_library` would run `ldconfig -p`).
    prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)
    if prctl is None:
        log.warning("process could not be made non-dumpable", extra={"error": "no prctl"})
        return
    if prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        log.warning("process could not be made non-dumpable", extra={"errno": ctypes.get_errno()})
