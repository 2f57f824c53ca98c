"""Is a leaked password still the current one? LIVE, STALE or UNKNOWN, from three dates (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum


class Freshness(StrEnum):
    LIVE = "live"  # not changed since the leak: contain
    STALE = "stale"  # changed after the leak: alert only
    UNKNOWN = "unknown"  # the identity provider does not say: policy treats it as live


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def freshness(
    password_changed_at: datetime | None,
    infected_at: datetime | None,
    first_seen: datetime | None,
) -> Freshness:
    """STALE when the password changed strictly after the infection date (or, without one, the
    first sighting); LIVE when it did not; UNKNOWN when either side is unknown. Naive = UTC."""
    if password_changed_at is None:
        return Freshness.UNKNOWN
    leaked = infected_at if infected_at is not None else first_seen
    if leaked is None:
        return Freshness.UNKNOWN
    if _aware(password_changed_at) > _aware(leaked):
        return Freshness.STALE
    return Freshness.LIVE
