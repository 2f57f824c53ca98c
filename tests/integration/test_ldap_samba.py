"""Active Directory for real: the LDAP responder contains users of a live Samba AD DC over LDAPS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from monitor.containment import ContainmentStatus, contain
from monitor.responder import AccountRef
from monitor.responders.ldap import LdapResponder
from monitor.types import Outcome
from tests.servers import samba
from tests.servers.idp import MemoryActionLog

pytestmark = [
    pytest.mark.samba,
    pytest.mark.skipif(bool(samba.why_not()), reason=samba.why_not() or "-"),
]

INFECTED = datetime(2099, 1, 1, tzinfo=UTC)  # after any pwdLastSet here: never stale
BAD_PASSWORD = "52e"  # AD: invalid credentials
MUST_CHANGE = "773"  # AD: the user must reset the password
DISABLED = "533"  # AD: account disabled
UF_PASSWORD_EXPIRED = 0x800000


@pytest.fixture(scope="module")
def dc() -> Iterator[samba.SambaDC]:
    server = samba.start()
    try:
        yield server
    finally:
        server.stop()


def responder(**extra: object) -> LdapResponder:
    cfg = {
        "url": samba.URL,
        "kind": "ad",
        "bind_dn": samba.ADMIN,
        "bind_password_env": "CW_AD_PW",
        "base_dn": samba.BASE_DN,
        "tls_verify": False,  # the DC's self-signed certificate names VM.cw.test, not 127.0.0.1
        "timeout": 5,
        **extra,
    }
    return LdapResponder.from_config(cfg, env={"CW_AD_PW": samba.ADMIN_PASSWORD})


async def contain_user(login: str, exposure_id: int) -> tuple[ContainmentStatus, MemoryActionLog]:
    log = MemoryActionLog()
    r = responder()
    try:
        result = await contain(
            exposure_id=exposure_id,
            account=AccountRef(login=login, email=login),
            infected_at=INFECTED,
            first_seen=None,
            responder=r,
            log=log,
            dry_run=False,
            decided_by="policy",
        )
    finally:
        await r.aclose()
    return result.status, log


def computed_flags(dc: samba.SambaDC, name: str) -> int:
    return int(dc.attribute(name, "msDS-User-Account-Control-Computed") or 0)


async def test_find_user_over_ldaps(dc: samba.SambaDC) -> None:
    dn = dc.add_user("alice")
    user = await responder().find_user(AccountRef(login="alice@example.com"))
    assert user is not None
    assert (user.user_id.lower(), user.login, user.email, user.enabled, user.external) == (
        dn.lower(),
        "alice@cw.test",
        "alice@example.com",
        True,
        False,
    )
    assert user.password_changed_at is not None
    assert abs((datetime.now(UTC) - user.password_changed_at).total_seconds()) < 600
    assert await responder().find_user(AccountRef(login="nobody*)(cn=*")) is None


async def test_reset_kills_the_leaked_password_and_requires_a_change(dc: samba.SambaDC) -> None:
    dc.add_user("bob")
    assert dc.bind_error("bob", samba.LEAKED_PASSWORD) is None
    status, log = await contain_user("bob@cw.test", exposure_id=1)
    # AD keeps no sessions: the skipped revoke keeps it from "contained".
    assert status is ContainmentStatus.PARTIAL
    assert log.steps() == [
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "skipped"),
    ]
    assert dc.bind_error("bob", samba.LEAKED_PASSWORD) == BAD_PASSWORD
    assert dc.attribute("bob", "pwdLastSet") == "0"
    assert computed_flags(dc, "bob") & UF_PASSWORD_EXPIRED


async def test_password_never_expires_is_cleared_so_the_change_is_required(
    dc: samba.SambaDC,
) -> None:
    dc.add_user("carol", uac=samba.UAC_NORMAL | samba.UAC_DONT_EXPIRE_PASSWORD)
    r = responder()
    user = await r.find_user(AccountRef(login="carol"))
    assert user is not None
    step = await r.reset_password(user, dry_run=False)
    assert step.outcome is Outcome.DONE, step.detail
    [change] = step.also  # the change requirement is its own outcome
    assert (change.step, change.outcome) == ("require_change", Outcome.DONE)
    assert "password never expires" in change.detail
    assert dc.bind_error("carol", samba.LEAKED_PASSWORD) == BAD_PASSWORD
    uac = int(dc.attribute("carol", "userAccountControl") or 0)
    assert not uac & samba.UAC_DONT_EXPIRE_PASSWORD
    assert computed_flags(dc, "carol") & UF_PASSWORD_EXPIRED


async def test_pwd_last_set_zero_alone_blocks_a_known_password(dc: samba.SambaDC) -> None:
    """What the reset relies on: with pwdLastSet=0 even the right password no longer signs in."""
    dc.add_user("erin")
    conn = dc.admin()
    try:
        conn.modify(dc.dn("erin"), {"pwdLastSet": [(samba.MODIFY_REPLACE, [0])]})
    finally:
        conn.unbind()
    assert dc.bind_error("erin", samba.LEAKED_PASSWORD) == MUST_CHANGE


async def test_block_disables_the_account(dc: samba.SambaDC) -> None:
    dc.add_user("dave")
    r = responder()
    user = await r.find_user(AccountRef(login="dave"))
    assert user is not None
    step = await r.block(user, dry_run=False)
    assert (step.outcome, step.detail) == (Outcome.DONE, "account disabled")
    assert dc.bind_error("dave", samba.LEAKED_PASSWORD) == DISABLED
    disabled = await r.find_user(AccountRef(login="dave"))
    assert disabled is not None and disabled.enabled is False
    again = await r.block(disabled, dry_run=False)
    assert (again.outcome, again.detail) == (Outcome.DONE, "already disabled")


async def test_disable_on_revoke_is_the_fast_kill(dc: samba.SambaDC) -> None:
    dc.add_user("frank")
    r = responder(disable_on_revoke=True)
    user = await r.find_user(AccountRef(login="frank"))
    assert user is not None
    step = await r.revoke_sessions(user, dry_run=False)
    assert step.outcome is Outcome.DONE
    assert dc.bind_error("frank", samba.LEAKED_PASSWORD) == DISABLED
