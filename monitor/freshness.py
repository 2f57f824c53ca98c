"""Is a leaked password still the current one? LIVE, STALE or UNKNOWN, from dates we can defend
(pure): an implausible infection date yields to the first sighting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

INFECTION_WINDOW = timedelta(
    days=365
)  # an infection dated earlier before first sighting is doubted
# A file date before this is a format's zero (the Unix epoch, the zip/DOS default of 1980), not
# a date the file was written; one more than a day ahead of our clock is a wrong clock.
FILE_DATE_FLOOR = datetime(1981, 1, 1, tzinfo=UTC)
FILE_DATE_AHEAD = timedelta(days=1)


class Freshness(StrEnum):
    LIVE = "live"  # not changed since the leak: contain
    STALE = "stale"  # changed after the leak: alert only
    UNKNOWN = "unknown"  # the identity provider does not say: policy treats it as live


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def plausible_file_date(when: datetime | None, *, now: datetime) -> datetime | None:
    """A stealer file's own date (archive entry, file time on disk) as evidence of when it was
    written, or None when it cannot be: a format's zero date (1980 and before) or in the future
    (more than a day after `now`). Naive = UTC."""
    if when is None:
        return None
    when = _aware(when)
    if when < FILE_DATE_FLOOR or when > _aware(now) + FILE_DATE_AHEAD:
        return None
    return when


def leak_date(
    infected_at: datetime | None,
    first_seen: datetime | None,
    *,
    earliest_evidence: datetime | None = None,
    window: timedelta = INFECTION_WINDOW,
) -> datetime | None:
    """The infection date comes from the victim machine's clock: use it only when it is not after
    the first sighting, not before the archive's own dates (`earliest_evidence`) and within
    `window` of the first sighting. Otherwise the first sighting, which is our clock."""
    if infected_at is None:
        return first_seen
    if first_seen is None:
        return infected_at
    infected, seen = _aware(infected_at), _aware(first_seen)
    plausible = infected <= seen and seen - infected <= window
    if plausible and earliest_evidence is not None:
        plausible = infected >= _aware(earliest_evidence) - timedelta(days=1)
    return infected_at if plausible else first_seen


def freshness(
    password_changed_at: datetime | None,
    infected_at: datetime | None,
    first_seen: datetime | None,
    *,
    earliest_evidence: datetime | None = None,
    window: timedelta = INFECTION_WINDOW,
) -> Freshness:
    """STALE when the password changed strictly after the leak date (`leak_date`); LIVE when it
    did not; UNKNOWN when either side is unknown. Naive = UTC."""
    if password_changed_at is None:
        return Freshness.UNKNOWN
    leaked = leak_date(infected_at, first_seen, earliest_evidence=earliest_evidence, window=window)
    if leaked is None:
        return Freshness.UNKNOWN
    if _aware(password_changed_at) > _aware(leaked):
        return Freshness.STALE
    return Freshness.LIVE
