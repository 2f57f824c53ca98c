"""Retention: `purge` removes exactly what is past the period and nothing else.

A database is seeded with old and new rows of every kind; every table is dumped (each row by
its primary key) before and after. The rows that go and the rows that change are listed in the
table below; every other row of every table must come out byte for byte as it went in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from monitor.retention import RetentionError, parse_duration, purge
from monitor.store import store as store_module
from monitor.store.store import Store
from tests.conftest import TEST_KEY

NOW = datetime.now(UTC)
PERIOD = timedelta(days=30)
OLD = NOW - timedelta(days=60)
OLDER = NOW - timedelta(days=90)
NEW = NOW - timedelta(days=1)

Dump = dict[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One exposure as seeded, and what the purge must do with it and its rows."""

    name: str
    lifecycle: str
    status: str = "new"
    decided: datetime = OLD  # lifecycle_at
    seen: datetime = OLD  # last_seen
    reopened: bool = False  # a human reopened it (a transition to open)
    purged: bool = False
    sightings: tuple[datetime, ...] = (OLDER, OLD)
    sightings_kept: tuple[datetime, ...] = (OLD,)
    alerts: tuple[tuple[str, str, datetime | None], ...] = ()  # event, sent|dead|pending, when
    alerts_kept: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


CASES = [
    # open, not seen for longer than the period: kept, with its latest sighting only; delivered
    # alerts older than the period go except its announcement; a pending alert stays.
    Case(
        name="open-old",
        lifecycle="open",
        alerts=(
            ("new", "sent", OLD),
            ("contained", "sent", OLD),
            ("updated", "dead", OLD),
            ("stale", "sent", NEW),
            ("containment_failed", "pending", None),
        ),
        alerts_kept=("new", "stale", "containment_failed"),
    ),
    Case(
        name="acknowledged-seen-again",
        lifecycle="acknowledged",
        seen=NEW,
        sightings=(OLD, NEW),
        sightings_kept=(NEW,),
    ),
    Case(
        name="resolved-long-ago",
        lifecycle="resolved",
        purged=True,
        sightings_kept=(),
        alerts=(("new", "sent", OLD), ("updated", "pending", None)),
    ),
    Case(name="resolved-recently", lifecycle="resolved", decided=NEW),
    Case(
        name="dismissed-seen-again",
        lifecycle="dismissed",
        seen=NEW,
        sightings=(OLD, NEW),
        sightings_kept=(NEW,),
    ),
    Case(
        name="suppressed-by-policy",
        lifecycle="open",
        status="dismissed",
        purged=True,
        sightings_kept=(),
    ),
    Case(name="suppressed-then-reopened", lifecycle="open", status="dismissed", reopened=True),
    Case(name="dismissed-by-rule", lifecycle="dismissed", purged=True, sightings_kept=()),
    Case(name="new-and-open", lifecycle="open", seen=NEW, sightings=(NEW,), sightings_kept=(NEW,)),
]


