"""`credwatch lookup --scan` on workers: local processes (`--workers 2`) and the cluster's
`credwatch worker`s (`--cluster`) give exactly the answer of the lookup's own read; nothing is
left in the database but the audit lines (not even the transient rows the workers handed their
findings through), also when a worker is killed in the middle of a unit."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import jsonschema

from monitor.domain_lookup import Role
from monitor.queue import LookupUnit, enqueue, local_entrypoint, lookup_local
from tests.gen.lookup_library import DOMAIN, WATCHED, Library, write_library
from tests.integration.test_cluster import cli, env_for
from tests.integration.test_lookup import accounts_by_role, arun, config, row_counts, schema

RANGE = 4096  # small ranges: the text base is cut into many units
# The queue's own log of job ids and states (no payload) grows with every queued unit.
QUEUE_LOG = {"public.pgqueuer_log", "public.pgqueuer_statistics"}
TRANSIENT = ("lookup_units", "lookup_findings")


def comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer without what differs from run to run: when, and how long the read took."""
    out = dict(answer)
    out.pop("generated_at")
    out["library"] = dict(out["library"])
    out["library"].pop("seconds")
    return out


async def lookup(cfg: str, *extra: str, dsn: str, home: Path) -> dict[str, Any]:
    done = await arun("lookup", DOMAIN, "--scan", "--json", "--config", cfg, *extra,
                      dsn=dsn, home=home)  # fmt: skip
    assert done.returncode == 1, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    jsonschema.validate(answer, schema())
    return answer


def start_workers(dsn: str, home: Path, cfg: str, count: int) -> list[subprocess.Popen[bytes]]:
    args = cli("worker", "--config", cfg, "--concurrency", "1", "--lease", "2")
    return [subprocess.Popen(args, env=env_for(dsn, home)) for _ in range(count)]


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    for w in workers:
        w.wait(timeout=30)


