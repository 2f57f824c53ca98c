"""Keycloak responder against a local server answering like the Keycloak Admin REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from monitor.containment import ContainmentResult, ContainmentStatus, contain
from monitor.errors import ProviderError
from monitor.responder import AccountRef
from monitor.responders.keycloak import KeycloakResponder
from monitor.types import Outcome
from tests.servers.idp import (
    ACCESS_TOKEN,
    FakeIdP,
    FakeUser,
    MemoryActionLog,
    RecordingSleep,
    answer,
    keycloak_app,
    looks_random,
    serve,
)

ENV = {"CW_KC_SECRET": "kc-secret"}
INFECTED = datetime(2026, 3, 1, tzinfo=UTC)
ADMIN = "/admin/realms/partners"


@dataclass
class Keycloak:
    idp: FakeIdP
    url: str
    sleep: RecordingSleep
    local: FakeUser
    federated: FakeUser

    def responder(self, **extra: object) -> KeycloakResponder:
        cfg = {
            "base_url": self.url,
            "realm": "partners",
            "client_id": "credwatch",
            "client_secret_env": "CW_KC_SECRET",
            "timeout": 0.5,
            "backoff_base": 0.01,
            **extra,
        }
        return KeycloakResponder.from_config(cfg, env=ENV, sleep=self.sleep)


@pytest_asyncio.fixture
async def kc() -> AsyncIterator[Keycloak]:
    idp = FakeIdP()
    local = idp.add(
        FakeUser(
            id="kc-1",
            login="partner1",
            email="partner1@gmail.com",
            extra={"requiredActions": ["CONFIGURE_TOTP"]},
        )
    )
    federated = idp.add(
        FakeUser(id="kc-2", login="bob", email="bob@partner.example", external=True)
    )
    async with serve(keycloak_app(idp)) as url:
        yield Keycloak(idp, url, RecordingSleep(), local, federated)


async def test_lookup_by_username_then_email_reads_created_date(kc: Keycloak) -> None:
    r = kc.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@gmail.com", email="partner1@gmail.com"))
    finally:
        await r.aclose()
    assert user is not None
    assert (user.user_id, user.login, user.external) == ("kc-1", "partner1", False)
    assert user.password_changed_at == datetime(2026, 1, 10, tzinfo=UTC)  # from epoch ms
    token = kc.idp.calls[0]
    assert (token.method, token.path) == ("POST", "/realms/partners/protocol/openid-connect/token")
    assert token.form() == {
        "grant_type": "client_credentials",
        "client_id": "credwatch",
        "client_secret": "kc-secret",
    }
    searches = [c.query for c in kc.idp.calls_to("GET", f"{ADMIN}/users")]
    assert searches == [
        {"username": "partner1@gmail.com", "exact": "true"},
        {"email": "partner1@gmail.com", "exact": "true"},
    ]
    assert all(c.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}" for c in kc.idp.calls[1:])
    assert len(kc.idp.calls_to("GET", f"{ADMIN}/users/kc-1/credentials")) == 1


async def test_contain_temporary_password_then_logout(kc: Keycloak) -> None:
    r, log = kc.responder(), MemoryActionLog()
    try:
        result = await contain(
            exposure_id=1,
            account=AccountRef(login="partner1"),
            infected_at=INFECTED,
            first_seen=None,
            responder=r,
            log=log,
            dry_run=False,
            decided_by="policy",
        )
    finally:
        await r.aclose()
    assert result.status is ContainmentStatus.CONTAINED
    [put] = kc.idp.calls_to("PUT", f"{ADMIN}/users/kc-1/reset-password")
    body = put.json()
    assert (set(body), body["type"], body["temporary"]) == (
        {"type", "value", "temporary"},
        "password",
        True,
    )
    assert looks_random(body["value"])
    assert len(kc.idp.calls_to("POST", f"{ADMIN}/users/kc-1/logout")) == 1
    assert kc.local.must_change and kc.local.sessions_revoked == 1


async def contain_login(
    r: KeycloakResponder, login: str, exposure_id: int
) -> tuple[ContainmentResult, MemoryActionLog]:
    log = MemoryActionLog()
    try:
        result = await contain(
            exposure_id=exposure_id,
            account=AccountRef(login=login),
            infected_at=INFECTED,
            first_seen=None,
            responder=r,
            log=log,
            dry_run=False,
            decided_by="policy",
        )
    finally:
        await r.aclose()
    return result, log


async def test_brokered_user_disabled_with_merged_put(kc: Keycloak) -> None:
    kc.idp.add(FakeUser(id="kc-9", login="gina", email="gina@partner.example", password=None))
    result, _ = await contain_login(kc.responder(), "gina", 2)
    assert result.status is ContainmentStatus.BLOCKED
    [put] = kc.idp.calls_to("PUT", f"{ADMIN}/users/kc-9")
    body = put.json()
    assert body["enabled"] is False
    assert body["createdTimestamp"] == 1700000000000  # the rest of the representation kept
    assert body["requiredActions"] == []
    assert not kc.idp.calls_to("PUT", f"{ADMIN}/users/kc-9/reset-password")


async def test_read_only_federated_user_needs_a_directory_reset(kc: Keycloak) -> None:
    """Keycloak cannot write a READ_ONLY federation's password: neither block nor claim a reset."""
    result, log = await contain_login(kc.responder(), "bob", 3)
    assert result.status is ContainmentStatus.PARTIAL
    assert log.steps() == [
        ("reset_password", "skipped"),
        ("require_change", "skipped"),
        ("revoke_sessions", "done"),
    ]
    assert "ldap-provider-1 (edit mode READ_ONLY)" in result.headline
    assert "to do: reset the password in the directory behind Keycloak" in result.headline
    assert not kc.idp.calls_to("PUT", f"{ADMIN}/users/kc-2")  # never disabled
    assert not kc.idp.calls_to("PUT", f"{ADMIN}/users/kc-2/reset-password")
    assert kc.federated.enabled and kc.federated.sessions_revoked == 1


