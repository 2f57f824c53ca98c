"""A dropped file that fails is retried with back-off, then quarantined; the rest carries on.

The daemon runs in-process over a drop folder holding the generated poison corpus, good files,
a file the files feed fails on every time (a reader bug), and a file met while the disk is
full. The feed is the real files feed behind a wrapper that injects those two faults.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from feeds.reader import FileFeed
from monitor.app import open_app
from monitor.daemon import Daemon, DaemonOptions
from monitor.dropfolder import DropRetry
from monitor.feed import FeedTotals, FileRecord, ReadContext
from monitor.pipeline import identity_of
from tests.conftest import TEST_KEY
from tests.gen.poison import CONFIG, DOMAIN, poison_corpus

RETRY = DropRetry(attempts=3, base_delay=0.2, max_delay=0.5, resource_delay=0.2)


class Faulty:
    """The files feed, except that `explodes*` always fails inside the reader and `diskfull*`
    meets a full disk for its first `full_for` reads."""

    name = "files"

    def __init__(self, full_for: int) -> None:
        self.inner = FileFeed()
        self.full_for = full_for
        self.reads: dict[str, int] = {}

    def read(self, path: Path, ctx: ReadContext, totals: FeedTotals) -> Iterator[FileRecord]:
        n = self.reads[path.name] = self.reads.get(path.name, 0) + 1
        if path.name.startswith("explodes"):
            raise RuntimeError("reader bug")
        if path.name.startswith("diskfull") and n <= self.full_for:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.inner.read(path, ctx, totals)


async def until(check: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.1)
    except TimeoutError:
        return False
    return True


@pytest.fixture
def setup(tmp_path: Path, dsn: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CREDWATCH_DSN", dsn)
    monkeypatch.setenv("CREDWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CREDWATCH_HMAC_KEY", TEST_KEY.decode())
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text(CONFIG + "\n[serve]\nsettle_seconds = 0.1\noutbox_interval_seconds = 0.1\n")
    return cfg


async def test_poison_and_failing_files_cost_only_themselves(
    setup: Path, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    corpus = poison_corpus(drop)
    (drop / "explodes.txt").write_text(f"https://intra.{DOMAIN}/:lost@{DOMAIN}:pw\n")
    (drop / "diskfull.txt").write_text(f"https://intra.{DOMAIN}/:later@{DOMAIN}:pw\n")
    files = sorted(p for p in drop.iterdir())
    feed = Faulty(full_for=RETRY.attempts + 1)  # counted, it would have been quarantined
    async with open_app(setup) as app:
        app.scanner.feed = feed
        daemon = Daemon(
            app=app,
            options=DaemonOptions(watch_dir=drop, schedule=False, serve_metrics=False, retry=RETRY),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(daemon.run(stop))

        async def settled() -> bool:
            done = await pool.fetchval("SELECT count(*) FROM sources WHERE status = 'done'")
            return bool(done == len(files) - 1 and await app.store.quarantine_count() == 1)

        try:
            assert await until(settled, 30), await pool.fetch("SELECT * FROM drop_files")

            async def delivered() -> bool:
                return not (await app.store.backlog()).outbox

            assert await until(delivered, 10)
            assert not task.done()  # alive
            quarantined = await app.store.quarantined()
            backlog = await app.store.backlog()
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
    assert [(q.location, q.attempts) for q in quarantined] == [(str(drop / "explodes.txt"), 3)]
    assert quarantined[0].reason == "RuntimeError"  # its class, never its message
    assert backlog.quarantined == 1
    assert feed.reads["explodes.txt"] == RETRY.attempts  # then never read again
    assert feed.reads["diskfull.txt"] == RETRY.attempts + 2  # a full disk never counts
    logins = {r["login"] for r in await pool.fetch("SELECT login FROM exposures")}
    assert corpus.good | {f"later@{DOMAIN}"} <= logins
    assert f"lost@{DOMAIN}" not in logins
    # Every exposure's alert was delivered (the console channel), none pending or dead.
    unsent = await pool.fetchval("SELECT count(*) FROM alerts WHERE sent_at IS NULL")
    assert unsent == 0
    assert await pool.fetchval("SELECT count(*) FROM alerts") == len(logins)
    # What is left of the attempts: only the quarantined file.
    assert await pool.fetchval("SELECT count(*) FROM drop_files") == 1


async def test_a_file_its_readers_die_on_is_quarantined(setup: Path, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    crash = drop / "crash.txt"
    crash.write_text(f"https://intra.{DOMAIN}/:crash@{DOMAIN}:pw\n")
    async with open_app(setup) as app:
        identity = identity_of(crash)
        for n in range(1, RETRY.attempts + 1):  # each attempt begun by a reader that then died
            assert await app.store.drop_begin(identity, str(crash)) == n
        daemon = Daemon(
            app=app,
            options=DaemonOptions(watch_dir=drop, schedule=False, serve_metrics=False, retry=RETRY),
        )
        assert not await daemon.ingest_file(crash)
        assert not await daemon.ingest_file(crash)  # quarantined: not even counted again
        [q] = await app.store.quarantined()
        assert q.reason == "reader stopped while reading it"
        assert q.attempts == RETRY.attempts + 1
        assert not await app.store.source_done(identity)


async def test_readyz_reports_quarantined_files_and_stays_ready(pool: asyncpg.Pool) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from monitor import metrics as metrics_mod
    from monitor.store.store import Store

    store = Store(pool)
    client = TestClient(TestServer(metrics_mod.app(metrics_mod.Metrics(), store)))
    await client.start_server()
    try:
        ready = await (await client.get("/readyz")).json()
        assert ready == {"status": "ready", "quarantined_files": 0}
        assert await store.drop_begin("file:/drop/x.txt:1:1", "/drop/x.txt") == 1
        await store.drop_quarantine("file:/drop/x.txt:1:1", "ValueError")
        reply = await client.get("/readyz")
        assert reply.status == 200
        assert await reply.json() == {"status": "ready", "quarantined_files": 1}
    finally:
        await client.close()


async def test_a_lasting_fault_warns_once_then_stays_quiet_until_it_changes(
    setup: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A database that stays down is not an ERROR (nor a WARNING) every second."""
    import logging

    async with open_app(setup) as app:
        daemon = Daemon(app=app, options=DaemonOptions(watch_dir=None, serve_metrics=False))
        down = ConnectionRefusedError(111, "Connection refused")
        with caplog.at_level(logging.DEBUG, logger="monitor.daemon"):
            for exc in (down, down, down, OSError(28, "No space left on device"), down):
                daemon._transient(exc)
    lines = [r for r in caplog.records if r.getMessage() == "work loop error, retrying"]
    assert [r.levelname for r in lines] == ["WARNING", "DEBUG", "DEBUG", "WARNING", "WARNING"]
    assert all(getattr(r, "error", "") and getattr(r, "kind", "") == "os" for r in lines)
    assert "Connection refused" in lines[0].error  # type: ignore[attr-defined]
