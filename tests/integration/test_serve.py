"""`credwatch serve` as a real process: drop folder → Slack + audit row, metrics, SIGTERM, nightly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import TEST_KEY
from tests.servers import slapd
from tests.servers.slack import SlackServer

PORTAL = "https://portail-partenaire.francetravail.fr/kairos"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(root: Path, *, port: int, extra: str = "") -> Path:
    (root / "drop").mkdir(parents=True, exist_ok=True)
    (root / "accounts.csv").write_text(
        "login,partner,idp,idp_user_id\npartner1@gmail.com,OF38,ldap,\n"
    )
    path = root / "credwatch.toml"
    path.write_text(
        f"""
[organisation]
name = "France Travail"
domains = ["francetravail.fr"]
portals = ["{PORTAL}"]

[[partners]]
name = "OF38"
email_domains = ["formation-isere.example"]

[accounts]
file = "accounts.csv"

[notifiers.slack]
webhook_url_env = "CW_TEST_SLACK"
group_below = "low"  # these tests follow each alert on its own (grouping: test_alert_noise)

[serve]
watch_dir = "{root / "drop"}"
metrics_port = {port}
settle_seconds = 0.3
outbox_interval_seconds = 0.2
{extra}
"""
    )
    return path


async def start(
    cfg: Path, dsn: str, slack: SlackServer, home: Path, **env: str
) -> asyncio.subprocess.Process:
    environ = dict(
        os.environ,
        CREDWATCH_DSN=dsn,
        CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
        CREDWATCH_HOME=str(home),
        CW_TEST_SLACK=slack.webhook_url,
        CW_LDAP_PW=slapd.ADMIN_PASSWORD,
        CREDWATCH_LOG_LEVEL="INFO",
        **env,
    )
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor.cli", "serve", "--config", str(cfg),
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text parsed by prometheus_client: (name, sorted labels) -> value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def http_get(url: str) -> str:
    def get() -> str:
        with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 (loopback test server)
            return str(r.read().decode())

    return await asyncio.to_thread(get)


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    try:
        async with asyncio.timeout(timeout):
            while not await predicate():
                await asyncio.sleep(0.1)
    except TimeoutError:
        return False
    return True


async def stop(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


@pytest.mark.skipif(not slapd.available(), reason="/usr/sbin/slapd missing")
async def test_dropped_file_to_slack_and_audit_within_5s(
    dsn: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    ldap = slapd.start(
        [{"uid": "partner1", "mail": "partner1@gmail.com", "pwdChangedTime": "20260110000000Z"}]
    )
    port = free_port()
    extra = f"""
[responders.ldap]
url = "{ldap.url}"
kind = "openldap"
bind_dn = "{slapd.ADMIN_DN}"
bind_password_env = "CW_LDAP_PW"
base_dn = "{slapd.SUFFIX}"
timeout = 5

