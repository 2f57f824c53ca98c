"""Keycloak back-channel logout as a portal's session hook, against the Keycloak fake: the
portal-session step is confirmed only when the portal's client has a back-channel logout URL and
Keycloak holds a session of the user there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest_asyncio

from monitor.containment import ContainmentResult, ContainmentStatus, contain
from monitor.respond import default_provider
from monitor.responder import AccountRef, PortalRef
from monitor.responder_roles import portal_hooks, read_roles
from monitor.responders.keycloak import KeycloakResponder
from monitor.types import Outcome
from tests.servers.idp import (
    FakeIdP,
    FakeUser,
    MemoryActionLog,
    RecordingSleep,
    answer,
    keycloak_app,
    keycloak_client,
    serve,
)
from tests.unit.test_responder_keycloak import ADMIN, ENV

PORTAL = "https://portal.partners.example/app"
LOGOUT_URL = "https://portal.partners.example/app/backchannel-logout"
COOKIE = PortalRef(
    portal=PORTAL, cookie_name="PORTALSESSION", expires=datetime(2030, 1, 1, tzinfo=UTC)
)


@dataclass
class Realm:
    idp: FakeIdP
    url: str
    user: FakeUser

    def responder(self, **extra: object) -> KeycloakResponder:
        cfg = {
            "base_url": self.url,
            "realm": "partners",
            "client_id": "credwatch",
            "client_secret_env": "CW_KC_SECRET",
            "timeout": 0.5,
            "backoff_base": 0.01,
            "portal_clients": {PORTAL: "partner-portal"},
            **extra,
        }
        return KeycloakResponder.from_config(cfg, env=ENV, sleep=RecordingSleep())


@pytest_asyncio.fixture
async def realm() -> AsyncIterator[Realm]:
    idp = FakeIdP()
    user = idp.add(
        FakeUser(
            id="kc-1",
            login="partner1",
            email="partner1@gmail.com",
            client_sessions=["partner-portal", "account-console"],
        )
    )
    idp.clients["partner-portal"] = keycloak_client("partner-portal", LOGOUT_URL)
    idp.clients["account-console"] = keycloak_client("account-console")
    async with serve(keycloak_app(idp)) as url:
        yield Realm(idp, url, user)


async def cookie(r: KeycloakResponder, log: MemoryActionLog) -> ContainmentResult:
    try:
        return await contain(
            exposure_id=1, account=AccountRef(login="partner1"), infected_at=None,
            first_seen=datetime(2026, 3, 1, tzinfo=UTC), responder=r, log=log, dry_run=False,
            decided_by="policy", sessions_only=True, portal=COOKIE, portal_hook=r,
        )  # fmt: skip
    finally:
        await r.aclose()


async def test_back_channel_logout_confirms_the_portal_sessions_ended(realm: Realm) -> None:
    log = MemoryActionLog()
    result = await cookie(realm.responder(), log)
    assert result.status is ContainmentStatus.CONTAINED
    assert realm.idp.backchannel == [(LOGOUT_URL, "kc-1")]
    assert log.steps() == [("end_portal_sessions", "done"), ("revoke_sessions", "done")]
    clients = realm.idp.calls_to("GET", f"{ADMIN}/clients")
    assert [c.query for c in clients] == [{"clientId": "partner-portal"}]
    assert (
        f"portal sessions ended: Keycloak logged the user out and sent {PORTAL} (client "
        "partner-portal) a back-channel logout for 1 session(s)"
    ) in result.headline


async def test_client_without_back_channel_logout_is_not_confirmed(realm: Realm) -> None:
    realm.idp.clients["partner-portal"] = keycloak_client("partner-portal")
    log = MemoryActionLog()
    result = await cookie(realm.responder(), log)
    assert result.status is ContainmentStatus.PARTIAL
    assert log.steps() == [("end_portal_sessions", "skipped"), ("revoke_sessions", "done")]
    assert realm.idp.backchannel == []
    assert (
        "NOT DONE: portal sessions ended (client partner-portal has no back-channel logout URL: "
        f"Keycloak's logout does not reach {PORTAL}); to do: ask the {PORTAL} team to end every "
        "session of partner1 now, or configure OIDC back-channel logout for client partner-portal"
    ) in result.headline
    assert result.headline.startswith(
        "PARTIALLY contained in keycloak. identity provider sessions revoked"
    )


async def test_no_keycloak_session_at_the_portal_client_is_not_confirmed(realm: Realm) -> None:
    realm.user.client_sessions = ["account-console"]
    log = MemoryActionLog()
    result = await cookie(realm.responder(), log)
    assert result.status is ContainmentStatus.PARTIAL
    assert realm.idp.backchannel == []
    assert "holds no session of this user at client partner-portal" in result.headline
    # The hook did not log the user out; the IdP step did, once.
    assert len(realm.idp.calls_to("POST", f"{ADMIN}/users/kc-1/logout")) == 1


async def test_unmapped_portal_and_unknown_client(realm: Realm) -> None:
    log = MemoryActionLog()
    result = await cookie(realm.responder(portal_clients={}), log)
    assert result.status is ContainmentStatus.PARTIAL
    assert "no Keycloak client configured for" in result.headline
    del realm.idp.clients["partner-portal"]
    result = await cookie(realm.responder(), MemoryActionLog())
    assert result.status is ContainmentStatus.PARTIAL
    assert "client partner-portal is not in the realm" in result.headline


async def test_expired_token_is_refreshed_and_403_is_a_clear_failure(realm: Realm) -> None:
    realm.idp.script("GET", f"{ADMIN}/clients", answer(401, {"error": "HTTP 401 Unauthorized"}))
    r = realm.responder()
    user = await r.find_user(AccountRef(login="partner1"))
    assert user is not None
    step = await r.end_portal_sessions(user, COOKIE, dry_run=False)
    assert step.outcome is Outcome.DONE
    realm.idp.script("GET", f"{ADMIN}/clients", answer(403, {"error": "HTTP 403 Forbidden"}))
    step = await r.end_portal_sessions(user, COOKIE, dry_run=False)
    await r.aclose()
    assert step.outcome is Outcome.FAILED and not step.retryable
    assert step.detail == "portal client lookup answered HTTP 403 HTTP 403 Forbidden"


async def test_dry_run_reads_the_client_and_changes_nothing(realm: Realm) -> None:
    r = realm.responder()
    user = await r.find_user(AccountRef(login="partner1"))
    assert user is not None
    step = await r.end_portal_sessions(user, COOKIE, dry_run=True)
    await r.aclose()
    assert step.outcome is Outcome.DRY_RUN
    assert not realm.idp.calls_to("POST", f"{ADMIN}/users/kc-1/logout")


async def test_configured_as_the_portals_session_hook(realm: Realm) -> None:
    roles = read_roles(
        {"keycloak": {"portals": [PORTAL], "portal_clients": {PORTAL: "partner-portal"}}},
        portals=[PORTAL],
    )
    built = {"keycloak": realm.responder(**roles.sections["keycloak"])}
    hooks = portal_hooks(roles, built)
    assert hooks[PORTAL] is built["keycloak"]
    await built["keycloak"].aclose()


def test_keycloak_ending_a_portals_sessions_is_still_the_default_idp() -> None:
    kc, ldap, hook = object(), object(), object()
    both = {"keycloak": kc, "ldap": ldap}
    assert default_provider(both, "ldap", [kc]) == "keycloak"  # type: ignore[arg-type,list-item]
    with_hook = {"okta": kc, "webhook": hook, "ldap": ldap}
    assert default_provider(with_hook, "ldap", [hook]) == "okta"  # type: ignore[arg-type,list-item]
    assert default_provider({"a": kc, "b": ldap}, None, []) is None  # type: ignore[dict-item]
