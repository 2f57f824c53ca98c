"""/metrics, /healthz and /readyz of `credwatch serve`: Prometheus text that prometheus_client and
promtool accept, answered with the database down; readiness that says why; liveness that a long
scan does not break; log lines of the daemon's main events with their context (JSON mode)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from monitor import metrics as metrics_mod
from monitor.store.store import Store
from tests.integration.test_serve import config, free_port, http_get, start, stop, wait_for
from tests.servers.slack import SlackServer


async def http_status(url: str) -> tuple[int, str]:
    try:
        return 200, await http_get(url)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest_asyncio.fixture
async def served(pool: asyncpg.Pool) -> AsyncIterator[tuple[str, metrics_mod.Metrics]]:
    metrics = metrics_mod.Metrics()
    runner = web.AppRunner(metrics_mod.app(metrics, Store(pool)), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", metrics
    finally:
        await runner.cleanup()


def promtool_check(text: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool missing (scripts/system-deps.sh --test installs Debian's prometheus)")
    res = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert res.returncode == 0, res.stdout + res.stderr


async def test_metrics_parse_and_pass_promtool(served: tuple[str, metrics_mod.Metrics]) -> None:
    url, metrics = served
    metrics.lines.inc(10)
    metrics.errors.labels(kind="database").inc()
    text = await http_get(f"{url}/metrics")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in (
        "credwatch_lines_ingested", "credwatch_errors", "credwatch_build_info",
        "credwatch_last_scan_success_timestamp_seconds",
        "credwatch_last_nightly_success_timestamp_seconds",
        "credwatch_outbox_oldest_pending_age_seconds", "credwatch_outbox_pending",
        "credwatch_containment_steps", "credwatch_database_up", "process_resident_memory_bytes",
        "credwatch_leak_seen_after_infection_seconds", "credwatch_leak_alerted_after_seen_seconds",
        "credwatch_leak_contained_after_alerted_seconds",
    ):  # fmt: skip
        assert name in families, name
    for family in families.values():
        assert family.documentation, family.name
        kinds = ("counter", "gauge", "info", "histogram", "untyped")
        assert family.type in kinds or family.name.startswith("python_")
    assert "# TYPE credwatch_lines_ingested_total counter" in text
    assert "credwatch_lines_ingested_total 10.0" in text
    assert 'credwatch_build_info{version="' in text
    assert "credwatch_database_up 1.0" in text
    promtool_check(text)


async def test_database_down_metrics_answer_readyz_says_why(
    pool: asyncpg.Pool, dsn: str, served: tuple[str, metrics_mod.Metrics]
) -> None:
    url, metrics = served
    ready = json.dumps({"status": "ready", "quarantined_files": 0})
    assert await http_status(f"{url}/readyz") == (200, ready)
    metrics.errors.labels(kind="database").inc()
    name = urllib.parse.urlsplit(dsn).path.lstrip("/")
    admin = await asyncpg.connect(dsn.replace(f"/{name}", "/postgres"))
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    status, text = await http_status(f"{url}/metrics")
    assert status == 200
    assert "credwatch_database_up 0.0" in text
    assert 'credwatch_errors_total{kind="database"} 1.0' in text  # not lost with the database
    assert "credwatch_exposures " not in text  # no stale gauge pretends to be current
    promtool_check(text)
    status, body = await http_status(f"{url}/readyz")
    assert status == 503
    assert json.loads(body)["reason"].startswith("database unreachable")
    status, body = await http_status(f"{url}/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"


async def test_readyz_names_a_missing_migration(
    pool: asyncpg.Pool, served: tuple[str, metrics_mod.Metrics]
) -> None:
    url, _ = served
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM schema_migrations WHERE version = 8")
    status, body = await http_status(f"{url}/readyz")
    assert status == 503
    assert json.loads(body)["reason"] == (
        "migrations not applied: 008_scrub_urls.sql (run `credwatch db migrate`)"
    )


async def test_healthz_stays_ok_during_a_long_scan_and_logs_carry_context(
    dsn: str, tmp_path: Path
) -> None:
    port = free_port()
    cfg = config(tmp_path, port=port)
    big = tmp_path / "big.txt"
    with big.open("w") as fh:
        for i in range(600_000):  # past the prefilter (a watched name), matched by nothing
            fh.write(f"https://francetravail.fr.site{i % 997}.example/:user{i}@gmail.com:pw{i}\n")
        fh.write("https://portail-partenaire.francetravail.fr/kairos:p1@gmail.com:Leaked-9\n")
    async with SlackServer() as slack:
        proc = await start(cfg, dsn, slack, tmp_path, CREDWATCH_LOG_FORMAT="json")
        try:

            async def up() -> bool:
                try:
                    return (await http_status(f"http://127.0.0.1:{port}/healthz"))[0] == 200
                except OSError:
                    return False

            assert await wait_for(up, 30)
            big.rename(tmp_path / "drop" / "big.txt")
            statuses: list[int] = []
            t0 = time.monotonic()

            async def scanned() -> bool:
                statuses.append((await http_status(f"http://127.0.0.1:{port}/healthz"))[0])
                text = await http_get(f"http://127.0.0.1:{port}/metrics")
                return 'credwatch_sources_total{kind="watch"} 1.0' in text

            assert await wait_for(scanned, 120)
            took = time.monotonic() - t0
        finally:
            code, err = await stop(proc)
    assert code == 0, err
    assert len(statuses) >= 10, f"the scan took {took:.1f}s: too short to show anything"
    assert set(statuses) == {200}, statuses
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    scanned_line = next(e for e in events if e["event"] == "dropped file scanned")
    assert scanned_line["path"] == str(tmp_path / "drop" / "big.txt")
    assert scanned_line["lines"] == 600_001 and scanned_line["matches"] == 1
    listening = next(e for e in events if e["event"] == "metrics listening")
    assert listening["port"] == port and listening["level"] == "info"
    assert "Leaked-9" not in err
