"""End to end: a scan finds a live portal credential and contains it in a real slapd, once."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from feeds.reader import FileFeed
from monitor.config import load_config
from monitor.pipeline import Scanner
from monitor.plugins import Family, build
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.store.store import Store
from monitor.watchlist import build_watchlist
from tests.conftest import TEST_KEY
from tests.servers import slapd

pytestmark = [
    pytest.mark.slapd,
    pytest.mark.skipif(
        not slapd.available(), reason="/usr/sbin/slapd missing: apt-get install -y slapd ldap-utils"
    ),
]
PORTAL = "https://portail-partenaire.francetravail.fr/kairos"
# Dates relative to today, so the infection stays inside the plausible window (365 days).
INFECTED = (datetime.now(UTC) - timedelta(days=90)).replace(
    hour=8, minute=0, second=0, microsecond=0
)
CHANGED = INFECTED + timedelta(days=4, hours=2, minutes=15)  # partner3 changed it after the leak
USERS = [
    {
        "uid": "partner1",
        "mail": "partner1@gmail.com",
        "pwdChangedTime": (INFECTED - timedelta(days=50)).strftime("%Y%m%d%H%M%SZ"),
    },
    {
        "uid": "partner3",
        "mail": "partner3@gmail.com",
        "pwdChangedTime": CHANGED.strftime("%Y%m%d%H%M%SZ"),
    },
]


@pytest.fixture
def server() -> Iterator[slapd.Slapd]:
    s = slapd.start(USERS)
    try:
        yield s
    finally:
        s.stop()


def write_case(root: Path, server: slapd.Slapd, *, enforce: bool) -> Path:
    leaked = slapd.LEAKED_PASSWORD
    (root / "dumps").mkdir(parents=True)
    (root / "accounts.csv").write_text(
        "login,partner,idp,idp_user_id\n"
        "partner1@gmail.com,OF38,ldap,\n"
        "partner3@gmail.com,OF38,ldap,\n"
    )
    (root / "credwatch.toml").write_text(
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

[responders.ldap]
url = "{server.url}"
kind = "openldap"
bind_dn = "{slapd.ADMIN_DN}"
bind_password_env = "CW_LDAP_PW"
base_dn = "{slapd.SUFFIX}"
timeout = 5

[policy]
enforce = {"true" if enforce else "false"}
"""
    )
    # Live: partner1's password last changed before the leak, seen leaked now (no infection date).
    (root / "dumps" / "base.txt").write_text(
        f"https://shop.example/login:someone@gmail.com:x\n{PORTAL}/login:partner1@gmail.com:{leaked}\n"
    )
    # Stale: partner3 was infected on INFECTED and changed the password four days later.
    # The stealer wrote its files then (their dates in the archive agree with the infection).
    victim = f"FR[ABCDEF0123456789] [{INFECTED:%Y-%m-%dT%H_%M_%S}.0000000+00_00]"
    written = (INFECTED.year, INFECTED.month, INFECTED.day, 8, 0, 2)
    with zipfile.ZipFile(root / "dumps" / "log.zip", "w") as zf:
        zf.writestr(
            zipfile.ZipInfo(f"{victim}/Passwords.txt", date_time=written),
            f"URL: {PORTAL}/login\nUsername: partner3@gmail.com\nPassword: {leaked}\n"
            "Application: Google_[Chrome]_Default\n===============\n",
        )
        zf.writestr(
            zipfile.ZipInfo(f"{victim}/UserInformation.txt", date_time=written),
            f"Country: FR\nLog date: {INFECTED.month}/{INFECTED.day}/{INFECTED.year} 8:00:00 AM\n",
        )
    return root / "credwatch.toml"


async def run_scan(pool: asyncpg.Pool, cfg_path: Path, workdir: Path) -> None:
    config = load_config(cfg_path)
    responders = {
        "ldap": build(
            Family.RESPONDERS,
            "ldap",
            config.responders["ldap"],
            {"CW_LDAP_PW": slapd.ADMIN_PASSWORD},
        )
    }
    responses = Responses(
        Store(pool), PolicyConfig.from_mapping(config.policy), responders, channels=("console",)
    )
    scanner = Scanner(
        Store(pool),
        config,
        build_watchlist(config),
        feed=FileFeed(),
        key=TEST_KEY,
        channels=["console"],
        workdir=workdir,
        planner=responses,
    )
    try:
        await scanner.scan([cfg_path.parent / "dumps"])
        await responses.run_due()
    finally:
        await responses.aclose()


async def trail(pool: asyncpg.Pool, login: str) -> list[tuple[str, str]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT a.step, a.outcome FROM actions a JOIN exposures e ON e.id = a.exposure_id "
            "WHERE e.login = $1 ORDER BY a.id",
            login,
        )
    return [(r["step"], r["outcome"]) for r in rows]


