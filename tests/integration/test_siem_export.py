"""`credwatch export` on a change cursor: every exposure change after the cursor, exactly once,
as ECS events that validate against the documented schema; a change committed late by an older
transaction is not skipped.

The cursor is a transaction horizon of the whole PostgreSQL server: a transaction left open
elsewhere on it holds exports back (never makes them skip). So the tests export until what they
wait for arrives, and count how often each change came across all the exports.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import jsonschema

from monitor import siem
from monitor.demo import write_demo
from monitor.store.store import Store
from tests.integration.test_retention import run_cli

WAIT = 30.0  # seconds an export may be held back by another transaction of the server


def lines(res: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines()]


async def test_incremental_export_includes_a_later_status_change_exactly_once(
    dsn: str, tmp_path: Path
) -> None:
    planted = write_demo(tmp_path / "demo")
    cfg = str(tmp_path / "demo" / "credwatch.toml")
    scan = run_cli(["scan", "--config", cfg, str(tmp_path / "demo" / "dumps")], dsn, tmp_path)
    assert scan.returncode == 1, scan.stderr
    cursor = tmp_path / "siem.cursor"
    seen: Counter[tuple[int, str, str]] = Counter()
    docs: list[dict[str, Any]] = []

    async def export_until(done: Any) -> None:
        async with asyncio.timeout(WAIT):
            while True:
                res = run_cli(
                    ["export", "--config", cfg, "--cursor-file", str(cursor)], dsn, tmp_path
                )
                got = lines(res)
                assert res.stderr.strip().endswith(f"next cursor: {cursor.read_text().strip()}")
                for doc in got:
                    ours = doc["credwatch"]
                    seen[(ours["exposure_id"], ours["lifecycle"], ours["status"])] += 1
                docs.extend(got)
                if done():
                    return
                await asyncio.sleep(0.2)

    await export_until(lambda: len({k[0] for k in seen}) == len(planted))
    schema = siem.schema()
    for doc in docs:
        jsonschema.validate(doc, schema, format_checker=jsonschema.FormatChecker())
        assert doc["event"]["kind"] == "state" and doc["event"]["action"] == "exposure-changed"
    for p in planted:
        assert p.password not in json.dumps(docs)
    first = min(k[0] for k in seen)
    before = len(docs)

    resolved = run_cli(
        ["resolve", str(first), "--config", cfg, "--reason", "password reset by the user"],
        dsn,
        tmp_path,
    )
    assert resolved.returncode == 0, resolved.stderr
    await export_until(lambda: seen[(first, "resolved", "new")] >= 1)
    later = docs[before:]
    assert [d["credwatch"]["exposure_id"] for d in later] == [first]  # only what changed
    # Nothing more comes, however often the export runs.
    for _ in range(3):
        assert (
            lines(run_cli(["export", "--config", cfg, "--cursor-file", str(cursor)], dsn, tmp_path))
            == []
        )
    assert all(n == 1 for n in seen.values()), seen
    # --since-cursor N gives the same as the file; --since DATE is still understood.
    again = run_cli(["export", "--config", cfg, "--since-cursor", "0"], dsn, tmp_path)
    assert {d["credwatch"]["exposure_id"] for d in lines(again)} == {k[0] for k in seen}
    since = run_cli(["export", "--config", cfg, "--since", "2999-01-01"], dsn, tmp_path)
    assert lines(since) == [] and "next cursor: " in since.stderr
    both = run_cli(
        ["export", "--config", cfg, "--since-cursor", "0", "--cursor-file", str(cursor)],
        dsn,
        tmp_path,
    )
    assert both.returncode == 2
    cursor.write_text("yesterday\n")
    broken = run_cli(["export", "--config", cfg, "--cursor-file", str(cursor)], dsn, tmp_path)
    assert broken.returncode == 2 and "does not hold a cursor" in broken.stderr


async def test_a_change_committed_late_by_an_older_transaction_is_not_skipped(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        a, b = [
            await conn.fetchval(
                "INSERT INTO exposures (fingerprint, kind, reasons, severity, login)"
                " VALUES ($1, 'password', '{login}', 2, $1) RETURNING id",
                name,
            )
            for name in ("a@x.example", "b@x.example")
        ]
    store = Store(pool)
    seen: Counter[tuple[int, str]] = Counter()
    cursor = 0

    async def export() -> list[int]:
        nonlocal cursor
        async with store.changes(cursor=cursor) as changes:
            got = [s async for s in changes.states]
            cursor = changes.next_cursor
        for s in got:
            seen[(s.exposure.id, s.exposure.status.value)] += 1
        return [s.exposure.id for s in got]

    async def export_until(key: tuple[int, str]) -> None:
        async with asyncio.timeout(WAIT):
            while not seen[key]:
                await export()
                await asyncio.sleep(0.1)

    await export_until((a, "new"))
    await export_until((b, "new"))
    slow = await pool.acquire()
    try:
        tx = slow.transaction()
        await tx.start()
        # The older transaction changes `a` first, and commits last.
        await slow.execute("UPDATE exposures SET status = 'contained' WHERE id = $1", a)
        async with pool.acquire() as conn:
            await conn.execute("UPDATE exposures SET status = 'stale' WHERE id = $1", b)
        for _ in range(3):  # `b` is committed, but waits for the older transaction
            assert await export() == []
        await tx.commit()
    finally:
        await pool.release(slow)
    await export_until((a, "contained"))
    await export_until((b, "stale"))
    assert seen == Counter({(a, "new"): 1, (b, "new"): 1, (a, "contained"): 1, (b, "stale"): 1})
