"""The leak clock as Prometheus histograms: infected → first seen → alerted → contained.

Each is observed once per exposure, when its later moment is recorded: first seen when the
exposure is created, alerted when its first alert is recorded delivered, contained when its
containment first takes effect (or, contained before any alert went out, when that alert does,
as 0). The moments are marked once in the store (`exposures.alerted_at`, `contained_at`), so a
retry or a restart never observes an exposure twice. `credwatch serve` exports them.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Histogram

_HOUR, _DAY = 3600.0, 86400.0
_LONG = (
    _HOUR,
    6 * _HOUR,
    _DAY,
    3 * _DAY,
    7 * _DAY,
    14 * _DAY,
    30 * _DAY,
    90 * _DAY,
    180 * _DAY,
    365 * _DAY,
)
_SHORT = (1.0, 10.0, 60.0, 300.0, 900.0, _HOUR, 4 * _HOUR, _DAY, 3 * _DAY, 7 * _DAY)

SEEN = Histogram(
    "credwatch_leak_seen_after_infection_seconds",
    "Time from a machine's infection to the first sighting of a credential it leaked.",
    buckets=_LONG,
    registry=None,
)
ALERTED = Histogram(
    "credwatch_leak_alerted_after_seen_seconds",
    "Time from an exposure's first sighting to its first delivered alert.",
    buckets=_SHORT,
    registry=None,
)
CONTAINED = Histogram(
    "credwatch_leak_contained_after_alerted_seconds",
    "Time from an exposure's first delivered alert to its containment (0: contained first).",
    buckets=_SHORT,
    registry=None,
)
HISTOGRAMS = (SEEN, ALERTED, CONTAINED)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def seen(infected_at: datetime | None, first_seen: datetime | None) -> None:
    """A new exposure; an infection dated after its sighting (a wrong clock) is not observed."""
    elapsed = _seconds(infected_at, first_seen)
    if elapsed is not None and elapsed >= 0:
        SEEN.observe(elapsed)


def alerted(
    first_seen: datetime | None, alerted_at: datetime | None, contained_at: datetime | None
) -> None:
    """An exposure's first alert was delivered (and it may have been contained already)."""
    elapsed = _seconds(first_seen, alerted_at)
    if elapsed is not None:
        ALERTED.observe(max(elapsed, 0.0))
    if contained_at is not None and alerted_at is not None:
        CONTAINED.observe(0.0)


def contained(alerted_at: datetime | None, contained_at: datetime | None) -> None:
    """An exposure was contained; observed now only when it was alerted before."""
    elapsed = _seconds(alerted_at, contained_at)
    if elapsed is not None:
        CONTAINED.observe(max(elapsed, 0.0))
