"""Member dates as archives and disks give them, as UTC datetimes; None when absent or garbled.

Only read, never trusted here: which dates are plausible is the core's rule
(`monitor.freshness.plausible_file_date`). A zip's DOS date carries no time zone: it is taken
as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def from_timestamp(seconds: Any) -> datetime | None:
    """Seconds since the Unix epoch (tar, file systems, 7z's converted FILETIME)."""
    try:
        return datetime.fromtimestamp(float(seconds), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def from_fields(fields: Any) -> datetime | None:
    """A (year, month, day, hour, minute, second) tuple (zip, rar)."""
    try:
        year, month, day, hour, minute, second = (int(f) for f in tuple(fields)[:6])
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
