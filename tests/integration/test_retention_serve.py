"""`credwatch serve`'s daily purge: scheduled at [retention] purge_at in the scheduler's time
zone only when [retention] days is set, run once per cluster, logged and counted."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from monitor.app import open_app
from monitor.config import load_config
from monitor.daemon import Daemon, DaemonOptions
from monitor.errors import ConfigError
from monitor.scheduler import PURGE_JOB
from tests.conftest import TEST_KEY
from tests.integration.test_retention import CASES, seed

BASE = '[organisation]\nname = "Org"\ndomains = ["partner.example"]\n'
ZONE = "Europe/Paris"


@pytest.fixture
def env(tmp_path: Path, dsn: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CREDWATCH_DSN", dsn)
    monkeypatch.setenv("CREDWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CREDWATCH_HMAC_KEY", TEST_KEY.decode())
    return tmp_path


def write(root: Path, extra: str) -> Path:
    cfg = root / "credwatch.toml"
    cfg.write_text(BASE + f'\n[serve]\ntimezone = "{ZONE}"\n' + extra)
    return cfg


@pytest.mark.parametrize(
    ("retention", "fires_at"),
    [
        ("", None),  # not configured: no purge
        ('[retention]\npurge_at = "04:00"\n', None),  # a time without a period: still off
        ("[retention]\ndays = 30\n", (3, 30)),  # the default time
        ('[retention]\ndays = 365\npurge_at = "23:05"\n', (23, 5)),
    ],
)
async def test_the_purge_is_scheduled_daily_in_the_scheduler_time_zone(
    env: Path, retention: str, fires_at: tuple[int, int] | None
) -> None:
    async with open_app(write(env, retention), with_plugins=False) as app:
        daemon = Daemon(app=app, options=DaemonOptions(watch_dir=None, serve_metrics=False))
        sched = daemon.scheduler()
        job = sched.get_job(PURGE_JOB)
        assert sched.get_job("nightly-scan") is not None
        if fires_at is None:
            assert job is None
            return
        assert job is not None
        now = datetime(2026, 3, 28, 1, 0, tzinfo=ZoneInfo(ZONE))  # the day before DST starts
        first = job.trigger.get_next_fire_time(None, now)
        second = job.trigger.get_next_fire_time(first, first)
        assert first is not None and second is not None
        assert (first.hour, first.minute, first.date().day) == (*fires_at, 28)
        assert (second.hour, second.minute, second.date().day) == (*fires_at, 29)
        assert first.utcoffset() != second.utcoffset()  # local time kept across the DST change


@pytest.mark.parametrize(
    "retention",
    ["days = 0", "days = -1", 'days = "365"', 'purge_at = "25:00"', 'purge_at = "3h30"', "x = 1"],
)
def test_bad_retention_settings_are_refused(tmp_path: Path, retention: str) -> None:
    with pytest.raises(ConfigError, match=r"\[retention\]"):
        load_config(write(tmp_path, f"[retention]\n{retention}\n"))


async def test_the_scheduled_purge_runs_once_per_cluster_logged_and_counted(
    env: Path, pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
    cfg = write(env, "[retention]\ndays = 30\n")
    async with open_app(cfg, with_plugins=False) as one, open_app(cfg, with_plugins=False) as two:
        daemons = [
            Daemon(app=a, options=DaemonOptions(watch_dir=None, serve_metrics=False))
            for a in (one, two)
        ]
        jobs = [d.scheduler().get_job(PURGE_JOB) for d in daemons]
        with caplog.at_level(logging.INFO, logger="monitor.daemon"):
            for job in jobs:  # both daemons fire at 03:30: one purges, the other stands down
                assert job is not None
                await job.func()
    runs = [d.metrics.registry.get_sample_value("credwatch_purge_runs_total") for d in daemons]
    assert sorted(runs) == [0.0, 1.0]
    ran = daemons[runs.index(1.0)].metrics.registry
    purged = sum(c.purged for c in CASES)
    assert ran.get_sample_value("credwatch_purged_rows_total", {"kind": "exposures"}) == purged
    assert ran.get_sample_value("credwatch_purged_rows_total", {"kind": "problems"}) == 1
    [record] = [r for r in caplog.records if r.getMessage() == "retention purge done"]
    assert record.deleted_exposures == purged  # type: ignore[attr-defined]
    assert record.kept_open == 1  # type: ignore[attr-defined]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM exposures") == len(CASES) - purged


async def test_a_failed_purge_is_logged_counted_and_leaves_the_loop_alive(
    env: Path, pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
        await conn.execute("ALTER TABLE source_problems RENAME TO source_problems_moved")
    async with open_app(write(env, "[retention]\ndays = 30\n"), with_plugins=False) as app:
        daemon = Daemon(app=app, options=DaemonOptions(watch_dir=None, serve_metrics=False))
        with caplog.at_level(logging.INFO, logger="monitor.daemon"):
            await daemon.purge()  # raises nothing: the scheduler tries again tomorrow
    registry = daemon.metrics.registry
    assert registry.get_sample_value("credwatch_errors_total", {"kind": "purge"}) == 1
    assert registry.get_sample_value("credwatch_purge_runs_total") == 0
    [record] = [r for r in caplog.records if r.getMessage() == "retention purge failed"]
    assert "source_problems" in record.error  # type: ignore[attr-defined]
