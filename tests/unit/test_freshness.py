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


def test_an_implausible_infection_date_yields_to_the_first_sighting() -> None:
    # The victim's clock said 2024: the user's change in 2025 is not "after the leak".
    seen = datetime(2026, 3, 10, tzinfo=UTC)
    changed = datetime(2025, 6, 1, tzinfo=UTC)
    assert freshness(changed, datetime(2024, 1, 1, tzinfo=UTC), seen) is Freshness.LIVE
    # An infection date after the first sighting is impossible: the first sighting decides.
    assert freshness(AFTER, datetime(2026, 4, 1, tzinfo=UTC), D) is Freshness.STALE
    assert freshness(BEFORE, datetime(2026, 4, 1, tzinfo=UTC), D) is Freshness.LIVE
    # Before the archive's own dates: doubted too.
    early = datetime(2026, 2, 1, tzinfo=UTC)
    assert freshness(datetime(2026, 2, 15, tzinfo=UTC), early, seen) is Freshness.STALE
    assert (
        freshness(datetime(2026, 2, 15, tzinfo=UTC), early, seen, earliest_evidence=D)
        is Freshness.LIVE
    )
    # A plausible one still wins over the later first sighting.
    assert freshness(AFTER, D, LATER) is Freshness.STALE
