"""Hostile values from a dump (formula cells, OSC 8 links, ESC sequences, terminal markup) reach
the scan table, the CSV export and the alerts inert."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_KEY
from tests.integration.test_no_secret_urls import CONFIG
from tests.servers.slack import SlackServer

PORTAL = "https://portail-partenaire.francetravail.fr/kairos"
LOGINS = [
    "=1+2@francetravail.fr",
    "+cmd@francetravail.fr",
    "@sum@francetravail.fr",
    "[/bogus]x@francetravail.fr",
    "[link=https//evil.example]y[/link]@francetravail.fr",
    "\x1b]8;;evil.example\x07z\x1b]8;;\x07@francetravail.fr",
    "\x1b[2Jw@francetravail.fr",
]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


async def test_hostile_dump_values_are_inert(dsn: str, tmp_path: Path) -> None:
    base = tmp_path / "ulp.txt"
    base.write_text("".join(f"{PORTAL}:{login}:Pw-{i}-abcdef\n" for i, login in enumerate(LOGINS)))
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text(CONFIG)
    async with SlackServer() as slack:
        env = dict(
            os.environ,
            CREDWATCH_DSN=dsn,
            CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
            CREDWATCH_HOME=str(tmp_path),
            CW_TEST_SLACK=slack.webhook_url,
        )
        scan = await asyncio.to_thread(run, "scan", "--config", str(cfg), str(base), env=env)
        alerts = b"".join(seen.body for seen in slack.calls).decode()
    assert scan.returncode == 1, scan.stderr
    assert "\x1b" not in scan.stdout + scan.stderr and "\x07" not in scan.stdout
    assert "[/bogus]x@francetravail.fr" in scan.stdout  # shown as text, not taken as markup
    assert "[link=https//evil.example]y[/link]" in scan.stdout
    assert len(scan.stdout.splitlines()) >= len(LOGINS)  # piped: one row per line
    assert len(slack.calls) == len(LOGINS) and "\x1b" not in alerts and "\\u001b" not in alerts
    export = run(
        "export", "--config", str(cfg), "--since", "2020-01-01", "--format", "csv", env=env
    )
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    assert len(rows) == len(LOGINS)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
            assert "\x1b" not in value and "\x07" not in value
    logins = {row["user.name"] for row in rows}
    assert "'=1+2@francetravail.fr" in logins and "'@sum@francetravail.fr" in logins
