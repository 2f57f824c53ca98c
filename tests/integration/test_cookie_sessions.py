"""A stolen portal session cookie: the IdP's sessions and the portal's own must both end; without
the portal's confirmation the exposure is never reported contained."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import asyncpg

from feeds.reader import FileFeed
from monitor.config import load_config
from monitor.containment import ContainmentStatus, PortalHook, PortalRef, contain
from monitor.pipeline import Scanner, Sighting
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.responder import STEP_PORTAL, IdentityUser, StepResult
from monitor.store.store import Store
from monitor.types import Outcome
from monitor.watchlist import build_watchlist
from tests.conftest import TEST_KEY
from tests.servers.idp import MemoryActionLog
from tests.unit.test_containment import ACCOUNT, ScriptedResponder, user

PORTAL = "https://portail-partenaire.francetravail.fr/kairos"
COOKIE = PortalRef(
    portal=PORTAL, cookie_name="JSESSIONID", expires=datetime(2030, 1, 1, tzinfo=UTC)
)


class MemoryPortal:
    """A portal session hook that confirms (or not) that the user's sessions ended."""

    name: ClassVar[str] = "portal"

    def __init__(self, outcome: Outcome = Outcome.DONE) -> None:
        self.outcome = outcome
        self.asked: list[tuple[str, str]] = []

    async def end_portal_sessions(
        self, user: IdentityUser, portal: PortalRef, *, dry_run: bool
    ) -> StepResult:
        self.asked.append((user.login, portal.portal))
        return StepResult(step=STEP_PORTAL, outcome=self.outcome, detail="portal answered")


async def run_cookie(
    responder: ScriptedResponder, log: MemoryActionLog, hook: PortalHook | None
) -> ContainmentStatus:
    result = await contain(
        exposure_id=7,
        account=ACCOUNT,
        infected_at=datetime(2026, 3, 1, tzinfo=UTC),
        first_seen=None,
        responder=responder,
        log=log,
        dry_run=False,
        decided_by="policy",
        sessions_only=True,
        portal=COOKIE,
        portal_hook=hook,
    )
    return result.status


async def test_without_a_portal_hook_a_cookie_is_never_contained() -> None:
    # The password changed after the infection: a password leak would be stale, a cookie is not.
    responder = ScriptedResponder(user=user(changed=datetime(2026, 6, 1, tzinfo=UTC)))
    log = MemoryActionLog()
    result = await contain(
        exposure_id=7, account=ACCOUNT, infected_at=datetime(2026, 3, 1, tzinfo=UTC),
        first_seen=None, responder=responder, log=log, dry_run=False, decided_by="policy",
        sessions_only=True, portal=COOKIE,
    )  # fmt: skip
    assert result.status is ContainmentStatus.PARTIAL
    assert responder.calls == [("find_user", False), ("revoke_sessions", False)]
    assert log.steps() == [("end_portal_sessions", "skipped"), ("revoke_sessions", "done")]
    text = result.headline
    assert text.startswith("PARTIALLY contained in fake. identity provider sessions revoked")
    assert (
        f"NOT DONE: portal sessions ended (no session hook for {PORTAL}: the stolen JSESSIONID "
        "may still work there until 2030-01-01 00:00 UTC); to do: ask the "
        f"{PORTAL} team to end every session of partner1@gmail.com now"
    ) in text


async def test_with_a_portal_hook_contained_only_on_its_confirmation() -> None:
    responder, log = ScriptedResponder(user=user()), MemoryActionLog()
    refused = MemoryPortal(Outcome.FAILED)
    assert await run_cookie(responder, log, refused) is ContainmentStatus.PARTIAL
    confirming = MemoryPortal()
    assert await run_cookie(responder, log, confirming) is ContainmentStatus.CONTAINED
    assert confirming.asked == [("partner1@gmail.com", PORTAL)]
    # The IdP's sessions were revoked once; nothing is repeated once both are done.
    assert responder.calls.count(("revoke_sessions", False)) == 1
    assert await run_cookie(responder, log, confirming) is ContainmentStatus.CONTAINED
    assert len(confirming.asked) == 1


async def test_portal_cookie_ends_the_victims_sessions_through_the_portal_hook(
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
    hook = MemoryPortal()
    responses = Responses(
        Store(pool),
        PolicyConfig.from_mapping(config.policy),
        {"fake": responder},
        channels=("console",),
        portal_hooks={PORTAL: hook},
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
    assert hook.asked == [("partner1@gmail.com", PORTAL)]
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
    assert follow == (
        "contained in fake. portal sessions ended: portal answered. "
        "identity provider sessions revoked: done"
    )
