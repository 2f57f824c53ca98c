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
    skipped.add("base.bin", "binary file skipped")
    assert skipped.skipped == 10_001
    assert skipped.rows == [
        ("screenshot skipped", 10_000, ["dump.zip!PC0/Screen.png", "dump.zip!PC1/Screen.png"]),
        ("binary file skipped", 1, ["base.bin"]),
    ]
    output.print_problems(skipped)
    err = capsys.readouterr().err
    assert "10000  screenshot skipped" in err and "(+9998 more)" in err


def test_an_unknown_format_is_told_as_read_not_skipped(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from monitor.problem_log import ProblemLog
    from monitor.types import UNKNOWN_FORMAT, Problem

    skipped = SkippedInputs()
    skipped.add("notes.txt", UNKNOWN_FORMAT)
    skipped.add("dump.zip!PC1/Screen.png", "screenshot skipped")
    skipped.add("dump.zip!PC2/Screen.png", "screenshot skipped")
    assert (skipped.skipped, skipped.unrecognised) == (2, 1)
    assert skipped.summary == "2 input(s) skipped, 1 read in a format not recognised"
    output.print_problems(skipped)
    err = capsys.readouterr().err
    assert "unknown format (read all the same): notes.txt" in err
    assert "screenshot skipped: dump.zip!PC1/Screen.png" in err

    log = ProblemLog("dump.zip")
    with caplog.at_level("WARNING", logger="monitor.pipeline"):
        log.add(Problem(origin="notes.txt", reason=UNKNOWN_FORMAT))
        log.add(Problem(origin="dump.zip!PC1/Screen.png", reason="screenshot skipped"))
    assert [r.getMessage() for r in caplog.records] == [
        "input read, its format not recognised",
        "input skipped",
    ]


def test_nothing_skipped_says_so_plainly() -> None:
    assert SkippedInputs().summary == "0 input(s) skipped"
