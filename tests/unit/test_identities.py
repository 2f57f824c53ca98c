"""Hybrid and external identities, reproduced by the fakes as the providers answer: synced Entra
users, B2B members, internal guests, AD-mastered and non-ACTIVE Okta users."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio

from monitor.containment import ContainmentResult, ContainmentStatus, contain
from monitor.responder import AccountRef, IdentityUser, Responder, StepResult
from monitor.responders.entra import EntraResponder
from monitor.responders.okta import OktaResponder
from monitor.types import Outcome
from tests.servers.idp import (
    FakeIdP,
    FakeUser,
    MemoryActionLog,
    answer,
    entra_app,
    looks_random,
    okta_app,
    serve,
)
from tests.unit.test_containment import ScriptedResponder
from tests.unit.test_responder_entra import ENV as GRAPH_ENV
from tests.unit.test_responder_okta import ENV as OKTA_ENV

INFECTED = datetime(2026, 3, 1, tzinfo=UTC)


async def run(
    responder: Responder, login: str, directory: Responder | None = None
) -> tuple[ContainmentResult, MemoryActionLog]:
    log = MemoryActionLog()
    try:
        result = await contain(
            exposure_id=1, account=AccountRef(login=login, email=login), infected_at=INFECTED,
            first_seen=None, responder=responder, log=log, dry_run=False, decided_by="policy",
            directory=directory,
        )  # fmt: skip
    finally:
        await responder.aclose()
    return result, log


@pytest_asyncio.fixture
async def graph() -> AsyncIterator[tuple[FakeIdP, str]]:
    idp = FakeIdP()
    async with serve(entra_app(idp)) as url:
        yield idp, url


def entra(url: str) -> EntraResponder:
    cfg = {
        "tenant": "tenant-1", "client_id": "app-1", "client_secret_env": "CW_GRAPH_SECRET",
        "base_url": url, "login_url": url, "timeout": 2.0,
    }  # fmt: skip
    return EntraResponder.from_config(cfg, env=GRAPH_ENV)


def graph_user(idp: FakeIdP, uid: str, login: str, **extra: Any) -> FakeUser:
    return idp.add(FakeUser(id=uid, login=login, email=login, extra=extra))


async def test_entra_synced_user_needs_an_on_premises_reset(graph: tuple[FakeIdP, str]) -> None:
    idp, url = graph
    user = graph_user(idp, "s1", "ana@org.example", onPremisesSyncEnabled=True)
    result, log = await run(entra(url), "ana@org.example")
    assert result.status is ContainmentStatus.PARTIAL  # cloud sessions revoked, AD password not
    assert not idp.calls_to("PATCH", "/v1.0/users/s1")
    assert user.password == "Leaked#Pass1" and user.sessions_revoked == 1
    assert log.steps() == [
        ("reset_password", "skipped"),
        ("require_change", "skipped"),
        ("revoke_sessions", "done"),
    ]
    assert "NOT DONE: leaked password replaced by a random one (needs on-premises AD reset" in (
        result.headline
    )
    assert "Graph cannot require a change of a synced password" in result.headline
    assert "to do: reset the password in on-premises AD and require a change" in result.headline


class Directory(ScriptedResponder):
    name = "ldap"  # type: ignore[misc]


async def test_entra_synced_user_is_reset_through_the_directory(
    graph: tuple[FakeIdP, str],
) -> None:
    idp, url = graph
    graph_user(idp, "s1", "ana@org.example", onPremisesSyncEnabled=True)
    ad_user = IdentityUser(
        provider="ldap", user_id="cn=ana", login="ana@org.example", email=None,
        password_changed_at=None, external=False, enabled=True,
    )  # fmt: skip
    directory = Directory(user=ad_user)
    result, log = await run(entra(url), "ana@org.example", directory=directory)
    assert result.status is ContainmentStatus.CONTAINED
    assert directory.calls == [
        ("find_user", False),
        ("reset_password", False),
        ("find_user", False),
        ("require_change", False),
    ]
    assert not idp.calls_to("PATCH", "/v1.0/users/s1")
    assert [r.detail[:8] for r in log.rows[1:3]] == ["in ldap:", "in ldap:"]


async def test_entra_b2b_member_is_external(graph: tuple[FakeIdP, str]) -> None:
    # B2B collaboration *members* have userType Member: the UPN and externalUserState tell.
    idp, url = graph
    upn = "bob_partner.example#EXT#@tenant.onmicrosoft.com"
    member = idp.add(
        FakeUser(
            id="m1", login=upn, email="bob@partner.example",
            extra={"userType": "Member", "externalUserState": "Accepted", "creationType": None},
        )
    )  # fmt: skip
    result, log = await run(entra(url), "bob@partner.example")
    assert result.status is ContainmentStatus.PARTIAL  # its sessions are its home tenant's
    assert log.steps() == [("block", "done"), ("revoke_sessions", "skipped")]
    assert member.password == "Leaked#Pass1" and not member.enabled
    assert "Graph cannot revoke an external user's sessions" in result.headline


async def test_entra_internal_guest_with_a_local_password_is_reset(
    graph: tuple[FakeIdP, str],
) -> None:
    idp, url = graph
    guest = graph_user(idp, "g1", "vendor@org.example", userType="Guest")
    result, log = await run(entra(url), "vendor@org.example")
    assert result.status is ContainmentStatus.CONTAINED
    assert log.steps() == [
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "done"),
    ]
    assert looks_random(guest.password) and guest.enabled and guest.must_change


@pytest_asyncio.fixture
async def okta_url() -> AsyncIterator[tuple[FakeIdP, str]]:
    idp = FakeIdP()
    async with serve(okta_app(idp)) as url:
        yield idp, url


def okta(url: str) -> OktaResponder:
    return OktaResponder.from_config(
        {"base_url": url, "token_env": "CW_OKTA_TOKEN", "timeout": 2.0}, env=OKTA_ENV
    )


async def test_okta_ad_mastered_user_is_not_suspended_as_a_partner(
    okta_url: tuple[FakeIdP, str],
) -> None:
    idp, url = okta_url
    user = idp.add(
        FakeUser(id="00ad", login="ana@org.example", email="ana@org.example",
                 extra={"provider": "ACTIVE_DIRECTORY"})
    )  # fmt: skip
    result, log = await run(okta(url), "ana@org.example")
    assert result.status is ContainmentStatus.PARTIAL
    assert not idp.calls_to("POST", "/api/v1/users/00ad/lifecycle/suspend")
    assert user.enabled and user.sessions_revoked == 1
    assert log.steps() == [
        ("reset_password", "skipped"),
        ("require_change", "done"),
        ("revoke_sessions", "done"),
    ]
    # Okta's expiry reaches AD (delegated authentication reads it there); the reset does not.
    assert len(idp.calls_to("POST", "/api/v1/users/00ad/lifecycle/expire_password")) == 1
    assert not idp.calls_to(
        "POST", "/api/v1/users/00ad/lifecycle/expire_password_with_temp_password"
    )
    assert user.password == "Leaked#Pass1" and user.extra["status"] == "PASSWORD_EXPIRED"
    assert "reset the password in Active Directory" in result.headline
    assert "Okta expires it in Active Directory too" in result.headline


async def test_okta_ad_mastered_user_is_reset_through_the_directory(
    okta_url: tuple[FakeIdP, str],
) -> None:
    idp, url = okta_url
    idp.add(
        FakeUser(id="00ad", login="ana@org.example", email="ana@org.example",
                 extra={"provider": "ACTIVE_DIRECTORY"})
    )  # fmt: skip
    ad_user = IdentityUser(
        provider="ldap", user_id="cn=ana", login="ana@org.example", email=None,
        password_changed_at=None, external=False, enabled=True,
    )  # fmt: skip
    directory = Directory(user=ad_user)
    result, log = await run(okta(url), "ana@org.example", directory=directory)
    assert result.status is ContainmentStatus.CONTAINED
    assert ("reset_password", False) in directory.calls
    assert ("require_change", False) in directory.calls
    assert not [c for c in idp.calls if "/lifecycle/" in c.path]
    assert log.steps() == [
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "done"),
    ]


async def test_okta_ldap_mastered_user_needs_the_directory(
    okta_url: tuple[FakeIdP, str],
) -> None:
    idp, url = okta_url
    idp.add(
        FakeUser(id="00ld", login="eve@org.example", email="eve@org.example",
                 extra={"provider": "LDAP"})
    )  # fmt: skip
    result, log = await run(okta(url), "eve@org.example")
    assert result.status is ContainmentStatus.PARTIAL
    assert not [c for c in idp.calls if "/lifecycle/" in c.path]
    assert log.steps() == [
        ("reset_password", "skipped"),
        ("require_change", "skipped"),
        ("revoke_sessions", "done"),
    ]
    assert "Okta does not expire a password there" in result.headline


async def test_okta_change_requirement_follows_the_users_status(
    okta_url: tuple[FakeIdP, str],
) -> None:
    idp, url = okta_url
    cases = {
        "PASSWORD_EXPIRED": "done", "RECOVERY": "done", "PROVISIONED": "skipped",
        "STAGED": "skipped", "SUSPENDED": "skipped", "DEPROVISIONED": "skipped",
    }  # fmt: skip
    for status, outcome in cases.items():
        uid = f"00{status[:3].lower()}"
        idp.add(
            FakeUser(id=uid, login=f"{uid}@org.example", email=f"{uid}@org.example",
                     extra={"status": status, "provider": "ACTIVE_DIRECTORY"})
        )  # fmt: skip
        r = okta(url)
        user = await r.find_user(AccountRef(login=f"{uid}@org.example"))
        assert user is not None and user.status == status
        step = await r.require_change(user, dry_run=False)
        await r.aclose()
        assert step.outcome.value == outcome, status
        # Already expired or in recovery: nothing to ask. Not signing in (suspended, deactivated,
        # not activated): no expiry is documented, and one that took effect could let the user
        # sign in, so nothing is sent and an admin is told when to require the change.
        assert not idp.calls_to("POST", f"/api/v1/users/{uid}/lifecycle/expire_password")
        if outcome == "skipped":
            assert step.todo.startswith("require a password change in Active Directory now")


async def test_okta_blocks_non_active_external_users_honestly(
    okta_url: tuple[FakeIdP, str],
) -> None:
    idp, url = okta_url
    for uid, status in (("00r", "RECOVERY"), ("00p", "PASSWORD_EXPIRED")):
        idp.add(
            FakeUser(id=uid, login=f"{uid}@partner.example", email=f"{uid}@partner.example",
                     external=True, extra={"status": status})
        )  # fmt: skip
        result, log = await run(okta(url), f"{uid}@partner.example")
        assert result.status is ContainmentStatus.PARTIAL, status
        assert not idp.calls_to("POST", f"/api/v1/users/{uid}/lifecycle/suspend")
        assert log.steps() == [("block", "skipped"), ("revoke_sessions", "done")]
        assert f"Okta suspends only ACTIVE users; this one is {status}" in result.headline


async def test_external_user_blocked_and_sessions_revoked() -> None:
    external = IdentityUser(
        provider="fake", user_id="x", login="p@partner.example", email=None,
        password_changed_at=None, external=True, enabled=True,
    )  # fmt: skip
    r = ScriptedResponder(user=external, outcomes={"revoke_sessions": [Outcome.SKIPPED]})
    result, _ = await run(r, "p@partner.example")
    assert result.status is ContainmentStatus.PARTIAL  # blocked, but its sessions still live
    assert isinstance(result.steps[-1], StepResult)


async def test_a_401_after_a_cached_token_refreshes_it_once(graph: tuple[FakeIdP, str]) -> None:
    idp, url = graph
    user = graph_user(idp, "u1", "ana@org.example")
    r = entra(url)
    try:
        assert await r.find_user(AccountRef(login="ana@org.example")) is not None
        # The cached token is revoked: Graph answers 401 once; a new token is fetched.
        idp.script(
            "PATCH",
            "/v1.0/users/u1",
            answer(401, {"error": {"code": "InvalidAuthenticationToken", "message": "expired"}}),
        )
        found = await r.find_user(AccountRef(login="ana@org.example"))
        assert found is not None
        step = await r.reset_password(found, dry_run=False)
    finally:
        await r.aclose()
    assert step.outcome is Outcome.DONE and looks_random(user.password)
    assert len(idp.calls_to("POST", "/tenant-1/oauth2/v2.0/token")) == 2
    assert len(idp.calls_to("PATCH", "/v1.0/users/u1")) == 2
