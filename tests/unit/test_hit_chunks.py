"""The hit writer's pieces that need no database: a statement awaited with work done meanwhile,
and a chunk's rows made ready (merged per fingerprint, a place once, all-NULL columns as NULL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from monitor.hits import _overlapped
from monitor.store.batch import prepare
from monitor.types import CredentialKind, LeakedCredential, Match, Reason, Secret, Severity

KEY = b"k" * 48


def hit(login: str, line: int, **kw: object) -> Match:
    return Match(
        credential=LeakedCredential(
            kind=CredentialKind.PASSWORD,
            url="https://app.example.org/login",
            host="app.example.org",
            path="/login",
            login=login,
            secret=Secret("Pw-1234-leaked"),
            origin="dump.txt",
            line=line,
            infected_at=kw.get("infected"),  # type: ignore[arg-type]
        ),
        reasons=kw.get("reasons", (Reason.HOST,)),  # type: ignore[arg-type]
        severity=kw.get("severity", Severity.MEDIUM),  # type: ignore[arg-type]
        domain="example.org",
    )


async def test_work_is_done_while_the_statement_runs() -> None:
    order: list[str] = []
    started = asyncio.Event()
    release = asyncio.Event()

    async def statement() -> int:
        order.append("sent")
        started.set()
        await release.wait()
        order.append("answered")
        return 7

    def work() -> None:
        assert started.is_set()  # the statement went out first
        order.append("work")
        release.set()

    assert await _overlapped(statement(), work) == 7
    assert order == ["sent", "work", "answered"]


async def test_failed_work_leaves_no_statement_running() -> None:
    cancelled = asyncio.Event()

    async def statement() -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 1

    def work() -> None:
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        await _overlapped(statement(), work)
    assert cancelled.is_set()


def test_a_chunk_is_merged_per_fingerprint_and_place() -> None:
    day = datetime(2025, 3, 1, tzinfo=UTC)
    p = prepare(
        [
            hit("a@example.org", 1),
            hit("a@example.org", 1),  # the same place again: one sighting
            hit("a@example.org", 2, infected=day, severity=Severity.HIGH, reasons=(Reason.LOGIN,)),
            hit("b@example.org", 3),
        ],
        KEY,
    )
    assert len(p.fingerprints) == 4 and len(set(p.fingerprints)) == 2
    fps, reasons, severity, infected = (p.exposures[i] for i in (0, 12, 13, 18))
    assert fps == [p.fingerprints[0], p.fingerprints[3]]
    assert reasons == ["host,login", "host"] and severity == [3, 2]
    assert infected == [day, None]
    assert p.exposures[10] is None  # no cookie name in any row: one NULL
    assert p.exposures[20] is None  # every hit without its own first-seen date: now() for all
    origins, lines = p.sightings[1], p.sightings[2]
    assert origins == ["dump.txt"] * 3 and lines == [1, 2, 3]
    assert p.sightings[6] is None  # no victim in any row
    # no secret in any column: fingerprints and the hint only
    assert not any("Pw-1234-leaked" in str(col) for col in (*p.exposures, *p.sightings))
