"""A stolen portal session cookie: the victim's portal account is known, so only its sessions go."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from feeds.reader import FileFeed
from monitor.config import load_config
from monitor.containment import ContainmentStatus, contain
from monitor.pipeline import Scanner, Sighting
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.store.store import Store
from monitor.watchlist import build_watchlist
from tests.conftest import TEST_KEY
from tests.servers.idp import MemoryActionLog
from tests.unit.test_containment import ACCOUNT, ScriptedResponder, user

PORTAL = "https://portail-partenaire.francetravail.fr/kairos"


async def test_sessions_only_never_resets_and_ignores_password_age() -> None:
    # The password changed after the infection: a password leak would be stale, a cookie is not.
    responder = ScriptedResponder(user=user(changed=datetime(2026, 6, 1, tzinfo=UTC)))
    log = MemoryActionLog()
    kw = {
        "exposure_id": 7, "account": ACCOUNT, "infected_at": datetime(2026, 3, 1, tzinfo=UTC),
        "first_seen": None, "responder": responder, "log": log, "dry_run": False,
        "decided_by": "policy", "sessions_only": True,
    }  # fmt: skip
    result = await contain(**kw)  # type: ignore[arg-type]
    assert result.status is ContainmentStatus.CONTAINED
    assert responder.calls == [("find_user", False), ("revoke_sessions", False)]
    again = await contain(**kw)  # type: ignore[arg-type]
    assert again.status is ContainmentStatus.CONTAINED and again.resumed == ("revoke_sessions",)
    assert responder.calls == [("find_user", False), ("revoke_sessions", False)]


async def test_portal_cookie_revokes_the_victims_portal_account_sessions(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    (tmp_path / "dumps").mkdir()
    victim = "FR[ABCDEF0123456789] [2026-03-01T08_00_00.0000000+00_00]"
    with zipfile.ZipFile(tmp_path / "dumps" / "log.zip", "w") as zf:
        zf.writestr(
            f"{victim}/Passwords.txt",
            f"URL: {PORTAL}/login\nUsername: partner1@gmail.com\nPassword: Leaked#1\n",
        )
        zf.writestr(f"{victim}/UserInformation.txt", "Log date: 3/1/2026 8:00:00 AM\n")
        zf.writestr(
            f"{victim}/Cookies/Chrome_Default.txt",
            ".portail-partenaire.francetravail.fr\tTRUE\t/kairos\tTRUE\t1893456000\tJSESSIONID\tabc123def456\n",
        )
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text(
        f'[organisation]\nname = "FT"\ndomains = ["francetravail.fr"]\nportals = ["{PORTAL}"]\n'
        '[accounts]\nlogins = ["partner1@gmail.com"]\n'
        '[policy]\nenforce = true\nrules.portal_cookie.critical = "contain"\n'
        'rules.portal_account.critical = "alert"\n'
    )
    config = load_config(cfg)
    responder = ScriptedResponder(user=user())
    responses = Responses(
        Store(pool),
        PolicyConfig.from_mapping(config.policy),
        {"fake": responder},
        channels=("console",),
    )
    scanner = Scanner(
        Store(pool), config, build_watchlist(config), feed=FileFeed(), key=TEST_KEY, channels=["console"],
        workdir=workdir, planner=responses,
    )  # fmt: skip
    found: list[Sighting] = []
    await scanner.scan([tmp_path / "dumps"], on_sighting=found.append)
    cookie = next(s.match for s in found if s.match.credential.kind.value == "cookie")
    assert cookie.account is not None and cookie.account.login == "partner1@gmail.com"
    await responses.run_due()
    # Only the sessions: the cookie's owner keeps the password (policy: alert for the password).
    assert responder.calls == [("find_user", False), ("revoke_sessions", False)]
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT e.account_login, e.status, e.cookie_expires, a.summary FROM exposures e "
            "JOIN alerts a ON a.exposure_id = e.id AND a.event = 'new' WHERE e.kind = 'cookie'"
        )
        follow = await conn.fetchval("SELECT summary FROM alerts WHERE event = 'contained'")
    assert row["account_login"] == "partner1@gmail.com"
    assert row["status"] == "contained"
    assert row["cookie_expires"].year == 2030
    assert (
        "revoke the sessions of partner1@gmail.com (cookie valid until 2030-01-01)"
        in row["summary"]
    )
    assert follow.startswith("sessions revoked in fake")