async def leftovers(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        out = {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in TRANSIENT}
        out["queued"] = int(await conn.fetchval("SELECT count(*) FROM pgqueuer"))
    finally:
        await conn.close()
    return out


def seen_twice(lib: Library, login: str) -> None:
    """Copy `login`'s line of the text base to its end: the same credential in another unit
    (counted once, seen twice)."""
    combo = lib.paths[1]
    [line] = [ln for ln in combo.read_text("utf-8").splitlines() if f":{login}:" in ln]
    with combo.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


async def test_lookup_on_workers_and_on_the_cluster_equals_the_in_process_lookup(
    dsn: str, tmp_path: Path
) -> None:
    lib = write_library(tmp_path / "library")
    seen_twice(lib, f"heidi@{DOMAIN}")
    cfg = str(config(tmp_path, lib))
    # The store holds something first, so that "nothing new" is measured on tables not empty.
    scanned = await arun("scan", "--config", cfg, *map(str, lib.paths), dsn=dsn, home=tmp_path)
    assert scanned.returncode == 1, scanned.stderr
    here = await lookup(cfg, dsn=dsn, home=tmp_path)
    assert accounts_by_role(here["library"]["summary"]) == lib.expected
    before = await row_counts(dsn)

    local = await lookup(cfg, "--workers", "2", "--range-size", str(RANGE), dsn=dsn, home=tmp_path)
    workers = await asyncio.to_thread(start_workers, dsn, tmp_path, cfg, 2)
    try:
        spread = await lookup(cfg, "--cluster", "--range-size", str(RANGE), dsn=dsn, home=tmp_path)
    finally:
        await asyncio.to_thread(stop_workers, workers)

    assert comparable(local) == comparable(here)
    assert comparable(spread) == comparable(here)
    side = spread["library"]["summary"]
    for role in Role:
        assert side["roles"][role.value]["credentials"] == len(lib.expected[role])
    hosts = {h["host"]: h["sightings"] for h in side["hosts"]}
    assert hosts["netflix.com"] == 2  # heidi's one credential, seen in two units
    assert side["machines"] == 2 and here["library"]["lines"] > 2000

    after = await row_counts(dsn)
    changed = {
        t: (before.get(t), n) for t, n in after.items() if before.get(t) != n and t not in QUEUE_LOG
    }
    assert changed == {"public.lookups": (before["public.lookups"], before["public.lookups"] + 2)}
    assert await leftovers(dsn) == {"lookup_units": 0, "lookup_findings": 0, "queued": 0}
    conn = await asyncpg.connect(dsn)
    try:
        audits = await conn.fetch("SELECT counts, finished_at FROM lookups ORDER BY id")
    finally:
        await conn.close()
    assert all(a["finished_at"] is not None for a in audits)
    counts = [json.loads(a["counts"]) for a in audits]
    assert counts[0] == counts[1] == counts[2]


def big_library(root: Path, *, employees: int) -> Library:
    """The generated library, its text base grown with many employees of the domain: one
    unit's findings take many writes, so a worker can be killed between two of them."""
    lib = write_library(root)
    combo = lib.paths[1]
    with combo.open("a", encoding="utf-8") as fh:
        for i in range(employees):
            fh.write(f"https://intranet{i % 13}.example.net/:staff{i}@{DOMAIN}:Pw!{i:08d}\n")
    return lib


async def until_mid_unit(dsn: str) -> None:
    """Wait until a lookup unit has handed back some findings but is not closed."""
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(3000):
            mid = await conn.fetchval(
                "SELECT count(*) FROM lookup_findings f JOIN lookup_units u"
                " ON u.lookup_id = f.lookup_id AND u.unit_no = f.unit_no"
                " WHERE u.status = 'queued'"
            )
            if mid:
                return
            await asyncio.sleep(0.01)
    finally:
        await conn.close()
    raise AssertionError("no lookup unit was seen in progress")


async def test_a_unit_read_again_after_its_worker_was_killed_counts_once(
    dsn: str, tmp_path: Path
) -> None:
    employees = 30_000
    lib = big_library(tmp_path / "library", employees=employees)
    cfg = str(config(tmp_path, lib))
    here = await lookup(cfg, dsn=dsn, home=tmp_path)
    side = here["library"]["summary"]
    assert side["roles"]["employee"]["credentials"] == employees + len(lib.expected[Role.EMPLOYEE])

    [first] = await asyncio.to_thread(start_workers, dsn, tmp_path, cfg, 1)
    workers = [first]
    task = asyncio.create_task(lookup(cfg, "--cluster", dsn=dsn, home=tmp_path))
    try:
        await until_mid_unit(dsn)
        first.send_signal(signal.SIGKILL)
        first.wait()
        workers.extend(await asyncio.to_thread(start_workers, dsn, tmp_path, cfg, 1))
        spread = await asyncio.wait_for(task, 240)
    finally:
        await asyncio.to_thread(stop_workers, workers)
        if not task.done():
            task.cancel()
    assert comparable(spread) == comparable(here)
    assert await leftovers(dsn) == {"lookup_units": 0, "lookup_findings": 0, "queued": 0}


async def died(conn: asyncpg.Connection, *, age: timedelta) -> int:
    """A lookup that died `age` ago with a unit in progress: its rows and its queued unit."""
    lookup_id = int(
        await conn.fetchval(
            "INSERT INTO lookups (actor, domain, scanned, started_at)"
            " VALUES ('someone', $1, true, now() - $2::interval) RETURNING id",
            DOMAIN,
            age,
        )
    )
    await conn.execute("INSERT INTO lookup_units (lookup_id, unit_no) VALUES ($1, 0)", lookup_id)
    await conn.execute(
        "INSERT INTO lookup_findings (lookup_id, unit_no, origin, nth, identity, kind, host,"
        " login, url) VALUES ($1, 0, '/dumps/combo.txt', 0, 'ab', 'password', 'x.example',"
        " 'a@x.example', 'https://x.example/')",
        lookup_id,
    )
    unit = LookupUnit(
        lookup_id=lookup_id, unit_no=0, domain=DOMAIN, path="/dumps/combo.txt",
        identity="file:/dumps/combo.txt:1:1", salt="00",
    )  # fmt: skip
    await enqueue(conn, local_entrypoint(lookup_local(lookup_id)), [unit])
    return lookup_id


async def test_rows_left_by_a_lookup_that_died_are_swept_by_the_next_lookup(
    dsn: str, tmp_path: Path
) -> None:
    lib = write_library(tmp_path / "library")
    cfg = str(config(tmp_path, lib))
    conn = await asyncpg.connect(dsn)
    try:
        old = await died(conn, age=timedelta(days=2))
        recent = await died(conn, age=timedelta(minutes=1))  # may still be running: kept
        done = await arun("lookup", WATCHED, "--config", cfg, dsn=dsn, home=tmp_path)
        assert done.returncode == 0, done.stderr
        left = {
            t: {r["lookup_id"] for r in await conn.fetch(f"SELECT lookup_id FROM {t}")}
            for t in TRANSIENT
        }
        queued = await conn.fetchval("SELECT count(*) FROM pgqueuer")
    finally:
        await conn.close()
    assert old != recent
    assert left == {"lookup_units": {recent}, "lookup_findings": {recent}}
    assert queued == 1  # the recent lookup's unit; the dead one's is no longer queued
