"""The end-of-scan table keeps the most severe sightings in bounded memory and counts the rest."""

from __future__ import annotations

import random
from typing import Any

import pytest

from monitor import output
from monitor.shown import ShownSightings, SkippedInputs

LEVELS = ("low", "medium", "high", "critical")


def _row(i: int, severity: str) -> dict[str, Any]:
    return {
        "exposure_id": i,
        "new": True,
        "severity": severity,
        "kind": "password",
        "cookie_name": None,
        "login": f"user{i}@example.org",
        "host": "portal.example.org",
        "reasons": ["host"],
        "secret_hint": "a…(8–11)",
        "infected_at": None,
        "origin": "base.txt",
        "line": i,
    }


def test_the_most_severe_are_kept_first_found_first_among_equals() -> None:
    rng = random.Random(7)
    rows = [_row(i, rng.choice(LEVELS)) for i in range(1, 2001)]
    shown = ShownSightings(limit=50)
    for r in rows:
        shown.add(r)
    rank = {s: n for n, s in enumerate(LEVELS)}
    expected = sorted(rows, key=lambda r: (-rank[r["severity"]], r["line"]))[:50]
    assert shown.rows == expected
    assert shown.more == 1950


def test_fewer_rows_than_the_limit_are_all_kept_in_order() -> None:
    shown = ShownSightings(limit=10)
    for i, sev in enumerate(("low", "critical", "low", "high"), start=1):
        shown.add(_row(i, sev))
    assert [r["line"] for r in shown.rows] == [2, 4, 1, 3]
    assert shown.more == 0


def test_the_table_says_how_many_more_there_are(capsys: pytest.CaptureFixture[str]) -> None:
    shown = ShownSightings(limit=3)
    for i in range(1, 11):
        shown.add(_row(i, "critical" if i == 9 else "low"))
    output.print_sightings(shown)
    out = capsys.readouterr().out
    assert "user9@example.org" in out and "user1@example.org" in out
    assert "user4@example.org" not in out
    assert "7 more sighting(s)" in out and "--json" in out


def test_nothing_found_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    output.print_sightings(ShownSightings())
    assert "no exposures found" in capsys.readouterr().out


def test_skipped_inputs_keep_a_count_and_the_first_origins_per_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    skipped = SkippedInputs(shown=2)
    for i in range(10_000):
        skipped.add(f"dump.zip!PC{i}/Screen.png", "screenshot skipped")
    skipped.add("base.txt", "unknown format")
    assert skipped.count == 10_001
    assert skipped.rows == [
        ("screenshot skipped", 10_000, ["dump.zip!PC0/Screen.png", "dump.zip!PC1/Screen.png"]),
        ("unknown format", 1, ["base.txt"]),
    ]
    output.print_problems(skipped)
    err = capsys.readouterr().err
    assert "10000  screenshot skipped" in err and "(+9998 more)" in err
