"""Entra ID responder against a local server answering like Microsoft Graph and its token endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from monitor.containment import ContainmentStatus, contain
from monitor.errors import ProviderError
from monitor.responder import AccountRef
from monitor.responders.entra import SELECT, EntraResponder
from monitor.types import Outcome
from tests.servers.idp import (
    ACCESS_TOKEN,
    FakeIdP,
    FakeUser,
    MemoryActionLog,
    RecordingSleep,
    answer,
    entra_app,
    hang,
    looks_random,
    serve,
)

ENV = {"CW_GRAPH_SECRET": "graph-secret"}
INFECTED = datetime(2026, 3, 1, tzinfo=UTC)
GUEST_UPN = "bob_partner.example#EXT#@tenant.onmicrosoft.com"


@dataclass
class Entra:
    idp: FakeIdP
    url: str
    sleep: RecordingSleep
    member: FakeUser
    guest: FakeUser

    def responder(self, **extra: object) -> EntraResponder:
        cfg = {
            "tenant": "tenant-1",
            "client_id": "app-1",
            "client_secret_env": "CW_GRAPH_SECRET",
            "base_url": self.url,
            "login_url": self.url,
            "timeout": 0.5,
            "backoff_base": 0.01,
            **extra,
        }
        return EntraResponder.from_config(cfg, env=ENV, sleep=self.sleep)


@pytest_asyncio.fixture
async def entra() -> AsyncIterator[Entra]:
    idp = FakeIdP()
    member = idp.add(
        FakeUser(id="11111111-aaaa", login="partner1@org.example", email="partner1@gmail.com")
    )
    guest = idp.add(
        FakeUser(id="22222222-bbbb", login=GUEST_UPN, email="bob@partner.example", external=True)
    )
    async with serve(entra_app(idp)) as url:
        yield Entra(idp, url, RecordingSleep(), member, guest)


async def test_token_then_select_lookup(entra: Entra) -> None:
    r = entra.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@org.example"))
    finally:
        await r.aclose()
    assert user is not None
    assert (user.user_id, user.external, user.enabled) == ("11111111-aaaa", False, True)
    assert user.password_changed_at == datetime(2026, 1, 10, tzinfo=UTC)
    token, get = entra.idp.calls
    assert (token.method, token.path) == ("POST", "/tenant-1/oauth2/v2.0/token")
    assert token.form() == {
        "client_id": "app-1",
        "client_secret": "graph-secret",
        "scope": "https://graph.microsoft.com/.default",
        "grant_type": "client_credentials",
    }
    assert (get.method, get.path, get.query) == (
        "GET",
        "/v1.0/users/partner1@org.example",
        {"$select": SELECT},
    )
    assert get.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


async def test_guest_found_by_mail_filter_and_blocked(entra: Entra) -> None:
    r, log = entra.responder(), MemoryActionLog()
    try:
        result = await contain(
            exposure_id=1,
            account=AccountRef(login="bob@partner.example", email="bob@partner.example"),
            infected_at=INFECTED,
            first_seen=None,
            responder=r,
            log=log,
            dry_run=False,
            decided_by="policy",
        )
    finally:
        await r.aclose()
    # Blocked, but Graph cannot end a guest's sessions: that is the home tenant's to do.
    assert result.status is ContainmentStatus.PARTIAL
    assert result.user is not None and result.user.external
    [search] = entra.idp.calls_to("GET", "/v1.0/users")
    assert search.query == {"$filter": "mail eq 'bob@partner.example'", "$select": SELECT}
    [patch] = entra.idp.calls_to("PATCH", "/v1.0/users/22222222-bbbb")
    assert patch.json() == {"accountEnabled": False}
    assert entra.guest.enabled is False and entra.guest.password == "Leaked#Pass1"
    assert not entra.idp.calls_to("POST", "/v1.0/users/22222222-bbbb/revokeSignInSessions")
    assert log.steps() == [("block", "done"), ("revoke_sessions", "skipped")]
    assert "to do: ask the partner's administrator to revoke the user's sessions in their " in (
        result.headline
    )


async def test_member_reset_with_random_password_then_revoke(entra: Entra) -> None:
    r, log = entra.responder(), MemoryActionLog()
    try:
        result = await contain(
            exposure_id=2,
            account=AccountRef(login="partner1@org.example"),
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
    [patch] = entra.idp.calls_to("PATCH", "/v1.0/users/11111111-aaaa")
    profile = patch.json()["passwordProfile"]
    assert set(profile) == {"password", "forceChangePasswordNextSignIn"}
    assert profile["forceChangePasswordNextSignIn"] is True
    assert looks_random(profile["password"])
    assert len(entra.idp.calls_to("POST", "/v1.0/users/11111111-aaaa/revokeSignInSessions")) == 1
    assert entra.member.sessions_revoked == 1 and entra.member.must_change
    assert log.rows[1].request_id == "req-graph-2"  # rows[0]: the reset, started
    assert len(entra.idp.calls_to("POST", "/tenant-1/oauth2/v2.0/token")) == 1  # token cached


async def test_mfa_mode_and_two_resets_mint_different_passwords(entra: Entra) -> None:
    r = entra.responder(force_mode="change_with_mfa")
    try:
        user = await r.find_user(AccountRef(login="partner1@org.example"))
        assert user is not None
        await r.reset_password(user, dry_run=False)
        await r.reset_password(user, dry_run=False)
    finally:
        await r.aclose()
    first, second = (
        c.json()["passwordProfile"]
        for c in entra.idp.calls_to("PATCH", "/v1.0/users/11111111-aaaa")
    )
    assert first["forceChangePasswordNextSignInWithMfa"] is True
    assert first["password"] != second["password"]


async def test_429_retry_after_then_success(entra: Entra) -> None:
    entra.idp.script(
        "POST",
        "/v1.0/users/11111111-aaaa/revokeSignInSessions",
        answer(
            429,
            {"error": {"code": "TooManyRequests", "message": "throttled"}},
            {"Retry-After": "3"},
        ),
    )
    r = entra.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@org.example"))
        assert user is not None
        step = await r.revoke_sessions(user, dry_run=False)
    finally:
        await r.aclose()
    assert step.outcome is Outcome.DONE
    assert entra.sleep.delays == [3.0]


async def test_403_authorization_denied_not_retried(entra: Entra) -> None:
    entra.idp.script(
        "PATCH",
        "/v1.0/users/11111111-aaaa",
        answer(
            403,
            {
                "error": {
                    "code": "Authorization_RequestDenied",
                    "message": "Insufficient privileges",
                }
            },
            {"request-id": "req-graph-403"},
        ),
    )
    r = entra.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@org.example"))
        assert user is not None
        step = await r.reset_password(user, dry_run=False)
    finally:
        await r.aclose()
    assert (step.outcome, step.retryable) == (Outcome.FAILED, False)
    assert step.detail == "HTTP 403 Authorization_RequestDenied"
    assert step.request_id == "req-graph-403"
    assert len(entra.idp.calls_to("PATCH", "/v1.0/users/11111111-aaaa")) == 1
    assert entra.member.password == "Leaked#Pass1"


async def test_bad_client_secret_is_a_provider_error(entra: Entra) -> None:
    r = EntraResponder.from_config(
        {
            "tenant": "tenant-1",
            "client_id": "app-1",
            "client_secret_env": "S",
            "base_url": entra.url,
            "login_url": entra.url,
        },
        env={"S": "nope"},
        sleep=entra.sleep,
    )
    try:
        with pytest.raises(ProviderError) as info:
            await r.find_user(AccountRef(login="partner1@org.example"))
    finally:
        await r.aclose()
    assert (info.value.status, info.value.retryable) == (401, False)
    assert "nope" not in str(info.value)
    assert len(entra.idp.calls) == 1


async def test_not_found_and_timeouts(entra: Entra) -> None:
    entra.idp.script("GET", "/v1.0/users/partner1@org.example", hang(1.0), hang(1.0))
    r = entra.responder(max_retries=1)
    try:
        assert await r.find_user(AccountRef(login="ghost@org.example")) is None
        with pytest.raises(ProviderError) as info:
            await r.find_user(AccountRef(login="partner1@org.example"))
    finally:
        await r.aclose()
    assert info.value.retryable is True
    assert str(info.value) == "entra GET: gave up after 2 attempts (timeout)"
