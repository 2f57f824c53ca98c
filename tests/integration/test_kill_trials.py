"""Kill -9 at random moments of a scan and of alert delivery, in `credwatch scan` and in `serve`,
and a PostgreSQL connection cut mid-scan: after a restart completes the work, the database
holds what a clean run of the same input holds, and no alert was posted twice on Slack beyond
the one in flight at the kill. A few seeded trials always run; CREDWATCH_LONG_TRIALS=1 runs
many (CREDWATCH_TRIAL_SEED picks another seed)."""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.conftest import TEST_KEY, with_database
from tests.integration.test_serve import config, free_port, start, stop, wait_for
from tests.servers.slack import SlackServer

LONG = os.environ.get("CREDWATCH_LONG_TRIALS", "") == "1"
SEED = int(os.environ.get("CREDWATCH_TRIAL_SEED", "1515"))
TRIALS = 12 if LONG else 2
MATCHES = 24  # distinct exposures in the dump, one alert each
FILLER = 6000  # non-matching lines around each match: the scan takes a moment


def login(i: int) -> str:
    return f"kt{i:04d}.agent@francetravail.fr"


def write_dump(path: Path) -> Path:
    """A ULP dump: MATCHES matching lines of the organisation spread among filler lines."""
    lines = []
    for i in range(MATCHES):
        lines.extend(
            f"https://shop{i}-{j}.example/:buyer{j}@mail.example:pw{j}" for j in range(FILLER)
        )
        lines.append(f"https://intra.francetravail.fr/login:{login(i)}:Pw-{i}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What a run leaves in the database, without ids or times."""

    exposures: list[str]
    sightings: list[tuple[str, str, int]]
    alerts: list[tuple[str, str, str, bool, bool]]


async def facts(dsn: str) -> Facts:
    conn = await asyncpg.connect(dsn)
    try:
        exposures = [r["login"] for r in await conn.fetch("SELECT login FROM exposures")]
        sightings = [
            (r["login"], r["origin"], r["line"])
            for r in await conn.fetch(
                "SELECT e.login, s.origin, s.line FROM sightings s "
                "JOIN exposures e ON e.id = s.exposure_id"
            )
        ]
        alerts = [
            (r["login"], r["channel"], r["event"], r["sent"], r["dead"])
            for r in await conn.fetch(
                "SELECT e.login, a.channel, a.event, a.sent_at IS NOT NULL AS sent,"
                " a.dead_at IS NOT NULL AS dead FROM alerts a"
                " JOIN exposures e ON e.id = a.exposure_id"
            )
        ]
    finally:
        await conn.close()
    return Facts(exposures=sorted(exposures), sightings=sorted(sightings), alerts=sorted(alerts))


async def fetchval(dsn: str, query: str) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


async def leases_expire(dsn: str) -> None:
    """Time passes for the alert the killed process had claimed: its lease runs out."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("UPDATE alerts SET leased_until = now() WHERE leased_until > now()")
    finally:
        await conn.close()


@asynccontextmanager
async def database(server: str, template: str) -> AsyncIterator[str]:
    name = f"cw_k_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        yield with_database(server, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def posts_per_login(slack: SlackServer) -> Counter[str]:
    seen: Counter[str] = Counter()
    for payload in slack.posted:
        text = repr(payload)
        seen.update(login(i) for i in range(MATCHES) if f"kt{i:04d}" in text)
    return seen


async def scan(cfg: Path, dsn: str, slack: SlackServer, home: Path, dump: Path) -> Any:
    env = dict(
        os.environ,
        CREDWATCH_DSN=dsn,
        CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
        CREDWATCH_HOME=str(home),
        CW_TEST_SLACK=slack.webhook_url,
    )
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor.cli", "scan", str(dump), "--config", str(cfg),
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def finished(proc: Any) -> tuple[int, str]:
    _, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return int(proc.returncode), err.decode()


Killer = Callable[[Any], Awaitable[None]]


async def when_sightings(dsn: str, wanted: int, proc: Any, act: Callable[[Any], Any]) -> bool:
    """Run `act(connection)` as soon as `wanted` sightings are stored, while `proc` still
    runs; polled every 2 ms on one connection. False when the process ended first."""
    conn = await asyncpg.connect(dsn)
    try:
        async with asyncio.timeout(60):
            while proc.returncode is None:
                if await conn.fetchval("SELECT count(*) FROM sightings") >= wanted:
                    await act(conn)
                    return True
                await asyncio.sleep(0.002)
    finally:
        await conn.close()
    return False


def kill_after_sightings(dsn: str, wanted: int) -> Killer:
    """Kill the process once `wanted` sightings are stored (mid-scan)."""

    async def kill(proc: Any) -> None:
        async def sigkill(_: Any) -> None:
            proc.kill()

        await when_sightings(dsn, wanted, proc, sigkill)

    return kill


async def cut_connections(conn: Any) -> None:
    """End every other session on this database, as a failover or a network cut would."""
    await conn.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )


def kill_at_post(slack: SlackServer, wanted: int) -> Killer:
    """Kill the process while its `wanted`-th Slack post is in flight: accepted by Slack, its
    answer not yet read."""

    async def kill(proc: Any) -> None:
        def on_post(_: dict[str, Any]) -> None:
            if len(slack.posted) == wanted and proc.returncode is None:
                proc.kill()

        slack.on_post = on_post

    return kill


def choose_killer(rng: random.Random, trial: int, dsn: str, slack: SlackServer) -> Killer:
    if trial % 2 == 0:
        return kill_after_sightings(dsn, rng.randint(1, MATCHES - 1))
    return kill_at_post(slack, rng.randint(1, MATCHES - 1))


def same(now: Facts, clean: Facts, what: str) -> None:
    """`now` holds what `clean` holds; the message names only the differences."""
    for field in ("exposures", "sightings", "alerts"):
        a, b = Counter(getattr(now, field)), Counter(getattr(clean, field))
        assert a == b, f"{what}: {field} extra {a - b}, missing {b - a}"


def assert_once_each(slack: SlackServer, kills: int) -> None:
    counts = posts_per_login(slack)
    assert set(counts) == {login(i) for i in range(MATCHES)}, "an alert was lost"
    repeats = sum(n - 1 for n in counts.values())
    assert repeats <= kills, f"{repeats} repeated post(s) after {kills} kill(s): {counts}"


def kill_config(root: Path, port: int) -> Path:
    """serve's test config with posts 20 ms apart (Slack's 1 s pacing would make trials slow)."""
    cfg = config(root, port=port)
    text = cfg.read_text().replace(
        'webhook_url_env = "CW_TEST_SLACK"',
        'webhook_url_env = "CW_TEST_SLACK"\nmin_interval = 0.02',
    )
    cfg.write_text(text)
    return cfg


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dump(tmp_path_factory.mktemp("kill") / "combo.txt")


_CLEAN: dict[Path, Facts] = {}


async def clean_run(server: str, template: str, cfg: Path, home: Path, dump: Path) -> Facts:
    """What an uninterrupted scan of the dump stores (run once for the module)."""
    if dump not in _CLEAN:
        async with SlackServer() as slack, database(server, template) as dsn:
            code, err = await finished(await scan(cfg, dsn, slack, home, dump))
            assert code == 1, err[-2000:]
            assert_once_each(slack, 0)
            _CLEAN[dump] = await facts(dsn)
    return _CLEAN[dump]


async def test_kill_9_during_cli_scan_and_delivery(
    pg_server: str, template_db: str, tmp_path: Path, dump: Path
) -> None:
    cfg = kill_config(tmp_path, free_port())
    clean = await clean_run(pg_server, template_db, cfg, tmp_path, dump)
    assert len(clean.exposures) == len(clean.alerts) == MATCHES
    rng = random.Random(SEED)
    killed = 0
    for trial in range(TRIALS):
        async with SlackServer() as slack, database(pg_server, template_db) as dsn:
            proc = await scan(cfg, dsn, slack, tmp_path, dump)
            await choose_killer(rng, trial, dsn, slack)(proc)
            code, _ = await finished(proc)
            slack.on_post = None
            killed += code == -9
            await leases_expire(dsn)
            code, err = await finished(await scan(cfg, dsn, slack, tmp_path, dump))
            assert code == 1, err[-2000:]
            same(await facts(dsn), clean, f"trial {trial} (seed {SEED})")
            assert_once_each(slack, 1)
    assert killed == TRIALS  # every trial killed the scan before it ended


async def test_kill_9_during_serve(
    pg_server: str, template_db: str, tmp_path: Path, dump: Path
) -> None:
    port = free_port()
    cfg = kill_config(tmp_path, port)
    clean = await clean_run(pg_server, template_db, cfg, tmp_path, dump)
    rng = random.Random(SEED + 1)
    killed = 0
    for trial in range(TRIALS):
        drop = tmp_path / "drop"
        for f in drop.iterdir():
            f.unlink()
        async with SlackServer() as slack, database(pg_server, template_db) as dsn:
            (drop / dump.name).write_bytes(dump.read_bytes())
            proc = await start(cfg, dsn, slack, tmp_path)
            await choose_killer(rng, trial, dsn, slack)(proc)
            code, _ = await finished(proc)
            slack.on_post = None
            killed += code == -9
            await leases_expire(dsn)
            proc = await start(cfg, dsn, slack, tmp_path)

            async def complete() -> bool:
                done = await fetchval(dsn, "SELECT count(*) FROM sources WHERE status = 'done'")
                unsent = await fetchval(dsn, "SELECT count(*) FROM alerts WHERE sent_at IS NULL")
                return bool(done >= 1 and unsent == 0)

            ok = await wait_for(complete, 60)
            code, err = await stop(proc)
            assert ok and code == 0, err[-3000:]
            now = await facts(dsn)
            # The origin names the dropped file's path, not the clean run's.
            same = [(lo, o.replace(str(drop), str(dump.parent)), n) for lo, o, n in now.sightings]
            assert (now.exposures, sorted(same), now.alerts) == (
                clean.exposures,
                clean.sightings,
                clean.alerts,
            ), f"trial {trial} (seed {SEED})"
            assert_once_each(slack, 1)
    assert killed == TRIALS


async def test_database_connections_cut_mid_scan(
    pg_server: str, template_db: str, tmp_path: Path, dump: Path
) -> None:
    cfg = kill_config(tmp_path, free_port())
    clean = await clean_run(pg_server, template_db, cfg, tmp_path, dump)
    rng = random.Random(SEED + 2)
    for trial in range(TRIALS // 2 or 1):
        async with SlackServer() as slack, database(pg_server, template_db) as dsn:
            proc = await scan(cfg, dsn, slack, tmp_path, dump)
            wanted = rng.randint(1, MATCHES // 2)
            assert await when_sightings(dsn, wanted, proc, cut_connections)
            code, err = await finished(proc)
            errors = [line for line in err.splitlines() if line.startswith("error:")]
            assert code == 2 and len(errors) == 1 and "Traceback" not in err, err[-3000:]
            await leases_expire(dsn)  # an alert claimed when the cut came waits out its lease
            code, err = await finished(await scan(cfg, dsn, slack, tmp_path, dump))
            assert code == 1, err[-2000:]
            same(await facts(dsn), clean, f"trial {trial} (seed {SEED})")
            assert_once_each(slack, 0)