async def test_writable_federated_user_is_reset_through_keycloak(kc: Keycloak) -> None:
    carl = kc.idp.add(
        FakeUser(
            id="kc-3",
            login="carl",
            email="carl@partner.example",
            external=True,
            extra={"federationLink": "ldap-writable"},
        )
    )
    result, log = await contain_login(kc.responder(), "carl", 4)
    assert result.status is ContainmentStatus.CONTAINED
    assert log.steps() == [
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "done"),
    ]
    assert looks_random(carl.password) and carl.must_change and carl.enabled


async def test_a_401_after_a_cached_token_refreshes_it_once(kc: Keycloak) -> None:
    r = kc.responder()
    try:
        assert await r.find_user(AccountRef(login="partner1")) is not None
        tokens = len(kc.idp.calls_to("POST", "/realms/partners/protocol/openid-connect/token"))
        kc.idp.script("GET", f"{ADMIN}/users", answer(401, {"error": "HTTP 401 Unauthorized"}))
        assert await r.find_user(AccountRef(login="partner1")) is not None
        kc.idp.script("POST", f"{ADMIN}/users/kc-1/logout", answer(401, {"error": "x"}))
        user = await r.find_user(AccountRef(login="partner1"))
        assert user is not None
        step = await r.revoke_sessions(user, dry_run=False)
    finally:
        await r.aclose()
    assert step.outcome is Outcome.DONE
    after = len(kc.idp.calls_to("POST", "/realms/partners/protocol/openid-connect/token"))
    assert after == tokens + 2


async def test_stale_is_not_reset(kc: Keycloak) -> None:
    kc.local.password_changed = datetime(2026, 3, 4, tzinfo=UTC)
    r, log = kc.responder(), MemoryActionLog()
    try:
        result = await contain(
            exposure_id=3,
            account=AccountRef(login="partner1"),
            infected_at=INFECTED,
            first_seen=None,
            responder=r,
            log=log,
            dry_run=False,
            decided_by="policy",
        )
    finally:
        await r.aclose()
    assert result.status is ContainmentStatus.STALE
    assert not kc.idp.calls_to("PUT", f"{ADMIN}/users/kc-1/reset-password")


async def test_proxy_429_and_5xx_retried_then_400_not(kc: Keycloak) -> None:
    path = f"{ADMIN}/users/kc-1/reset-password"
    kc.idp.script(
        "PUT",
        path,
        answer(429, "slow down", {"Retry-After": "2"}),
        answer(502, "bad gateway"),
        answer(400, {"error": "invalidPasswordHistoryMessage"}),
    )
    r = kc.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1"))
        assert user is not None
        step = await r.reset_password(user, dry_run=False)
    finally:
        await r.aclose()
    assert (step.outcome, step.retryable, step.detail) == (
        Outcome.FAILED,
        False,
        "HTTP 400 invalidPasswordHistoryMessage",
    )
    assert len(kc.idp.calls_to("PUT", path)) == 3
    assert kc.sleep.delays[0] == 2.0 and len(kc.sleep.delays) == 2


async def test_401_lookup_and_unknown_user(kc: Keycloak) -> None:
    r = kc.responder()
    try:
        assert await r.find_user(AccountRef(login="ghost", email="ghost@x.example")) is None
        assert await r.find_user(AccountRef(login="x", idp_user_id="missing-id")) is None
        denied = answer(401, {"error": "HTTP 401 Unauthorized"})
        kc.idp.script("GET", f"{ADMIN}/users", denied, denied)  # refreshed once, refused again
        with pytest.raises(ProviderError) as info:
            await r.find_user(AccountRef(login="partner1"))
    finally:
        await r.aclose()
    assert (info.value.status, info.value.retryable) == (401, False)


async def test_crash_between_steps_resumes(kc: Keycloak) -> None:
    kc.idp.script(
        "POST", f"{ADMIN}/users/kc-1/logout", answer(403, {"error": "HTTP 403 Forbidden"})
    )
    log, account = MemoryActionLog(), AccountRef(login="partner1")
    statuses = []
    for _ in range(2):
        r = kc.responder()
        try:
            result = await contain(
                exposure_id=4,
                account=account,
                infected_at=INFECTED,
                first_seen=None,
                responder=r,
                log=log,
                dry_run=False,
                decided_by="policy",
            )
            statuses.append(result.status)
        finally:
            await r.aclose()
    # A definite refusal of the revoke leaves the exposure partially contained, not contained.
    assert statuses == [ContainmentStatus.PARTIAL, ContainmentStatus.CONTAINED]
    assert len(kc.idp.calls_to("PUT", f"{ADMIN}/users/kc-1/reset-password")) == 1
    assert len(kc.idp.calls_to("POST", f"{ADMIN}/users/kc-1/logout")) == 2
