"""Claiming alerts in batches: the claim reads only the head of the channel's queue whatever the
backlog, an alert's severity follows its exposure's, and a failed alert holds back the later
alerts of its exposure even inside one claimed batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncpg

from monitor.outbox import deliver
from monitor.store.queries import sql
from monitor.store.store import Store
from tests.integration.test_claims import alert_ids, scan_demo
from tests.integration.test_dead_letters import Refusing


def nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = [plan]
    for child in plan.get("Plans", []):
        out += nodes(child)
    return out


async def test_a_claim_reads_the_head_of_the_queue_not_the_backlog(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO exposures (fingerprint, kind, reasons, severity)"
            " SELECT 'fp' || i, 'password', ARRAY['host'], 1 + i % 4"
            " FROM generate_series(1, 20000) AS i"
        )
        await conn.execute(
            "INSERT INTO alerts (exposure_id, channel, event)"
            " SELECT id, 'console', 'new' FROM exposures ORDER BY id"
        )
        await conn.execute("ANALYZE alerts")
        for min_severity in (0, 4):
            plan = await conn.fetchval(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + sql("outbox_claim"),
                "console",
                100,
                60.0,
                min_severity,
            )
            read = [
                n
                for n in nodes(json.loads(plan)[0]["Plan"])
                if n.get("Relation Name") == "alerts"
                and n.get("Index Name") != "alerts_pkey"
                and n.get("Actual Loops") == 1
            ]
            assert read, "the claim reads the pending alerts through an index"
            # 100 claimed out of 20,000 waiting (5,000 of them critical): a few hundred rows
            # read, never the backlog.
            assert max(n["Actual Rows"] for n in read) <= 500, (min_severity, read)
            await conn.execute("UPDATE alerts SET leased_until = NULL")  # EXPLAIN ANALYZE ran it
    store = Store(pool)
    claimed = await store.claim_alerts("console", limit=100, lease=60, min_severity=4)
    assert len(claimed) == 100
    assert [c.id for c in claimed] == sorted(c.id for c in claimed)


async def test_an_alerts_severity_follows_its_exposure_while_it_waits(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    store = Store(pool)
    await scan_demo(store, tmp_path, workdir)
    ids = await alert_ids(pool)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT a.id, a.severity, e.severity AS exposure FROM alerts a"
            " JOIN exposures e ON e.id = a.exposure_id ORDER BY a.id"
        )
        assert [r["severity"] for r in rows] == [r["exposure"] for r in rows]
        low = next(r["id"] for r in rows if r["severity"] < 4)
        sent = next(r["id"] for r in rows if r["severity"] < 4 and r["id"] != low)
        await conn.execute("UPDATE alerts SET sent_at = now() WHERE id = $1", sent)
        await conn.execute(
            "UPDATE exposures SET severity = 4 WHERE id IN"
            " (SELECT exposure_id FROM alerts WHERE id = ANY($1::bigint[]))",
            [low, sent],
        )
        after = dict(await conn.fetch("SELECT id, severity FROM alerts"))
    assert after[low] == 4  # waiting: it now goes out with the urgent ones
    assert after[sent] < 4  # delivered: kept as it went out
    urgent = await store.claim_alerts("probe", limit=len(ids), lease=60, min_severity=4)
    assert low in {c.id for c in urgent}


async def test_a_failed_alert_holds_back_its_follow_up_claimed_with_it(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    store = Store(pool)
    await scan_demo(store, tmp_path, workdir)
    ids = await alert_ids(pool)
    async with pool.acquire() as conn:
        exposure = await conn.fetchval("SELECT exposure_id FROM alerts WHERE id = $1", ids[0])
    async with store.transaction() as tx:
        (follow_up,) = await tx.enqueue_alert(
            exposure_id=exposure, channels=["probe"], event="contained", event_key="idp"
        )
    channel = Refusing(ids[0], retryable=False)
    report = await deliver(store, channel, max_attempts=2)
    # The first alert failed for good this round: its follow-up, claimed in the same batch,
    # waits behind it; the channel's other alerts go out.
    assert (report.sent, report.failed) == (len(ids) - 1, 1)
    assert channel.accepted == ids[1:]
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT sent_at, leased_until FROM alerts WHERE id = $1", follow_up
        )
        assert row["sent_at"] is None and row["leased_until"] is None  # given back, not sent
        await conn.execute("UPDATE alerts SET next_attempt = now() WHERE sent_at IS NULL")
    # Its second failure dead-letters it; nothing holds the follow-up back any more.
    report = await deliver(store, channel, max_attempts=2)
    assert (report.sent, report.failed) == (1, 1)
    assert channel.accepted == [*ids[1:], follow_up]
