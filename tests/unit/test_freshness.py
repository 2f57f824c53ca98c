"""Freshness decisions: live, stale or unknown from the change, infection and first-seen dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.freshness import Freshness, freshness

D = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BEFORE = datetime(2026, 2, 1, tzinfo=UTC)
AFTER = datetime(2026, 3, 2, tzinfo=UTC)
LATER = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changed", "infected", "first_seen", "expected"),
    [
        (AFTER, D, None, Freshness.STALE),  # changed after the infection
        (BEFORE, D, None, Freshness.LIVE),  # not changed since
        (D, D, None, Freshness.LIVE),  # same instant is not "strictly after"
        (None, D, LATER, Freshness.UNKNOWN),  # IdP does not say
        (AFTER, None, D, Freshness.STALE),  # no infection date: first sighting decides
        (BEFORE, None, D, Freshness.LIVE),
        (AFTER, D, LATER, Freshness.STALE),  # infection date wins over a later first sighting
        (AFTER, None, None, Freshness.UNKNOWN),  # nothing to compare with
        (datetime(2026, 3, 2), D, None, Freshness.STALE),  # naive = UTC
        (datetime(2026, 3, 1, 13, 30, tzinfo=UTC), D, None, Freshness.STALE),
    ],
)
def test_freshness_table(
    changed: datetime | None,
    infected: datetime | None,
    first_seen: datetime | None,
    expected: Freshness,
) -> None:
    assert freshness(changed, infected, first_seen) is expected