async def seed(conn: asyncpg.Connection) -> dict[str, int]:
    """The cases, a source per period, problems, scan hits, and audit rows; returns the ids."""
    ids: dict[str, int] = {}
    old_source = await conn.fetchval(
        "INSERT INTO sources (kind, location, identity, status, started_at)"
        " VALUES ('file', '/dumps/old.txt', 'old', 'done', $1) RETURNING id",
        OLDER,
    )
    new_source = await conn.fetchval(
        "INSERT INTO sources (kind, location, identity, status, started_at)"
        " VALUES ('file', '/dumps/new.txt', 'new', 'done', $1) RETURNING id",
        NEW,
    )
    for scan, source in (("old-scan", old_source), ("new-scan", new_source)):
        await conn.execute(
            "INSERT INTO work_units (scan_id, source_id, path, identity, status)"
            " VALUES ($1, $2, '/dumps/x.txt', 'x', 'done')",
            scan,
            source,
        )
    for reason, at in (("old problem", OLD), ("new problem", NEW)):
        ids[reason] = await conn.fetchval(
            "INSERT INTO source_problems (source_id, origin, reason, created_at)"
            " VALUES ($1, 'dump.txt:7', $2, $3) RETURNING id",
            old_source,
            reason,
            at,
        )
    for n, case in enumerate(CASES):
        login = f"user{n}@partner.example"
        eid = await conn.fetchval(
            "INSERT INTO exposures (fingerprint, kind, url, host, login, login_domain, secret_hint,"
            " reasons, severity, status, lifecycle, lifecycle_at, first_seen, last_seen)"
            " VALUES ($1, 'password', $2, 'portal.example', $3, 'partner.example', 'ab***',"
            " '{login}', 3, $4, $5, $6, $7, $8) RETURNING id",
            f"fp-{case.name}",
            f"https://portal.example/{case.name}",
            login,
            case.status,
            case.lifecycle,
            case.decided,
            min(case.sightings),
            case.seen,
        )
        ids[case.name] = eid
        for i, at in enumerate(case.sightings):
            ids[f"{case.name}/sighting/{at.isoformat()}"] = await conn.fetchval(
                "INSERT INTO sightings (exposure_id, source_id, origin, line, feed, url,"
                " victim_hash, seen_at) VALUES ($1, $2, $3, $4, 'files', '', 'vh', $5) RETURNING id",
                eid,
                old_source,
                f"dump{i}.txt",
                i + 1,
                at,
            )
        for event, state, at in case.alerts:
            ids[f"{case.name}/alert/{event}"] = await conn.fetchval(
                "INSERT INTO alerts (exposure_id, channel, event, origin, summary, created_at,"
                " sent_at, dead_at) VALUES ($1, 'slack', $2, 'dump.txt:1', $3, $4, $5, $6)"
                " RETURNING id",
                eid,
                event,
                f"about {login}",
                at or NEW,
                at if state == "sent" else None,
                at if state == "dead" else None,
            )
        for scan in ("old-scan", "new-scan"):
            ids[f"{case.name}/hit/{scan}"] = await conn.fetchval(
                "INSERT INTO scan_hits (scan_id, exposure_id, origin, line, row)"
                " VALUES ($1, $2, 'dump.txt', 1, $3::jsonb) RETURNING id",
                scan,
                eid,
                json.dumps({"login": login}),
            )
        ids[f"{case.name}/action"] = await conn.fetchval(
            "INSERT INTO actions (exposure_id, provider, step, outcome, decided_by, detail,"
            " created_at) VALUES ($1, 'ldap', 'reset_password', 'failed', 'policy', $2, $3)"
            " RETURNING id",
            eid,
            f"no entry for {login.upper()} under ou=people",
            OLD,
        )
        ids[f"{case.name}/containment"] = await conn.fetchval(
            "INSERT INTO containments (exposure_id, provider, decision, dry_run, status,"
            " decided_by, reason, login, idp_user_id, last_error)"
            " VALUES ($1, 'ldap', 'approve', false, 'awaiting_approval', 'policy',"
            " 'critical', $2, 'uid-4711', $3) RETURNING id",
            eid,
            login,
            f"lookup of {login} timed out",
        )
        if case.lifecycle != "open" or case.reopened:
            ids[f"{case.name}/transition"] = await conn.fetchval(
                "INSERT INTO transitions (exposure_id, from_state, to_state, decided_by, reason,"
                " created_at) VALUES ($1, 'open', $2, 'cli:ann', $3, $4) RETURNING id",
                eid,
                case.lifecycle if case.lifecycle != "open" else "open",
                f"called {login} back",
                case.decided,
            )
    await conn.execute(
        "INSERT INTO drop_files (identity, location, attempts, quarantined_at, updated_at)"
        " VALUES ('q', '/drop/q.txt', 3, $1, $1)",
        OLDER,
    )
    await conn.execute(
        "INSERT INTO suppressions (field, pattern, reason, created_by, created_at)"
        " VALUES ('host', '*.test.example', 'lab', 'cli:ann', $1)",
        OLDER,
    )
    return ids


async def dump(conn: asyncpg.Connection) -> Dump:
    """Every row of every table of the schema, by primary key, as JSON text."""
    tables = await conn.fetch(
        "SELECT c.relname AS name,"
        " (SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_index i"
        "  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        "  WHERE i.indrelid = c.oid AND i.indisprimary) AS pk"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname"
    )
    out: Dump = {}
    for t in tables:
        pk = list(t["pk"] or [])
        rows = await conn.fetch(f'SELECT row_to_json(x)::text AS j FROM "{t["name"]}" x')
        table: dict[str, dict[str, Any]] = {}
        for r in rows:
            row = json.loads(r["j"])
            key = "/".join(str(row[c]) for c in pk) if pk else r["j"]
            table[key] = row
        out[t["name"]] = table
    return out


