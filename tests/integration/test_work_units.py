"""Work units beyond file ranges: a scheduled firing recorded with its units in one
transaction, API polls queued as units, problems recorded once when a unit is run again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from monitor import store as store_pkg
from monitor.app import open_app
from monitor.daemon import Daemon, DaemonOptions
from monitor.queue import CLUSTER
from monitor.store.records import PlannedSource
from monitor.store.store import Store
from tests.conftest import TEST_KEY
from tests.integration.test_cluster import cli, env_for
from tests.servers.hibp import API_KEY, HibpData, HibpServer

pytestmark = pytest.mark.asyncio

PORTAL = "portail-partenaire.example.org"
SLOT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def planned(tmp_path: Path, n: int) -> list[PlannedSource]:
    return [
        PlannedSource(
            kind="nightly",
            location=str(tmp_path / f"f{i}.txt"),
            identity=f"file:{tmp_path}/f{i}.txt:1:1",
            spans=[(0, 10), (10, 20)],
        )
        for i in range(n)
    ]


async def counts(pool: asyncpg.Pool) -> tuple[int, int, int, int]:
    async with pool.acquire() as conn:
        return (
            await conn.fetchval("SELECT count(*) FROM scheduled_runs"),
            await conn.fetchval("SELECT count(*) FROM sources"),
            await conn.fetchval("SELECT count(*) FROM work_units"),
            await conn.fetchval("SELECT count(*) FROM pgqueuer"),
        )


async def test_a_firing_is_recorded_with_its_units_or_not_at_all(
    pool: asyncpg.Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(pool)

    async def crash(*_: object, **__: object) -> None:
        raise ConnectionResetError("the process died while queueing")

    monkeypatch.setattr(store_pkg.store, "enqueue", crash)
    with pytest.raises(ConnectionResetError):
        await store.fire(
            "nightly", host="a", slot=SLOT, min_gap=0, scan_id="n1",
            planned=planned(tmp_path, 2), entrypoint=CLUSTER,
        )  # fmt: skip
    assert await counts(pool) == (0, 0, 0, 0)  # nothing recorded: the next firing does it all
    monkeypatch.undo()
    units = await store.fire(
        "nightly", host="a", slot=SLOT, min_gap=0, scan_id="n1",
        planned=planned(tmp_path, 2), entrypoint=CLUSTER,
    )  # fmt: skip
    assert units is not None and len(units) == 4
    # Another daemon firing the same night (same scheduled time) stands down: nothing doubled.
    again = await store.fire(
        "nightly", host="b", slot=SLOT, min_gap=0, scan_id="n2",
        planned=planned(tmp_path, 2), entrypoint=CLUSTER,
    )  # fmt: skip
    assert again is None
    assert await counts(pool) == (1, 2, 4, 4)
    async with pool.acquire() as conn:
        slot = await conn.fetchval("SELECT slot FROM scheduled_runs")
    assert slot == SLOT


@pytest.fixture
def hibp_config(tmp_path: Path, dsn: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CREDWATCH_DSN", dsn)
    monkeypatch.setenv("CREDWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CREDWATCH_HMAC_KEY", TEST_KEY.decode())
    monkeypatch.setenv("HIBP_KEY", API_KEY)
    return tmp_path / "credwatch.toml"


async def test_serve_queues_hibp_polls_as_units_that_carry_no_secret(
    hibp_config: Path, pool: asyncpg.Pool
) -> None:
    data = HibpData()
    data.by_website_domain[PORTAL] = ["alice@partner.example"]
    async with HibpServer(data) as server:
        hibp_config.write_text(
            f"""
[organisation]
name = "Example"
domains = ["example.org"]
portals = ["https://{PORTAL}/kairos"]

[[partners]]
name = "Partner"
email_domains = ["partner.example"]

[feeds.hibp]
api_key_env = "HIBP_KEY"
base_url = "{server.base_url}"

