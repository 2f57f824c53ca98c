"""Hits written in batches leave exactly the rows that writing them one at a time leaves:
exposures merged the same way, one sighting per place, the same containment plans, alerts (in the
same order per channel), reopenings and scan reports, whatever the batch boundaries, with
duplicates inside one batch and across batches."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from monitor import hits
from monitor.hits import HitWriter, Sighting
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.routing import Route, Routes
from monitor.store.store import Store
from monitor.types import (
    Account,
    CredentialKind,
    LeakedCredential,
    Match,
    Reason,
    Secret,
    Severity,
    Victim,
)
from tests.conftest import TEST_KEY, with_database
from tests.unit.test_containment import ScriptedResponder, user

DAY = datetime(2025, 3, 1, tzinfo=UTC)
OLD_KEY = b"o" * 48  # a retired fingerprint key: exposures made under it are re-keyed


def hit(
    login: str,
    origin: str,
    line: int,
    *,
    secret: str = "Pw-1234-leaked",
    host: str = "app.example.org",
    infected: datetime | None = None,
    portal: str | None = None,
    severity: Severity = Severity.MEDIUM,
    reasons: tuple[Reason, ...] = (Reason.HOST,),
    partner: str | None = None,
    account: bool = False,
) -> Match:
    return Match(
        credential=LeakedCredential(
            kind=CredentialKind.PASSWORD,
            url=f"https://{host}/login",
            host=host,
            path="/login",
            login=login,
            secret=Secret(secret),
            origin=origin,
            line=line,
            infected_at=infected,
            victim=Victim(machine_id_hash=f"m-{origin}", family="Lumma", country="FR"),
            first_seen=DAY - timedelta(days=line),
        ),
        reasons=reasons,
        severity=severity,
        domain="example.org",
        portal=portal,
        partner=partner,
        account=Account(login=login, partner=partner, idp="idp") if account else None,
    )


def first_load() -> list[Match]:
    """New exposures, several hits each inside the load, a place seen twice, a later hit that
    raises the severity, adds a reason, a portal and a newer infection date."""
    return [
        hit("a@example.org", "dump1.txt", 1),
        hit("b@example.org", "dump1.txt", 2, infected=DAY),
        hit("a@example.org", "dump1.txt", 1),  # the same place again
        hit("a@example.org", "dump2.txt", 7, infected=DAY, reasons=(Reason.LOGIN,)),
        hit("c@partner.example", "dump1.txt", 3, severity=Severity.CRITICAL, account=True),
        hit(
            "b@example.org",
            "dump2.txt",
            9,
            infected=DAY + timedelta(days=3),
            portal="https://portal.example.org/app",
            severity=Severity.HIGH,
            reasons=(Reason.PORTAL, Reason.HOST),
            partner="Partner",
        ),
        hit("d@example.org", "dump1.txt", 4, secret="quiet-one"),  # suppressed by a rule
        hit("d@example.org", "dump2.txt", 4, secret="quiet-one", infected=DAY),
        hit("e@example.org", "dump1.txt", 5, severity=Severity.HIGH, account=True),
        hit("b@example.org", "dump1.txt", 2, infected=DAY),  # the first place of b, again
    ]


def second_load() -> list[Match]:
    """Known exposures (their alerts sent, one resolved): repeats, two newer infection dates of
    one exposure in a row, a portal seen for the first time, a new exposure between them."""
    return [
        hit("a@example.org", "dump3.txt", 1),  # nothing new
        hit("a@example.org", "dump3.txt", 2, infected=DAY + timedelta(days=10)),
        hit("f@example.org", "dump3.txt", 3),
        hit("a@example.org", "dump3.txt", 4, infected=DAY + timedelta(days=20)),
        hit("e@example.org", "dump3.txt", 5, portal="https://portal.example.org/app"),
        hit("a@example.org", "dump3.txt", 2, infected=DAY + timedelta(days=10)),
        hit("d@example.org", "dump3.txt", 6, secret="quiet-one", infected=DAY),
        hit("b@example.org", "dump3.txt", 7, severity=Severity.CRITICAL),
        hit("f@example.org", "dump3.txt", 8, infected=DAY),
    ]


@pytest_asyncio.fixture
async def pools(pg_server: str, template_db: str) -> AsyncIterator[list[asyncpg.Pool]]:
    """Three fresh databases: hits one at a time, all in one batch, in batches of three."""
    admin = await asyncpg.connect(pg_server)
    names = [f"cw_t_{secrets.token_hex(6)}" for _ in range(3)]
    made: list[asyncpg.Pool] = []
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
            pool = await asyncpg.create_pool(with_database(pg_server, name), min_size=1)
            assert pool is not None
            made.append(pool)
        yield made
    finally:
        for pool in made:
            await pool.close()
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def writer(store: Store, *, previous: Sequence[bytes] = (), key: bytes = TEST_KEY) -> HitWriter:
    routes = Routes(
        routes=(
            Route(channel="console"),
            Route(channel="pager", min_severity=Severity.HIGH),
        )
    )
    planner = Responses(
        store, PolicyConfig(), {"idp": ScriptedResponder(user=user())}, channels=routes.channels
    )
    return HitWriter(store, key=key, previous_keys=previous, planner=planner, routes=routes)


def report(s: Sighting) -> str:
    c = s.match.credential
    return json.dumps({"login": c.login, "origin": c.origin, "new": s.new_exposure})


async def write(
    w: HitWriter, source_id: int, load: list[Match], size: int
) -> list[tuple[str, bool, bool]]:
    """Write `load` in batches of `size`; what each hit did, by exposure login and origin."""
    out: list[tuple[str, bool, bool]] = []
    for i in range(0, len(load), size):
        for s in await w.write(load[i : i + size], source_id, ("scan-1", report)):
            assert isinstance(s, Sighting)
            out.append((s.match.credential.login, s.new_exposure, s.new_sighting))
    return out


async def rows(pool: asyncpg.Pool) -> dict[str, Any]:
    """Every row the hits wrote, without ids (ids a conflict used up differ) and clock times."""
    async with pool.acquire() as conn:

        async def q(query: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in await conn.fetch(query)]

        return {
            "exposures": await q(
                "SELECT fingerprint, secret_fp, kind, url, host, site, login, login_domain,"
                " secret_hint, secret_length, reasons, severity, domain, portal, partner,"
                " account_login, infected_at, first_seen, status, status_reason, lifecycle"
                " FROM exposures ORDER BY login"
            ),
            "sightings": await q(
                "SELECT e.login, s.origin, s.line, s.feed, s.url, s.infected_at, s.victim_hash,"
                " s.family, s.country FROM sightings s JOIN exposures e ON e.id = s.exposure_id"
                " ORDER BY e.login, s.origin, s.line"
            ),
            "alerts": await q(
                "SELECT e.login, a.channel, a.event, a.event_key, a.origin,"
                " replace(replace(a.summary, 'approve ' || e.id, 'approve #'),"
                " 'reject ' || e.id || ' ', 'reject # '), a.severity"
                " FROM alerts a JOIN exposures e ON e.id = a.exposure_id ORDER BY a.channel, a.id"
            ),
            "containments": await q(
                "SELECT e.login, c.provider, c.decision, c.status, c.reason, c.login"
                " FROM containments c JOIN exposures e ON e.id = c.exposure_id ORDER BY e.login"
            ),
            "transitions": await q(
                "SELECT e.login, t.from_state, t.to_state, t.decided_by, t.reason"
                " FROM transitions t JOIN exposures e ON e.id = t.exposure_id ORDER BY t.id"
            ),
            "scan_hits": await q(
                "SELECT e.login, h.origin, h.line, h.row::text FROM scan_hits h"
                " JOIN exposures e ON e.id = h.exposure_id ORDER BY e.login, h.origin, h.line"
            ),
        }


async def between_loads(pool: asyncpg.Pool) -> None:
    """What happens between two loads: alerts delivered, one exposure resolved by a human."""
    async with pool.acquire() as conn:
        await conn.execute("UPDATE alerts SET sent_at = now()")
        await conn.execute(
            "UPDATE exposures SET lifecycle = 'resolved' WHERE login = 'a@example.org'"
        )


@pytest.mark.parametrize("chunk", [hits.CHUNK, 2])
async def test_batches_leave_the_rows_of_one_hit_at_a_time(
    pools: list[asyncpg.Pool], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole batches, and batches stored a chunk of two at a time in their one transaction."""
    monkeypatch.setattr(hits, "CHUNK", chunk)
    results = []
    for pool, size in zip(pools, (1, 100, 3), strict=True):
        store = Store(pool)
        await store.add_suppression("login", "d@example.org", "test account", "admin")
        source = await store.start_source(kind="file", location="x", identity="x")
        w = writer(store)
        did = await write(w, source, first_load(), size)
        await between_loads(pool)
        did += await write(w, source, second_load(), size)
        results.append((did, await rows(pool)))
    (one_did, one_rows), (batch_did, batch_rows), (threes_did, threes_rows) = results
    assert batch_did == one_did and threes_did == one_did
    for table, want in one_rows.items():
        assert batch_rows[table] == want, table
        assert threes_rows[table] == want, table
    # The reference is what the rules say, not only what both ways agree on.
    assert [d for d in one_did if d[0] == "a@example.org"][:3] == [
        ("a@example.org", True, True),
        ("a@example.org", False, False),
        ("a@example.org", False, True),
    ]
    assert len(one_rows["exposures"]) == 6 and len(one_rows["sightings"]) == 16
    b = next(e for e in one_rows["exposures"] if e[6] == "b@example.org")
    assert b[10] == ["host", "portal"] and b[11] == Severity.CRITICAL and b[14] == "Partner"
    updates = [a for a in one_rows["alerts"] if a[2] == "updated"]
    # a: its first newer date reopens it and is announced once (the second waits behind it);
    # e: a portal seen for the first time. d is suppressed: never announced, never updated.
    assert sorted((a[0], a[1], a[3]) for a in updates) == [
        ("a@example.org", "console", "newer infection date 2025-03-11"),
        ("e@example.org", "console", "now seen on a partner portal"),  # a medium hit: no pager
    ]
    assert one_rows["transitions"][-1][:3] == ("a@example.org", "resolved", "open")
    assert {c[0] for c in one_rows["containments"]} == {"c@partner.example", "e@example.org"}
    assert len(one_rows["scan_hits"]) == 16  # one per exposure and place


@pytest.mark.parametrize("chunk", [hits.CHUNK, 2])
async def test_a_retired_key_is_rekeyed_the_same_in_batches(
    pools: list[asyncpg.Pool], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hits, "CHUNK", chunk)
    results = []
    for pool, size in zip(pools, (1, 100, 3), strict=True):
        store = Store(pool)
        source = await store.start_source(kind="file", location="x", identity="x")
        await write(writer(store, key=OLD_KEY), source, first_load()[:4], 100)
        did = await write(writer(store, previous=[OLD_KEY]), source, first_load(), size)
        results.append((did, await rows(pool)))
    assert results[1] == results[0] and results[2] == results[0]
    exposures = results[0][1]["exposures"]
    assert len(exposures) == 5  # a and b were found under the old key, not created again
    assert [d[1] for d in results[0][0] if d[0] == "a@example.org"] == [False, False, False]
