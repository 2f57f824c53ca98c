"""A large scan makes a handful of Slack messages: each critical exposure alone, sent while the
scan runs, the rest grouped in one message; the scan never waits for Slack's rate limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.app import open_app
from tests.conftest import TEST_KEY
from tests.servers.slack import CHANNEL, TOKEN, SlackServer, block_problems

PORTAL = "portail-partenaire.example.org"
CRITICAL = 6
OTHERS = 194
NOISE = 30_000
INTERVAL = 1.5  # seconds between two Slack posts (the channel's rate limit)


def write_config(tmp_path: Path, api_url: str) -> Path:
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text(
        f"""
[organisation]
name = "Example"
domains = ["example.org"]
portals = ["https://{PORTAL}/kairos"]

[[partners]]
name = "Partner"
email_domains = ["partner.example"]

[scan]
workdir = "{tmp_path / "work"}"

[notifiers.slack]
token_env = "SLACK_TOKEN"
channel = "{CHANNEL}"
api_url = "{api_url}"
min_interval = {INTERVAL}
""",
        encoding="utf-8",
    )
    return cfg


def write_dump(path: Path) -> None:
    """Critical first (portal + partner e-mail), then host-only hits (medium), then noise."""
    lines = [
        f"https://{PORTAL}/kairos/login:agent{i}@partner.example:Kx9!secret{i:03d}"
        for i in range(CRITICAL)
    ]
    lines += [
        f"https://app{i}.example.org/login:user{i}@gmail.com:Pw{i:04d}-leaked"
        for i in range(OTHERS)
    ]
    # Enough noise after the hits that the scan outlasts a delivery round: lines the screen lets
    # through (they name a watched domain) but that match nothing.
    lines += [f"https://shop{i}.test/login:someone{i}@example.org.test:x{i}" for i in range(NOISE)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def test_200_hits_make_a_handful_of_messages_and_the_scan_does_not_wait(
    dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDWATCH_DSN", dsn)
    monkeypatch.setenv("CREDWATCH_HOME", str(tmp_path / "home"))
    dump = tmp_path / "combo.txt"
    write_dump(dump)
    env = {"CREDWATCH_HMAC_KEY": TEST_KEY.decode(), "SLACK_TOKEN": TOKEN}
    async with SlackServer() as slack:
        async with open_app(write_config(tmp_path, slack.api_url), env=env) as app:
            real_read = app.scanner.feed.read

            def held_read(path: Path, ctx: Any, totals: Any) -> Iterator[Any]:
                """The reader, held (up to 10 s) once past the critical lines until Slack got a
                post: proof that delivery runs while the scan reads, whatever the machine's
                speed."""
                for i, record in enumerate(real_read(path, ctx, totals)):
                    yield record
                    if i == CRITICAL + 10:
                        deadline = time.monotonic() + 10
                        while not slack.calls and time.monotonic() < deadline:
                            time.sleep(0.02)

            monkeypatch.setattr(app.scanner.feed, "read", held_read)
            started = time.monotonic()
            async with app.delivering():
                results = await app.scanner.scan([dump])
                scan_wall = time.monotonic() - started
                during = len(slack.calls)
            assert sum(r.totals.matches for r in results) == CRITICAL + OTHERS
            await app.respond_and_alert()
            await app.respond_and_alert()  # nothing is sent twice
        posted = slack.posted
    headers = [p["blocks"][0]["text"]["text"] for p in posted]
    singles = [h for h in headers if h.startswith("Leaked credential found (critical)")]
    grouped = [h for h in headers if "alerts" in h]
    assert len(singles) == CRITICAL
    assert grouped == [f"{OTHERS} credential exposure alerts (highest: medium)"]
    assert len(posted) == CRITICAL + 1
    assert all(not block_problems(p) for p in posted)
    # Slack's rate limit alone needs (messages - 1) x INTERVAL; the scan took less than that.
    assert scan_wall < (CRITICAL - 1) * INTERVAL
    assert during >= 1  # critical alerts went out while the scan was still running
    gaps = [b.at - a.at for a, b in zip(slack.calls, slack.calls[1:], strict=False)]
    assert min(gaps) >= INTERVAL * 0.95  # the channel's rate limit was kept
    text = str(posted)
    assert "Kx9!secret0" not in text and "-leaked" not in text  # no password, whole or cut


async def test_serve_sends_critical_alerts_while_a_dropped_file_is_still_scanning(
    dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.daemon import Daemon, DaemonOptions

    monkeypatch.setenv("CREDWATCH_DSN", dsn)
    monkeypatch.setenv("CREDWATCH_HOME", str(tmp_path / "home"))
    drop = tmp_path / "drop"
    drop.mkdir()
    dump = drop / "combo.txt"
    write_dump(dump)
    env = {"CREDWATCH_HMAC_KEY": TEST_KEY.decode(), "SLACK_TOKEN": TOKEN}
    async with (
        SlackServer() as slack,
        open_app(write_config(tmp_path, slack.api_url), env=env) as app,
    ):
        real_scan = app.scanner.scan_path
        seen_during: list[int] = []

        async def slow_scan(*args: object, **kwargs: object) -> object:
            result = await real_scan(*args, **kwargs)  # type: ignore[arg-type]
            # still "scanning": a critical alert must reach Slack before this returns
            for _ in range(50):
                if slack.calls:
                    break
                await asyncio.sleep(0.1)
            seen_during.append(len(slack.calls))
            return result

        monkeypatch.setattr(app.scanner, "scan_path", slow_scan)
        daemon = Daemon(
            app=app, options=DaemonOptions(watch_dir=drop, schedule=False, serve_metrics=False)
        )
        assert await daemon.ingest_file(dump)
    assert seen_during and seen_during[0] >= 1