[serve]
hibp_interval_minutes = 60
"""
        )
        async with open_app(hibp_config) as app:
            daemon = Daemon(
                app=app,
                options=DaemonOptions(watch_dir=None, schedule=False, serve_metrics=False),
                hibp=app.api_feeds["hibp"],
            )
            serving = asyncio.create_task(daemon._serve_units())
            try:
                await asyncio.wait_for(daemon.poll_hibp(), 30)
                await asyncio.wait_for(daemon.poll_hibp(), 30)  # within the interval: no-op
            finally:
                serving.cancel()
                await asyncio.gather(serving, return_exceptions=True)
        polled = [p for p in server.paths() if "stealerlogsbywebsitedomain" in p]
    assert polled == [f"/stealerlogsbywebsitedomain/{PORTAL}"]  # one poll, run by a unit
    async with pool.acquire() as conn:
        units = await conn.fetch("SELECT path, status, identity FROM work_units")
        sources = await conn.fetch("SELECT kind, status FROM sources")
        runs = await conn.fetch("SELECT job, finished_at FROM scheduled_runs")
        logins = {r["login"] for r in await conn.fetch("SELECT login FROM exposures")}
        dumped = " ".join(
            str(tuple(r)) for r in await conn.fetch("SELECT * FROM work_units")
        ) + " ".join(str(tuple(r)) for r in await conn.fetch("SELECT * FROM pgqueuer_log"))
    assert [(u["path"], u["status"]) for u in units] == [("hibp", "done")]
    assert [(s["kind"], s["status"]) for s in sources] == [("hibp", "done")]
    assert len(runs) == 1 and runs[0]["job"] == "hibp" and runs[0]["finished_at"] is not None
    assert "alice@partner.example" in logins
    assert API_KEY not in dumped


def folder_of_problems(root: Path, files: int) -> Path:
    """A folder (one unit) of binary files, each a problem, between files with hits."""
    folder = root / "mixed"
    folder.mkdir(parents=True)
    for i in range(files):
        (folder / f"b{i:04d}.bin").write_bytes(bytes(range(256)) * 40)
        (folder / f"t{i:04d}.txt").write_text(
            "".join(f"https://shop{j}.example/:u{j}@mail.example:p{j}\n" for j in range(300))
            + f"https://intra.example.org/:agent{i}@example.org:pw{i}\n"
        )
    return folder


async def test_a_unit_killed_midway_records_its_problems_once(
    dsn: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    files = 400
    folder = folder_of_problems(tmp_path / "in", files)
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text('[organisation]\nname = "Example"\ndomains = ["example.org"]\n')
    env = env_for(dsn, tmp_path)
    worker = cli("worker", "--config", str(cfg), "--concurrency", "1", "--lease", "1")
    pipe = asyncio.subprocess.PIPE
    scan = await asyncio.create_subprocess_exec(
        *cli("scan", "--config", str(cfg), "--cluster", "--json", str(folder)),
        env=env, stdout=pipe, stderr=pipe,
    )  # fmt: skip
    first = await asyncio.create_subprocess_exec(*worker, env=env)
    second = None
    try:
        async with asyncio.timeout(120):
            while await pool.fetchval("SELECT count(*) FROM source_problems") < 20:
                await asyncio.sleep(0.002)
        first.kill()
        await first.wait()
        stored = await pool.fetchval("SELECT count(*) FROM source_problems")
        assert stored < files, "the unit ended before the kill"
        assert await pool.fetchval("SELECT status FROM work_units") == "queued"
        second = await asyncio.create_subprocess_exec(*worker, env=env)
        out, err = await asyncio.wait_for(scan.communicate(), 180)
    finally:
        for p in (first, second, scan):
            if p is not None and p.returncode is None:
                p.kill()
                await p.wait()
    assert scan.returncode == 1, err.decode()[-3000:]
    async with pool.acquire() as conn:
        problems = await conn.fetch("SELECT origin, reason FROM source_problems")
        units = await conn.fetch("SELECT status, problems FROM work_units")
        sightings = await conn.fetchval("SELECT count(*) FROM sightings")
    origins = [r["origin"] for r in problems]
    assert len(origins) == len(set(origins)) == files  # each binary file once, none twice
    assert {r["reason"] for r in problems} == {"unknown format"}
    assert [(u["status"], u["problems"]) for u in units] == [("done", files)]
    assert sightings == files
    assert len(out.decode().splitlines()) == files


async def test_a_local_scan_with_two_processes_equals_one_process(dsn: str, tmp_path: Path) -> None:
    from tests.integration.test_cluster import corpus, drop_db, facts, local_scan, second_db

    config, paths = corpus(tmp_path)
    other = await second_db(dsn, "two")
    try:
        local_scan(dsn, tmp_path, config, paths)
        expected = await facts(dsn)
        proc = await asyncio.create_subprocess_exec(
            *cli("scan", "--config", str(config), "--workers", "2", "--range-size", "65536"),
            *map(str, paths),
            env=env_for(other, tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), 300)
        assert proc.returncode == 1, err.decode()[-3000:]
        got = await facts(other)
        async with asyncpg.create_pool(other, min_size=1, max_size=1) as p:
            units = await p.fetch("SELECT status FROM work_units")
            owners = await p.fetchval("SELECT count(*) FROM sources WHERE owner IS NOT NULL")
            left = await p.fetchval("SELECT count(*) FROM pgqueuer")
    finally:
        await drop_db(other)
    assert len(units) > 4 and {u["status"] for u in units} == {"done"} and left == 0
    assert owners == len(paths)  # local units belong to the scan's process
    assert got == expected
    assert "2 path(s) in" in " ".join(err.decode().split())
