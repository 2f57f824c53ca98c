"""Nothing left behind: a killed scan's source is marked interrupted at the next start and
shown by `credwatch status`, its spool files are swept; one file by any path is one source."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from tests.integration.test_cluster import cli, env_for

Process = asyncio.subprocess.Process
PIPE = asyncio.subprocess.PIPE

pytestmark = pytest.mark.asyncio

CONFIG = '[organisation]\nname = "Example"\ndomains = ["example.org"]\n'


async def start(args: list[str], env: dict[str, str], cwd: Path | None = None) -> Process:
    return await asyncio.create_subprocess_exec(*args, env=env, cwd=cwd, stdout=PIPE, stderr=PIPE)


async def run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> Done:
    proc = await start(args, env, cwd)
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    return Done(int(proc.returncode or 0), out.decode(), err.decode())


@dataclass(frozen=True, slots=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


def setup(root: Path) -> Path:
    cfg = root / "credwatch.toml"
    cfg.write_text(CONFIG + f'\n[scan]\nworkdir = "{root / "work"}"\n')
    return cfg


def big_dump(path: Path, blocks: int = 200) -> Path:
    filler = "".join(f"https://shop{j}.example/:u{j}@mail.example:p{j}\n" for j in range(5000))
    with path.open("w") as f:
        for i in range(blocks):
            f.write(filler)
            f.write(f"https://intra.example.org/:agent{i}@example.org:pw{i}\n")
    return path


async def test_a_killed_scan_is_interrupted_and_its_spool_swept_at_the_next_start(
    dsn: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    cfg = setup(tmp_path)
    dump = big_dump(tmp_path / "dump.txt", blocks=400)
    env = env_for(dsn, tmp_path)
    scan = await start(cli("scan", "--config", str(cfg), "--workers", "1", str(dump)), env)
    try:  # killed while reading (hits are written in batches: maybe none stored yet)
        async with asyncio.timeout(60):
            while await pool.fetchval("SELECT count(*) FROM sources WHERE status = 'running'") == 0:
                await asyncio.sleep(0.005)
    finally:
        scan.kill()
        await scan.communicate()
    # What the killed process would have left while reading a nested archive.
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    spooled = work / f".credwatch-{scan.pid}-k1ll3d00.spool"
    spooled.write_bytes(b"PK\x03\x04 nested archive with credentials")
    assert await pool.fetchval("SELECT status FROM sources") == "running"

    res = await run(cli("status", "--config", str(cfg), "--json"), env)
    assert res.returncode == 0, res.stderr
    status = json.loads(res.stdout)
    assert status["interrupted"] == 1
    assert [s["status"] for s in status["recent_sources"]] == ["interrupted"]
    assert not spooled.exists()
    text = (await run(cli("status", "--config", str(cfg)), env)).stdout
    assert "sources interrupted 1" in " ".join(text.split())

    # The next scan reads the file again: nothing lost, nothing twice.
    res = await run(cli("scan", "--config", str(cfg), str(dump)), env)
    assert res.returncode == 1, res.stderr
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM sightings") == 400
        statuses = sorted(r["status"] for r in await conn.fetch("SELECT status FROM sources"))
    assert statuses == ["done", "interrupted"]


async def test_a_live_scan_is_never_marked_interrupted(
    dsn: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    cfg = setup(tmp_path)
    dump = big_dump(tmp_path / "dump.txt", blocks=400)
    env = env_for(dsn, tmp_path)
    scan = await start(cli("scan", "--config", str(cfg), "--workers", "1", str(dump)), env)
    try:
        async with asyncio.timeout(60):
            while not await pool.fetchval("SELECT count(*) FROM sightings"):
                await asyncio.sleep(0.005)
        res = await run(cli("status", "--config", str(cfg), "--json"), env)
        _, err = await asyncio.wait_for(scan.communicate(), 120)
    finally:
        if scan.returncode is None:
            scan.kill()
            await scan.communicate()
    assert scan.returncode == 1, err.decode()[-2000:]
    assert json.loads(res.stdout)["interrupted"] == 0
    assert await pool.fetchval("SELECT status FROM sources") == "done"


async def test_one_file_by_relative_absolute_or_symlinked_path_is_one_source(
    dsn: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    cfg = setup(tmp_path)
    (tmp_path / "in").mkdir()
    dump = tmp_path / "in" / "dump.txt"
    dump.write_text("https://intra.example.org/:agent@example.org:pw\nhttps://x.example/:a@b.c:d\n")
    (tmp_path / "link.txt").symlink_to(dump)
    env = env_for(dsn, tmp_path)
    for given in ("in/dump.txt", str(dump), "link.txt", "./in/../in/dump.txt"):
        res = await run(cli("scan", "--config", str(cfg), given), env, cwd=tmp_path)
        assert res.returncode == 1, res.stderr
    async with pool.acquire() as conn:
        sightings = await conn.fetch("SELECT origin, line FROM sightings")
        sources = {r["identity"] for r in await conn.fetch("SELECT identity FROM sources")}
        locations = {r["location"] for r in await conn.fetch("SELECT location FROM sources")}
    assert [(s["origin"], s["line"]) for s in sightings] == [(str(dump.resolve()), 1)]
    assert len(sources) == 1 and locations == {str(dump.resolve())}
    assert os.path.islink(tmp_path / "link.txt")


async def test_a_killed_local_scan_with_workers_leaves_no_queued_units(
    dsn: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    cfg = setup(tmp_path)
    dump = big_dump(tmp_path / "dump.txt", blocks=400)
    env = env_for(dsn, tmp_path)
    args = ["--workers", "2", "--range-size", "1048576", str(dump)]
    scan = await asyncio.create_subprocess_exec(
        *cli("scan", "--config", str(cfg), *args),
        env=env, stdout=PIPE, stderr=PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        async with asyncio.timeout(60):
            while not await pool.fetchval("SELECT count(*) FROM sightings"):
                await asyncio.sleep(0.005)
    finally:
        os.killpg(scan.pid, signal.SIGKILL)  # the scan and the worker process it started
        await scan.communicate()
    queued = await pool.fetchval("SELECT count(*) FROM work_units WHERE status = 'queued'")
    assert queued > 0, "the scan ended before the kill"
    res = await run(cli("status", "--config", str(cfg), "--json"), env)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["interrupted"] == 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM pgqueuer") == 0
        left = await conn.fetchval("SELECT count(*) FROM work_units WHERE status = 'queued'")
    assert left == 0