def expected(ids: dict[str, int]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per table, the keys of the rows the purge deletes, and of those it changes."""
    gone: dict[str, set[str]] = {}
    changed: dict[str, set[str]] = {}

    def drop(table: str, key: str) -> None:
        gone.setdefault(table, set()).add(str(ids[key]))

    def change(table: str, key: str) -> None:
        changed.setdefault(table, set()).add(str(ids[key]))

    drop("source_problems", "old problem")
    for case in CASES:
        for at in case.sightings:
            if at not in case.sightings_kept:
                drop("sightings", f"{case.name}/sighting/{at.isoformat()}")
        for event, _, _ in case.alerts:
            if event not in case.alerts_kept:
                drop("alerts", f"{case.name}/alert/{event}")
        drop("scan_hits", f"{case.name}/hit/old-scan")
        if case.purged:
            drop("exposures", case.name)
            drop("scan_hits", f"{case.name}/hit/new-scan")
            change("actions", f"{case.name}/action")
            change("containments", f"{case.name}/containment")
            if f"{case.name}/transition" in ids:
                change("transitions", f"{case.name}/transition")
    return gone, changed


@pytest.mark.parametrize("batch", [2, 500])  # closed exposures per transaction
async def test_purge_removes_exactly_what_is_past_retention(
    pool: asyncpg.Pool, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "BATCH", batch)
    async with pool.acquire() as conn:
        ids = await seed(conn)
        before = await dump(conn)
    store = Store(pool)

    dry = await purge(store, PERIOD, now=NOW, dry_run=True)
    async with pool.acquire() as conn:
        assert await dump(conn) == before  # a dry run changes nothing

    done = await purge(store, PERIOD, now=NOW)
    async with pool.acquire() as conn:
        after = await dump(conn)
    assert done.counts == dry.counts  # the dry run counted what the purge did
    gone, changed = expected(ids)
    for table, rows in before.items():
        kept = set(rows) - gone.get(table, set())
        assert set(after[table]) == kept, table
        for key in kept - changed.get(table, set()):
            assert after[table][key] == rows[key], (table, key)
    counts = done.counts
    assert counts.deleted() == {
        "exposures": len(gone["exposures"]),
        "sightings": len(gone["sightings"]),
        "alerts": len(gone["alerts"]),
        "scan_hits": len(gone["scan_hits"]),
        "problems": 1,
        "line_marks": 0,
    }
    purged = [c for c in CASES if c.purged]
    assert counts.actions_anonymised == counts.containments_anonymised == len(purged)
    assert counts.transitions_anonymised == sum(c.lifecycle != "open" for c in purged)
    assert counts.kept_open == 1  # open-old: kept, reported

    # The audit trail about purged exposures: its facts, the fingerprint, no personal data.
    for case in purged:
        n = CASES.index(case)
        login = f"user{n}@partner.example"
        action = after["actions"][str(ids[f"{case.name}/action"])]
        assert action["exposure_id"] is None and action["exposure_fp"] == f"fp-{case.name}"
        assert (action["provider"], action["step"], action["outcome"]) == (
            "ldap",
            "reset_password",
            "failed",
        )
        assert action["detail"] == f"no entry for fp:fp-{case.name} under ou=people"
        containment = after["containments"][str(ids[f"{case.name}/containment"])]
        assert (
            containment["exposure_id"] is None and containment["exposure_fp"] == f"fp-{case.name}"
        )
        assert containment["login"] is None and containment["idp_user_id"] is None
        assert containment["status"] == "withdrawn" and containment["decided_by"] == "policy"
        assert containment["last_error"] == f"lookup of fp:fp-{case.name} timed out"
        if f"{case.name}/transition" in ids:
            t = after["transitions"][str(ids[f"{case.name}/transition"])]
            assert t["exposure_id"] is None and t["decided_by"] == "cli:ann"
            assert t["reason"] == f"called fp:fp-{case.name} back"
        everything = json.dumps(after)
        assert login not in everything and login.upper() not in everything

    # `credwatch actions` still lists them, without the login.
    listed = {r.action.id: r for r in await store.actions()}
    assert len(listed) == len(CASES)
    for case in purged:
        row = listed[ids[f"{case.name}/action"]]
        assert row.action.exposure_id is None and row.login == "" and row.host == ""

    # Nothing left past the period: a second purge deletes nothing.
    again = await purge(store, PERIOD, now=NOW)
    assert sum(again.counts.deleted().values()) == 0


async def test_a_purged_credential_seen_again_is_a_new_exposure(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        ids = await seed(conn)
    await purge(Store(pool), PERIOD, now=NOW)
    async with pool.acquire() as conn:
        again = await conn.fetchval(
            "INSERT INTO exposures (fingerprint, kind, reasons, severity)"
            " VALUES ('fp-resolved-long-ago', 'password', '{login}', 3) RETURNING id"
        )
        trail = await conn.fetch(
            "SELECT exposure_id FROM actions WHERE exposure_fp = 'fp-resolved-long-ago'"
        )
    assert again != ids["resolved-long-ago"]
    assert [r["exposure_id"] for r in trail] == [None]  # the old facts stay apart


async def test_no_row_names_a_purged_exposure(pool: asyncpg.Pool) -> None:
    """Sightings, alerts and scan report rows carry no foreign key (the hit path skips its
    checks): the purge deletes them with their exposure, and an alert raised afterwards for it,
    as a containment finishing late would, is not queued."""
    async with pool.acquire() as conn:
        ids = await seed(conn)
    await purge(Store(pool), PERIOD, now=NOW)
    async with pool.acquire() as conn:
        for table in ("sightings", "alerts", "scan_hits"):
            orphans = await conn.fetchval(
                f"SELECT count(*) FROM {table} t"
                " WHERE NOT EXISTS (SELECT 1 FROM exposures e WHERE e.id = t.exposure_id)"
            )
            assert orphans == 0, table
    gone = ids["resolved-long-ago"]
    async with Store(pool).transaction() as tx:
        queued = await tx.enqueue_alert(
            exposure_id=gone, channels=["console"], event="contained", event_key="ldap"
        )
        announced = await tx.enqueue_alert(exposure_id=gone, channels=["console"], event="new")
    assert queued == announced == []
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM alerts WHERE exposure_id = $1", gone) == 0


async def test_published_line_counts_past_retention_are_purged(pool: asyncpg.Pool) -> None:
    store = Store(pool)
    await store.line_mark_add("/dumps/big.txt:100:1", 50, 3)
    await store.line_mark_add("/dumps/big.txt:100:1", 80, 5)
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE line_marks SET marked_at = $1 WHERE at_byte = 50", NOW - PERIOD * 2
        )
    done = await purge(store, PERIOD, now=NOW)
    assert done.counts.line_marks == 1
    assert await store.line_mark_nearest("/dumps/big.txt:100:1", 60) is None
    assert await store.line_mark_nearest("/dumps/big.txt:100:1", 90) == (80, 5)


@pytest.mark.parametrize(
    ("text", "days"),
    [("90d", 90), ("12w", 84), ("1y", 365), (" 2Y ", 730), ("1d", 1), ("100y", 36500)],
)
def test_retention_periods(text: str, days: int) -> None:
    assert parse_duration(text) == timedelta(days=days)


@pytest.mark.parametrize(
    "text", ["", "90", "d", "0d", "-5d", "1.5y", "3m", "90 days", "101y", "1e3d", "9999999d"]
)
def test_nonsense_periods_are_refused(text: str) -> None:
    with pytest.raises(RetentionError):
        parse_duration(text)


def run_cli(args: list[str], dsn: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        CREDWATCH_DSN=dsn,
        CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
        CREDWATCH_HOME=str(home),
    )
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


async def test_purge_command(dsn: str, pool: asyncpg.Pool, tmp_path: Path) -> None:
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text('[organisation]\nname = "Org"\ndomains = ["partner.example"]\n')
    async with pool.acquire() as conn:
        await seed(conn)
        before = await dump(conn)
    bad = run_cli(["purge", "--config", str(cfg), "--older-than", "soon"], dsn, tmp_path)
    assert bad.returncode == 2 and "--older-than" in bad.stderr
    unset = run_cli(["purge", "--config", str(cfg)], dsn, tmp_path)
    assert unset.returncode == 2 and "[retention] days" in unset.stderr
    dry = run_cli(
        ["purge", "--config", str(cfg), "--older-than", "30d", "--dry-run", "--json"],
        dsn,
        tmp_path,
    )
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True and report["deleted"]["exposures"] == 3
    async with pool.acquire() as conn:
        assert await dump(conn) == before
    cfg.write_text(cfg.read_text() + "\n[retention]\ndays = 30\n")
    real = run_cli(["purge", "--config", str(cfg)], dsn, tmp_path)  # the configured period
    assert real.returncode == 0, real.stderr
    assert "deleted 3 exposures" in real.stdout and "1 open or acknowledged" in real.stdout
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM exposures") == len(CASES) - 3
    actions = run_cli(["actions", "--config", str(cfg)], dsn, tmp_path)
    assert actions.returncode == 0 and actions.stdout.count("purged") == 3
