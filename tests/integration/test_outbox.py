"""The alert outbox: a channel that is down keeps its alerts; they go out once each, later."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from feeds.reader import FileFeed
from monitor.config import load_config
from monitor.demo import write_demo
from monitor.outbox import deliver
from monitor.pipeline import Scanner
from monitor.routing import Route
from monitor.store.store import Store
from monitor.types import Severity
from monitor.watchlist import build_watchlist
from notifiers.slack import SlackNotifier
from tests.conftest import TEST_KEY
from tests.servers.slack import Scripted, SlackServer


async def test_down_channel_keeps_alerts_and_delivers_each_once_in_order(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    planted = write_demo(tmp_path / "demo")
    config = load_config(tmp_path / "demo" / "credwatch.toml")
    scanner = Scanner(
        Store(pool),
        config,
        build_watchlist(config),
        feed=FileFeed(),
        key=TEST_KEY,
        channels=["slack"],
        workdir=workdir,
    )
    await scanner.scan([tmp_path / "demo" / "dumps"])
    alone = Route(channel="slack", group_below=Severity.LOW)  # every alert in its own message
    async with SlackServer() as server:
        slack = SlackNotifier.from_config(
            {"webhook_url_env": "SLACK", "attempts": 1}, {"SLACK": server.webhook_url}
        )
        try:
            # Down: the request fails (the notifier tries once per delivery here).
            server.script(Scripted(status=503, body="service_unavailable"))
            report = await deliver(Store(pool), slack, route=alone)
            assert report.sent == 0 and report.failed == 1
            async with pool.acquire() as conn:
                pending = await conn.fetch(
                    "SELECT id, attempts, last_error FROM alerts WHERE sent_at IS NULL ORDER BY id"
                )
                # One "new" per planted credential; the Kairos one learnt its infection date
                # while its "new" alert was still waiting, so no separate "updated" alert.
                assert len(pending) == len(planted)
                assert pending[0]["attempts"] == 1 and pending[0]["last_error"]
                # The failed alert backs off alone: the channel's other alerts go out.
                first = pending[0]["id"]
                await conn.execute(
                    "UPDATE alerts SET next_attempt = now() + interval '1 hour' WHERE id = $1",
                    first,
                )
                report = await deliver(Store(pool), slack, route=alone)
                assert report.sent == len(planted) - 1 and report.failed == 0
                left = await conn.fetch("SELECT id FROM alerts WHERE sent_at IS NULL")
                assert [r["id"] for r in left] == [first]
                # The channel is back up (the scripted failure is used).
                await conn.execute("UPDATE alerts SET next_attempt = now()")
            report = await deliver(Store(pool), slack, route=alone)
            assert report.sent == 1 and report.failed == 0
            assert (await deliver(Store(pool), slack, route=alone)).sent == 0  # exactly once
            # Failed attempts plus one successful post per alert.
            assert len(server.posted) == len(planted)
            async with pool.acquire() as conn:
                assert await conn.fetchval("SELECT count(*) FROM alerts WHERE sent_at IS NULL") == 0
            for p in planted:
                assert all(p.password not in str(m) for m in server.posted)
        finally:
            await slack.aclose()


async def test_material_change_after_delivery_alerts_again_once(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    import zipfile

    planted = write_demo(tmp_path / "demo")
    config = load_config(tmp_path / "demo" / "credwatch.toml")
    scanner = Scanner(
        Store(pool),
        config,
        build_watchlist(config),
        feed=FileFeed(),
        key=TEST_KEY,
        channels=["slack"],
        workdir=workdir,
    )
    await scanner.scan([tmp_path / "demo" / "dumps"])
    async with pool.acquire() as conn:
        await conn.execute("UPDATE alerts SET sent_at = now()")  # everything was announced
    kairos = planted[0]
    newer = tmp_path / "resold.zip"
    with zipfile.ZipFile(newer, "w") as zf:
        zf.writestr(
            "PC2/Passwords.txt",
            f"URL: {kairos.url}\nUsername: {kairos.login}\nPassword: {kairos.password}\n",
        )
        zf.writestr("PC2/UserInformation.txt", "Log date: 9/1/2025 10:00:00 AM\n")
    for _ in range(2):  # the second scan of the same file changes nothing
        await scanner.scan([newer])
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT event, event_key FROM alerts WHERE sent_at IS NULL")
    assert [(r["event"], r["event_key"]) for r in rows] == [
        ("updated", "newer infection date 2025-09-01")
    ]