[policy]
enforce = true
"""
    cfg = config(tmp_path, port=port, extra=extra)
    try:
        async with SlackServer() as slack:
            proc = await start(cfg, dsn, slack, tmp_path)

            async def healthy() -> bool:
                try:
                    return (
                        json.loads(await http_get(f"http://127.0.0.1:{port}/healthz"))["status"]
                        == "ok"
                    )
                except OSError:
                    return False

            assert await wait_for(healthy, 30), "serve did not come up"
            line = f"{PORTAL}/login:partner1@gmail.com:{slapd.LEAKED_PASSWORD}\n"
            t0, t0_wall = time.monotonic(), time.time()
            (tmp_path / "drop" / "fresh.txt").write_text("https://x.example/:a@b.c:d\n" + line)

            async def two_messages() -> bool:
                return len(slack.posted) >= 2

            assert await wait_for(two_messages, 15)
            elapsed = time.monotonic() - t0
            assert elapsed < 5.0, f"file → Slack took {elapsed:.1f}s"
            texts = [json.dumps(p) for p in slack.posted]
            # the organisation's own login and portal host are code, ready to paste
            assert "`partner1@gmail.com`" in texts[0]
            assert "`portail-partenaire.francetravail.fr`" in texts[0]
            assert "What to do now" in texts[0] and "What to do now" in texts[1]
            assert "partially contained" in texts[1].lower()
            assert all(slapd.LEAKED_PASSWORD not in t for t in texts)
            assert not ldap.binds("partner1", slapd.LEAKED_PASSWORD)
            async with pool.acquire() as conn:
                steps = [
                    (r["step"], r["outcome"])
                    for r in await conn.fetch("SELECT step, outcome FROM actions ORDER BY id")
                ]
            assert steps == [
                ("reset_password", "started"),
                ("reset_password", "done"),
                ("require_change", "done"),
                ("revoke_sessions", "skipped"),
            ]

            async def counted() -> bool:  # counters move once the delivery round returns
                text = await http_get(f"http://127.0.0.1:{port}/metrics")
                return samples(text).get(("credwatch_alerts_sent_total", ())) == 2

            assert await wait_for(counted, 5)
            metrics = samples(await http_get(f"http://127.0.0.1:{port}/metrics"))
            assert metrics[("credwatch_sources_total", (("kind", "watch"),))] == 1
            assert metrics[("credwatch_exposures_new_total", ())] == 1
            assert metrics[("credwatch_alerts_sent_total", ())] == 2
            steps = "credwatch_containment_steps"
            assert metrics[(steps, (("provider", "ldap"), ("result", "started")))] == 1
            assert metrics[(steps, (("provider", "ldap"), ("result", "done")))] == 2
            assert metrics[(steps, (("provider", "ldap"), ("result", "skipped")))] == 1
            assert metrics[("credwatch_last_scan_success_timestamp_seconds", ())] > t0_wall
            code, err = await stop(proc)
            assert code == 0, err
            assert "stopped" in err

            # A restart neither re-reads the file nor re-sends anything.
            proc = await start(cfg, dsn, slack, tmp_path)
            assert await wait_for(healthy, 30)
            await asyncio.sleep(1.5)
            code, _ = await stop(proc)
            assert code == 0
            assert len(slack.posted) == 2
            async with pool.acquire() as conn:
                assert await conn.fetchval("SELECT count(*) FROM sources") == 1
    finally:
        ldap.stop()


async def test_two_daemons_run_the_nightly_scan_once(
    dsn: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "base.txt").write_text(f"{PORTAL}:someone@gmail.com:pw\n")
    extra = f'nightly = "*/3 * * * * *"\nsources = ["{tmp_path / "dumps"}"]\n'
    async with SlackServer() as slack:
        a_dir, b_dir = tmp_path / "a", tmp_path / "b"
        procs = [
            await start(config(d, port=free_port(), extra=extra), dsn, slack, d)
            for d in (a_dir, b_dir)
        ]

        async def fired_twice() -> bool:
            async with pool.acquire() as conn:
                n = await conn.fetchval(
                    "SELECT count(*) FROM scheduled_runs WHERE job = 'nightly' "
                    "AND finished_at IS NOT NULL"
                )
            return bool(n >= 2)

        assert await wait_for(fired_twice, 40), "the nightly job did not fire twice"
        results = [await stop(p) for p in procs]
    assert all(code == 0 for code, _ in results)
    async with pool.acquire() as conn:
        runs = await conn.fetchval("SELECT count(*) FROM scheduled_runs WHERE job = 'nightly'")
        scans = await conn.fetchval("SELECT count(*) FROM sources WHERE kind = 'nightly'")
        hosts = await conn.fetchval("SELECT count(*) FROM sightings")
    assert runs >= 2  # it fired a few times...
    assert scans == runs  # ...and each firing was scanned by one daemon only
    assert hosts == 1
    stood_down = sum(err.count("scheduled run taken by another process") for _, err in results)
    assert stood_down >= runs - 1
    assert len(slack.posted) == 1  # one exposure, announced once


async def test_a_poisoned_drop_folder_never_stops_the_daemon(
    dsn: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    from tests.gen.poison import DOMAIN, poison_corpus

    port = free_port()
    cfg = config(tmp_path, port=port, extra="")
    cfg.write_text(
        cfg.read_text().replace('"francetravail.fr"]', f'"francetravail.fr", "{DOMAIN}"]')
    )
    drop = tmp_path / "drop"
    corpus = poison_corpus(drop)
    # A file name that is not UTF-8 (copied from a Windows archive) holding a good record.
    odd = os.fsdecode(bytes(drop) + b"/caf\xe9.txt")
    Path(odd).write_text(f"https://intra.{DOMAIN}/:odd.name@{DOMAIN}:pw\n")
    files = len(list(drop.iterdir()))
    async with SlackServer() as slack:
        proc = await start(cfg, dsn, slack, tmp_path)

        async def all_read() -> bool:
            done = await pool.fetchval("SELECT count(*) FROM sources WHERE status = 'done'")
            unsent = await pool.fetchval("SELECT count(*) FROM alerts WHERE sent_at IS NULL")
            return bool(done == files and unsent == 0)

        ok = await wait_for(all_read, 60)
        health = json.loads(await http_get(f"http://127.0.0.1:{port}/healthz"))
        code, err = await stop(proc)
    assert ok, err[-3000:]
    assert health["status"] == "ok" and code == 0, err[-3000:]
    logins = {r["login"] for r in await pool.fetch("SELECT login FROM exposures")}
    assert corpus.good | {f"odd.name@{DOMAIN}"} <= logins
    # Every exposure announced once on Slack, nothing pending, nothing quarantined.
    alerts = await pool.fetchval("SELECT count(*) FROM alerts WHERE channel = 'slack'")
    assert alerts == len(logins) == len(slack.posted)
    assert await pool.fetchval("SELECT count(*) FROM drop_files") == 0
    garbage = await pool.fetchval(
        "SELECT count(*) FROM source_problems WHERE origin LIKE '%garbage%.zip%'"
    )
    assert garbage >= 4  # the fuzzed archives are reported, with their reason
