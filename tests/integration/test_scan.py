"""Scan generated fixtures into a real PostgreSQL: exposures, sightings, dedupe, no secret stored."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from feeds.reader import FileFeed
from monitor.config import load_config
from monitor.demo import Planted, write_demo
from monitor.pipeline import Scanner, Sighting
from monitor.store.embedded import find_bindir
from monitor.store.store import Store
from monitor.watchlist import build_watchlist
from tests.conftest import TEST_KEY


async def scan(pool: asyncpg.Pool, demo: Path, workdir: Path) -> list[Sighting]:
    config = load_config(demo / "credwatch.toml")
    scanner = Scanner(
        Store(pool),
        config,
        build_watchlist(config),
        feed=FileFeed(),
        key=TEST_KEY,
        channels=["console"],
        workdir=workdir,
    )
    found: list[Sighting] = []
    await scanner.scan([demo / "dumps"], on_sighting=found.append)
    return found


def expected(planted: list[Planted]) -> set[tuple[str, str]]:
    out = set()
    for p in planted:
        if p.where == "cookie":
            out.add(("cookie", "portail-partenaire.francetravail.fr"))
        else:
            out.add(("password", p.login))
    return out


async def test_scan_finds_exactly_the_planted_credentials(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    planted = write_demo(tmp_path / "demo")
    found = await scan(pool, tmp_path / "demo", workdir)
    got = {
        (s.match.credential.kind.value, s.match.credential.login or s.match.credential.host)
        for s in found
    }
    assert got == expected(planted)
    # The Kairos credential is in the stealer log and again in the ULP base: one exposure, two sightings.
    kairos = [s for s in found if s.match.credential.login == "of38.formation@gmail.com"]
    assert len(kairos) == 2 and len({s.exposure_id for s in kairos}) == 1
    origins = sorted(s.match.credential.origin for s in kairos)
    assert origins[0].endswith(
        "logs_2025-06.zip!FR[6F1C2A9B7D3E4F50A1B2C3D4E5F60718] "
        "[2025-06-02T09_14_51.1234567+02_00]/Passwords.txt"
    )
    assert origins[1].endswith("ulp_base.txt")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM exposures") == len(planted)
        assert await conn.fetchval("SELECT count(*) FROM sightings") == len(planted) + 1
        row = await conn.fetchrow(
            "SELECT reasons, severity, partner, infected_at, portal FROM exposures WHERE login = $1",
            "of38.formation@gmail.com",
        )
        assert row["reasons"] == ["host", "login", "portal"]
        assert row["severity"] == 4
        assert row["partner"] == "Organisme de formation, Isère"
        assert row["portal"] == "https://portail-partenaire.francetravail.fr/kairos"
        assert row["infected_at"].isoformat().startswith("2025-06-02")
        new_alerts = await conn.fetchval("SELECT count(*) FROM alerts WHERE event = 'new'")
        assert new_alerts == len(planted)


async def test_rescan_adds_no_exposure_sighting_or_alert(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    write_demo(tmp_path / "demo")
    first = await scan(pool, tmp_path / "demo", workdir)
    async with pool.acquire() as conn:
        before = [
            await conn.fetchval(f"SELECT count(*) FROM {t}")
            for t in ("exposures", "sightings", "alerts")
        ]
    second = await scan(pool, tmp_path / "demo", workdir)
    async with pool.acquire() as conn:
        after = [
            await conn.fetchval(f"SELECT count(*) FROM {t}")
            for t in ("exposures", "sightings", "alerts")
        ]
        runs = await conn.fetchval("SELECT count(*) FROM sources WHERE status = 'done'")
    assert before == after
    assert runs == 2
    assert len(second) == len(first)
    assert not any(s.new_exposure or s.new_sighting for s in second)


async def test_no_table_holds_a_leaked_secret(
    pool: asyncpg.Pool, dsn: str, tmp_path: Path, workdir: Path
) -> None:
    planted = write_demo(tmp_path / "demo")
    await scan(pool, tmp_path / "demo", workdir)
    secrets_ = [p.password for p in planted]
    async with pool.acquire() as conn:
        tables = [
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ]
        assert {"exposures", "sightings", "sources", "actions", "alerts"} <= set(tables)
        text = ""
        for t in tables:
            rows = await conn.fetch(f'SELECT row_to_json(x)::text AS j FROM "{t}" x')
            text += "\n".join(r["j"] for r in rows)
    assert "of38.formation@gmail.com" in text  # the dump has content
    for s in secrets_:
        assert s not in text
    # And the real thing: pg_dump of the whole database.
    pg_dump = find_bindir() / "pg_dump"
    proc = await asyncio.create_subprocess_exec(
        str(pg_dump), "--data-only", dsn, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    dump = out.decode()
    assert "of38.formation@gmail.com" in dump
    for s in secrets_:
        assert s not in dump


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


async def test_cli_json_contract_and_exit_codes(dsn: str, tmp_path: Path) -> None:
    planted = write_demo(tmp_path / "demo")
    cfg = str(tmp_path / "demo" / "credwatch.toml")
    res = run_cli(
        ["scan", "--config", cfg, "--json", str(tmp_path / "demo" / "dumps")], dsn, tmp_path
    )
    assert res.returncode == 1, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == len(planted) + 1
    keys = {
        "origin", "line", "kind", "login", "url", "host", "cookie_name", "exposure_id",
        "infected_at", "reasons", "severity", "secret_hint",
    }  # fmt: skip
    for row in rows:
        assert keys <= set(row)
        assert row["origin"].startswith(str(tmp_path / "demo" / "dumps"))
    for p in planted:
        assert p.password not in res.stdout and p.password not in res.stderr
    cookie = next(r for r in rows if r["kind"] == "cookie")
    assert cookie["cookie_name"] == "JSESSIONID" and cookie["reasons"] == ["host", "portal"]
    assert cookie["severity"] == "critical" and cookie["infected_at"].startswith("2025-06-02")
    again = run_cli(
        ["scan", "--config", cfg, "--json", str(tmp_path / "demo" / "dumps")], dsn, tmp_path
    )
    assert again.returncode == 1
    assert not any(json.loads(line)["new"] for line in again.stdout.splitlines())
    only_log = run_cli(
        ["scan", "--config", cfg, "--json", str(tmp_path / "demo" / "dumps" / "logs_2025-06.zip")],
        dsn,
        tmp_path,
    )
    assert only_log.returncode == 1 and len(only_log.stdout.splitlines()) == 2
    clean = tmp_path / "clean.txt"
    clean.write_text("https://example.com/:a@b.c:pw\n")
    assert run_cli(["scan", "--config", cfg, str(clean)], dsn, tmp_path).returncode == 0
    bad = run_cli(["scan", "--config", str(tmp_path / "nope.toml"), str(clean)], dsn, tmp_path)
    assert bad.returncode == 2 and "nope.toml" in bad.stderr
    look = run_cli(["lookup", "--config", cfg, "--json", "francetravail.fr"], dsn, tmp_path)
    assert look.returncode == 1, look.stderr
    store = json.loads(look.stdout)["store"]
    portals = {p["url"] for p in store["portals"]}
    assert "https://portail-partenaire.francetravail.fr/kairos/login" in portals
    assert "of38.formation@gmail.com" in {a["login"] for a in store["top_accounts"]}
    assert store["infections"]["latest"].startswith("2025-06-02")
    partner = run_cli(
        ["lookup", "--config", cfg, "--json", "formation-isere.example"], dsn, tmp_path
    )
    accounts = json.loads(partner.stdout)["store"]["top_accounts"]
    assert [a["login"] for a in accounts] == ["m.martin@formation-isere.example"]


async def test_cli_status_export_and_actions(dsn: str, tmp_path: Path) -> None:
    planted = write_demo(tmp_path / "demo")
    cfg = str(tmp_path / "demo" / "credwatch.toml")
    assert (
        run_cli(
            ["scan", "--config", cfg, str(tmp_path / "demo" / "dumps")], dsn, tmp_path
        ).returncode
        == 1
    )
    status = run_cli(["status", "--config", cfg, "--json"], dsn, tmp_path)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["backlog"]["exposures"] == len(planted)
    assert data["backlog"]["outbox"] == {}  # the console channel delivered everything
    assert data["recent_sources"][0]["status"] == "done"
    jsonl = run_cli(["export", "--config", cfg, "--since", "2020-01-01"], dsn, tmp_path)
    items = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert len(items) == len(planted)
    csv_out = run_cli(
        ["export", "--config", cfg, "--since", "2020-01-01", "--format", "csv"], dsn, tmp_path
    )
    assert csv_out.stdout.splitlines()[0].startswith("@timestamp,message,ecs.version,event.kind")
    assert "user.name" in csv_out.stdout.splitlines()[0].split(",")
    assert len(csv_out.stdout.splitlines()) == len(planted) + 1
    future = run_cli(["export", "--config", cfg, "--since", "2999-01-01"], dsn, tmp_path)
    assert future.stdout == ""
    for p in planted:
        assert p.password not in jsonl.stdout + csv_out.stdout + status.stdout
    bad = run_cli(["export", "--config", cfg, "--since", "yesterday"], dsn, tmp_path)
    assert bad.returncode == 2 and "--since" in bad.stderr
    actions = run_cli(["actions", "--config", cfg, "--json"], dsn, tmp_path)
    assert actions.returncode == 0 and actions.stdout == ""  # no identity provider configured
