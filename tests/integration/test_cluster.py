"""Cluster scans: two worker processes on one database find exactly what a local scan finds,
also when one of them is killed in the middle of a unit."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.parse
from pathlib import Path

import asyncpg
import pytest

from monitor.demo import write_demo
from tests.conftest import TEST_KEY, with_database
from tests.gen.ulp_big import write_ulp

pytestmark = pytest.mark.asyncio

RANGE = 32 << 10  # small ranges: the big file is cut into many units


def env_for(dsn: str, home: Path) -> dict[str, str]:
    return dict(
        os.environ,
        CREDWATCH_DSN=dsn,
        CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
        CREDWATCH_HOME=str(home),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "monitor.cli", *args]


def corpus(tmp_path: Path) -> tuple[Path, list[Path]]:
    write_demo(tmp_path / "demo")
    big = tmp_path / "demo" / "big.txt"
    write_ulp(big, lines=20_000, hits=200)
    return tmp_path / "demo" / "credwatch.toml", [tmp_path / "demo" / "dumps", big]


async def facts(dsn: str) -> tuple[set[tuple[object, ...]], ...]:
    conn = await asyncpg.connect(dsn)
    try:
        exposures = {
            tuple(r)
            for r in await conn.fetch(
                "SELECT fingerprint, reasons::text, severity, status, infected_at FROM exposures"
            )
        }
        sightings = await conn.fetch(
            "SELECT e.fingerprint, s.origin, s.line, s.url, s.infected_at "
            "FROM sightings s JOIN exposures e ON e.id = s.exposure_id"
        )
        alerts = await conn.fetch(
            # An "updated" alert exists only when the first one had already gone out when the
            # update arrived: that depends on delivery timing, not on the split. Every first
            # alert must be the same; the facts updates carry are in the exposure rows above.
            "SELECT e.fingerprint, a.channel, a.event, a.event_key "
            "FROM alerts a JOIN exposures e ON e.id = a.exposure_id WHERE a.event <> 'updated'"
        )
    finally:
        await conn.close()
    s_rows = [tuple(r) for r in sightings]
    a_rows = [tuple(r) for r in alerts]
    assert len(s_rows) == len(set(s_rows)) and len(a_rows) == len(set(a_rows))
    return exposures, set(s_rows), set(a_rows)


def local_scan(dsn: str, home: Path, config: Path, paths: list[Path]) -> None:
    res = subprocess.run(
        cli("scan", "--config", str(config), "--workers", "1", *map(str, paths)),
        env=env_for(dsn, home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 1, res.stderr


def cluster_scan(
    dsn: str, home: Path, config: Path, paths: list[Path], *, kill_one: bool
) -> subprocess.CompletedProcess[str]:
    env = env_for(dsn, home)
    worker = cli("worker", "--config", str(config), "--concurrency", "1", "--lease", "2")
    first = subprocess.Popen(worker, env=env)
    workers = [first]
    scan = subprocess.Popen(
        cli("scan", "--config", str(config), "--cluster", "--json", "--range-size", str(RANGE))
        + [str(p) for p in paths],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if kill_one:
            asyncio.run(until_mid_unit(dsn))
            first.send_signal(signal.SIGKILL)
            first.wait()
        workers.append(subprocess.Popen(worker, env=env))
        if not kill_one:
            workers.append(subprocess.Popen(worker, env=env))
        out, errs = scan.communicate(timeout=300)
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
                w.wait(timeout=30)
        if scan.poll() is None:
            scan.kill()
    return subprocess.CompletedProcess(scan.args, scan.returncode or 0, out, errs)


async def until_mid_unit(dsn: str) -> None:
    """Wait until a unit has stored some of its hits but is not closed."""
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(600):
            mid = await conn.fetchval(
                "SELECT count(*) FROM sightings s JOIN work_units u ON u.source_id = s.source_id "
                "WHERE u.status = 'queued' AND u.start_at IS NOT NULL"
            )
            if mid:
                return
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    raise AssertionError("no unit was seen in progress")


async def second_db(dsn: str, suffix: str) -> str:
    name = urllib.parse.urlsplit(dsn).path.lstrip("/")
    admin = await asyncpg.connect(with_database(dsn, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}_{suffix}" TEMPLATE "{name}"')
    finally:
        await admin.close()
    return with_database(dsn, f"{name}_{suffix}")


async def drop_db(dsn: str) -> None:
    name = urllib.parse.urlsplit(dsn).path.lstrip("/")
    admin = await asyncpg.connect(with_database(dsn, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.mark.parametrize("kill_one", [False, True], ids=["two-workers", "one-killed"])
async def test_cluster_scan_equals_local_scan(dsn: str, tmp_path: Path, kill_one: bool) -> None:
    config, paths = corpus(tmp_path)
    other = await second_db(dsn, "cluster")
    try:
        local_scan(dsn, tmp_path, config, paths)
        expected = await facts(dsn)
        assert len(expected[1]) > 200
        res = await asyncio.to_thread(
            cluster_scan, other, tmp_path, config, paths, kill_one=kill_one
        )
        assert res.returncode == 1, res.stderr
        got = await facts(other)
        conn = await asyncpg.connect(other)
        try:
            units = await conn.fetch("SELECT status FROM work_units")
            left = await conn.fetchval("SELECT count(*) FROM pgqueuer")
        finally:
            await conn.close()
    finally:
        await drop_db(other)
    assert len(units) > 10 and {u["status"] for u in units} == {"done"}
    assert left == 0
    assert got[0] == expected[0]
    assert got[1] == expected[1]
    assert got[2] == expected[2]
    rows = res.stdout.splitlines()
    assert len(rows) == len(expected[1])