async def test_live_portal_credential_is_contained_once_and_stale_is_not(
    pool: asyncpg.Pool, server: slapd.Slapd, tmp_path: Path, workdir: Path
) -> None:
    leaked = slapd.LEAKED_PASSWORD
    assert server.binds("partner1", leaked) and server.binds("partner3", leaked)
    cfg = write_case(tmp_path, server, enforce=True)
    await run_scan(pool, cfg, workdir)

    assert not server.binds("partner1", leaked)  # the leaked password is dead
    assert server.attribute("partner1", "pwdReset") == "TRUE"  # and a change is required
    assert server.binds("partner3", leaked)  # stale: changed after the leak, not touched
    first = await trail(pool, "partner1@gmail.com")
    assert first == [
        ("reset_password", "started"),
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "skipped"),
    ]
    assert await trail(pool, "partner3@gmail.com") == [("stale", "skipped")]
    async with pool.acquire() as conn:
        statuses = dict(await conn.fetch("SELECT login, status FROM exposures"))
        events = sorted(
            (r["login"], r["event"])
            for r in await conn.fetch(
                "SELECT e.login, a.event FROM alerts a JOIN exposures e ON e.id = a.exposure_id"
            )
        )
    # LDAP keeps no sessions: the password is dead, the applications' sessions are a human's job.
    assert statuses == {"partner1@gmail.com": "partially_contained", "partner3@gmail.com": "stale"}
    assert events == [
        ("partner1@gmail.com", "needs_action"),
        ("partner1@gmail.com", "new"),
        ("partner3@gmail.com", "new"),
        ("partner3@gmail.com", "stale"),
    ]
    # Scanning again (a restart, a resold dump) never resets twice.
    changed_at = server.attribute("partner1", "pwdChangedTime")
    await run_scan(pool, cfg, workdir)
    assert await trail(pool, "partner1@gmail.com") == first
    assert server.attribute("partner1", "pwdChangedTime") == changed_at


async def test_dry_run_changes_nothing(
    pool: asyncpg.Pool, server: slapd.Slapd, tmp_path: Path, workdir: Path
) -> None:
    cfg = write_case(tmp_path, server, enforce=False)
    await run_scan(pool, cfg, workdir)
    assert server.binds("partner1", slapd.LEAKED_PASSWORD)
    assert server.attribute("partner1", "pwdReset") in (None, "FALSE")
    assert await trail(pool, "partner1@gmail.com") == [
        ("reset_password", "dry_run"),
        ("require_change", "dry_run"),
        ("revoke_sessions", "skipped"),
    ]


async def test_approval_waits_for_a_human_then_contains(
    pool: asyncpg.Pool, server: slapd.Slapd, tmp_path: Path, workdir: Path
) -> None:
    cfg = write_case(tmp_path, server, enforce=True)
    cfg.write_text(
        cfg.read_text().replace(
            "[policy]\nenforce = true",
            '[policy]\nenforce = true\nrules.portal_account.critical = "approve"',
        )
    )
    await run_scan(pool, cfg, workdir)
    assert server.binds("partner1", slapd.LEAKED_PASSWORD)  # nothing before approval
    assert await trail(pool, "partner1@gmail.com") == []
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT e.id, e.status, a.summary FROM exposures e JOIN alerts a ON a.exposure_id = e.id "
            "WHERE e.login = 'partner1@gmail.com'"
        )
        events = [r["event"] for r in await conn.fetch("SELECT event FROM alerts")]
    # The request for a decision is its own event (not a "new" alert) and says how to refuse;
    # the approve command travels with it (Alert.approve_command, set at delivery).
    assert events == ["approval_needed", "approval_needed"]  # never a "new" titled as a finding
    assert row["status"] == "pending_approval"
    assert "waiting for approval to set a random password for partner1@gmail.com" in row["summary"]
    assert f"credwatch reject {row['id']} --reason" in row["summary"]
    config = load_config(cfg)
    responders = {
        "ldap": build(
            Family.RESPONDERS,
            "ldap",
            config.responders["ldap"],
            {"CW_LDAP_PW": slapd.ADMIN_PASSWORD},
        )
    }
    responses = Responses(Store(pool), PolicyConfig.from_mapping(config.policy), responders)
    try:
        assert await responses.approve(row["id"], who="cli:alice") == 1
        assert await responses.approve(row["id"], who="cli:alice") == 0  # nothing left to approve
        await responses.run_due()
    finally:
        await responses.aclose()
    assert not server.binds("partner1", slapd.LEAKED_PASSWORD)
    assert (await trail(pool, "partner1@gmail.com"))[0] == ("approval", "approved")
    async with pool.acquire() as conn:
        by = await conn.fetchval(
            "SELECT DISTINCT decided_by FROM actions a JOIN exposures e ON e.id = a.exposure_id "
            "WHERE e.login = 'partner1@gmail.com'"
        )
    assert by == "cli:alice"
