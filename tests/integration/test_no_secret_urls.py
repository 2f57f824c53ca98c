"""Hostile URLs (userinfo, query tokens, fragments, path parameters, token segments) scanned end to
end: the database dump, the JSON output, the logs and every alert hold none of the planted values;
the scrub migration cleans rows stored before URLs were cleaned at the source."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import asyncpg

from monitor.normalize import safe_url
from monitor.store.embedded import find_bindir
from monitor.store.migrate import available
from tests.conftest import TEST_KEY
from tests.servers.slack import SlackServer

# Values hidden in the URLs: none may appear anywhere after the scan.
PLANTED = ("UsrPw9xq", "QTok3nZZ", "FragS3cr", "JSessXYZ12", "eyJhbGciOiJIUzI1NiJ9a1b2c3d4e5f6")
LINES = [
    "https://bob:UsrPw9xq@portail-partenaire.francetravail.fr/kairos?token=QTok3nZZ"
    ":bob@francetravail.fr:Leaked-One-1",
    "https://portail-partenaire.francetravail.fr/kairos#access_token=FragS3cr"
    ":ann@francetravail.fr:Leaked-Two-2",
    "https://portail-partenaire.francetravail.fr/kairos;jsessionid=JSessXYZ12/login"
    ":cid@francetravail.fr:Leaked-Three-3",
    "https://sso.francetravail.fr/reset/eyJhbGciOiJIUzI1NiJ9a1b2c3d4e5f6/confirm"
    ":dan@francetravail.fr:Leaked-Four-4",
]
CONFIG = """
[organisation]
name = "France Travail"
domains = ["francetravail.fr"]
portals = ["https://portail-partenaire.francetravail.fr/kairos"]

[notifiers.slack]
webhook_url_env = "CW_TEST_SLACK"
group_below = "low"  # one message per alert: every payload is checked on its own
"""


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_hostile_urls_leave_no_secret_anywhere(dsn: str, tmp_path: Path) -> None:
    base = tmp_path / "ulp.txt"
    base.write_text("\n".join(LINES) + "\n")
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text(CONFIG)
    async with SlackServer() as slack:
        env = dict(
            os.environ,
            CREDWATCH_DSN=dsn,
            CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
            CREDWATCH_HOME=str(tmp_path),
            CW_TEST_SLACK=slack.webhook_url,
            CREDWATCH_LOG_LEVEL="DEBUG",
        )
        code, out, err = await run_cli("scan", "--config", str(cfg), "--json", str(base), env=env)
        table_code, table, table_err = await run_cli(
            "scan", "--config", str(cfg), str(base), env=env
        )
        alerts = b"".join(seen.body for seen in slack.calls).decode()
    assert code == 1, err
    assert table_code == 1, table_err
    assert out.count("\n") == len(LINES)
    assert "portail-partenaire.francetravail.fr/kairos" in out  # the URL is kept, cleaned
    assert "sso.francetravail.fr/reset/***/confirm" in out
    # the organisation's own login is shown as it is, for copying into the identity provider
    assert len(slack.calls) >= len(LINES) and "`bob@francetravail.fr`" in alerts
    proc = await asyncio.create_subprocess_exec(
        str(find_bindir() / "pg_dump"), "--data-only", dsn, stdout=asyncio.subprocess.PIPE
    )
    dump, _ = await proc.communicate()
    assert proc.returncode == 0
    assert "bob@francetravail.fr" in dump.decode()
    for where, text in {
        "database": dump.decode(),
        "json": out,
        "logs": err + table_err,
        "table": table,
        "alerts": alerts,
    }.items():
        for value in PLANTED:
            assert value not in text, (where, value)


DIRTY = [
    "https://bob:UsrPw9xq@h.example/kairos?token=QTok3nZZ#f",
    "https://h.example/app;jsessionid=JSessXYZ12/login",
    "https://h.example;sid=XYZ/",
    "http://u:p@h.example\\a;s=1\\b",
    "android://sig==@com.example.app/",
    "https://h.example/reset/eyJhbGciOiJIUzI1NiJ9a1b2c3d4e5f6/confirm",
    "https://h.example/a-long-but-plain-path-segment/x",
    "https://h.example/kairos",
    "",
]


async def test_scrub_migration_cleans_stored_urls_like_safe_url(pool: asyncpg.Pool) -> None:
    scrub = next(m for m in available() if m.name.startswith("008_"))
    async with pool.acquire() as conn:
        ids = []
        for i, url in enumerate(DIRTY):
            exposure = await conn.fetchval(
                "INSERT INTO exposures (fingerprint, kind, url, reasons, severity)"
                " VALUES ($1, 'password', $2, '{host}', 2) RETURNING id",
                f"fp{i}",
                url,
            )
            await conn.execute(
                "INSERT INTO sightings (exposure_id, origin, feed, url) VALUES ($1, 'o', 'file', $2)",
                exposure,
                url,
            )
            ids.append(exposure)
        await conn.execute(scrub.sql)
        for exposure, url in zip(ids, DIRTY, strict=True):
            stored = await conn.fetchval("SELECT url FROM exposures WHERE id = $1", exposure)
            seen = await conn.fetchval("SELECT url FROM sightings WHERE exposure_id = $1", exposure)
            assert stored == seen == safe_url(url), url


# What the previous cleaning stored for a password holding `/`, `?` or `#` (the part of the
# password before it kept as a host and port), and URLs the new rule leaves as they are.
STORED_BEFORE = [
    "https://bob:pa/SeCrEt@portal.example/x",
    "https://bob:pa/SeCrEt@portal.example/@team/x",
    "https://bob:pa/SeCrEt@intranet/x",
    "https://bob:pa/SeCrEt@[2001:db8::1]:8443/x",
    "https://bob:pa/SeCrEt@localhost:8080/x",
    "bob:pa/SeCrEt@portal.example/x",
    "https://bob:SeCrEt",
    "https://h.example:8443/a@b.example/x",
    "https://h.example:8443/x",
    "https://[2001:db8::1]:8443/x",
    "https://medium.example/@user.name/post",
    "android://com.example.app/",
    "https://h.example/kairos",
    "",
]


async def test_userinfo_scrub_migration_cleans_stored_urls_like_safe_url(
    pool: asyncpg.Pool,
) -> None:
    scrub = next(m for m in available() if m.name.startswith("013_"))
    async with pool.acquire() as conn:
        ids = []
        for i, url in enumerate(STORED_BEFORE):
            exposure = await conn.fetchval(
                "INSERT INTO exposures (fingerprint, kind, url, reasons, severity)"
                " VALUES ($1, 'password', $2, '{host}', 2) RETURNING id",
                f"fp-userinfo-{i}",
                url,
            )
            await conn.execute(
                "INSERT INTO sightings (exposure_id, origin, feed, url) VALUES ($1, 'o', 'file', $2)",
                exposure,
                url,
            )
            ids.append(exposure)
        await conn.execute(scrub.sql)
        for exposure, url in zip(ids, STORED_BEFORE, strict=True):
            stored = await conn.fetchval("SELECT url FROM exposures WHERE id = $1", exposure)
            seen = await conn.fetchval("SELECT url FROM sightings WHERE exposure_id = $1", exposure)
            assert stored == seen == safe_url(url), url
            assert "SeCrEt" not in stored and ":pa" not in stored
