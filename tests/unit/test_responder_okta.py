"""Okta responder against a local server answering like the Okta Management API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from monitor.containment import ContainmentResult, ContainmentStatus, contain
from monitor.errors import ConfigError, ProviderError
from monitor.plugins import Family, build
from monitor.responder import AccountRef
from monitor.responders.okta import OktaResponder
from monitor.types import Outcome
from tests.servers.idp import (
    OKTA_TOKEN,
    FakeIdP,
    FakeUser,
    MemoryActionLog,
    RecordingSleep,
    answer,
    hang,
    okta_app,
    serve,
)

ENV = {"CW_OKTA_TOKEN": OKTA_TOKEN}
INFECTED = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Okta:
    idp: FakeIdP
    url: str
    sleep: RecordingSleep
    partner: FakeUser

    def responder(self, **extra: object) -> OktaResponder:
        cfg = {"base_url": self.url, "token_env": "CW_OKTA_TOKEN", "timeout": 0.5, **extra}
        return OktaResponder.from_config(cfg, env=ENV, sleep=self.sleep)


@pytest_asyncio.fixture
async def okta() -> AsyncIterator[Okta]:
    idp = FakeIdP()
    partner = idp.add(FakeUser(id="00u1", login="partner1@gmail.com", email="partner1@gmail.com"))
    idp.add(
        FakeUser(id="00u2", login="bob@partner.example", email="bob@partner.example", external=True)
    )
    async with serve(okta_app(idp)) as url:
        yield Okta(idp, url, RecordingSleep(), partner)


async def test_find_user_by_login(okta: Okta) -> None:
    r = okta.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@gmail.com"))
    finally:
        await r.aclose()
    assert user is not None
    assert (user.user_id, user.login, user.external, user.enabled) == (
        "00u1",
        "partner1@gmail.com",
        False,
        True,
    )
    assert user.password_changed_at == datetime(2026, 1, 10, tzinfo=UTC)
    [call] = okta.idp.calls
    assert (call.method, call.path) == ("GET", "/api/v1/users/partner1@gmail.com")
    assert call.headers["Authorization"] == f"SSWS {OKTA_TOKEN}"


async def test_find_user_falls_back_to_email_search_and_flags_federated(okta: Okta) -> None:
    r = okta.responder()
    try:
        user = await r.find_user(AccountRef(login="bob", email="bob@partner.example"))
        missing = await r.find_user(AccountRef(login="nobody", email="nobody@x.example"))
    finally:
        await r.aclose()
    assert user is not None and (user.user_id, user.external) == ("00u2", True)
    assert missing is None
    search = okta.idp.calls_to("GET", "/api/v1/users")
    assert [c.query for c in search] == [
        {"search": 'profile.email eq "bob@partner.example"'},
        {"search": 'profile.email eq "nobody@x.example"'},
    ]


async def test_contain_expires_with_temp_password_then_clears_sessions(okta: Okta) -> None:
    r, log = okta.responder(), MemoryActionLog()
    try:
        result = await contain(
            exposure_id=1,
            account=AccountRef(login="partner1@gmail.com"),
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
    expire = okta.idp.calls_to(
        "POST", "/api/v1/users/00u1/lifecycle/expire_password_with_temp_password"
    )
    assert [c.query for c in expire] == [{"revokeSessions": "true"}]
    sessions = okta.idp.calls_to("DELETE", "/api/v1/users/00u1/sessions")
    assert [c.query for c in sessions] == [{"oauthTokens": "true"}]
    assert okta.partner.password != "Leaked#Pass1" and okta.partner.must_change
    assert okta.partner.sessions_revoked == 2
    assert log.steps() == [
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "done"),
    ]
    assert log.rows[1].request_id == "req-okta-2"  # rows[0]: the reset, started
    assert "TempPw" not in " ".join(row.detail for row in log.rows)  # temp password discarded


async def test_reset_password_mode(okta: Okta) -> None:
    r = okta.responder(reset_mode="reset_password")
    try:
        user = await r.find_user(AccountRef(login="partner1@gmail.com"))
        assert user is not None
        step = await r.reset_password(user, dry_run=False)
    finally:
        await r.aclose()
    assert step.outcome is Outcome.DONE
    [call] = okta.idp.calls_to("POST", "/api/v1/users/00u1/lifecycle/reset_password")
    # With sendEmail=false the only reset link would be thrown away: the user gets it.
    assert call.query == {"sendEmail": "true", "revokeSessions": "true"}
    assert okta.partner.password is None  # old password dead


async def test_federated_user_is_suspended(okta: Okta) -> None:
    r, log = okta.responder(), MemoryActionLog()
    try:
        result = await contain(
            exposure_id=2,
            account=AccountRef(login="bob@partner.example"),
            infected_at=INFECTED,
            first_seen=None,
            responder=r,
            log=log,
            dry_run=False,
            decided_by="policy",
        )
    finally:
        await r.aclose()
    assert result.status is ContainmentStatus.BLOCKED
    assert len(okta.idp.calls_to("POST", "/api/v1/users/00u2/lifecycle/suspend")) == 1
    assert len(okta.idp.calls_to("DELETE", "/api/v1/users/00u2/sessions")) == 1
    assert not okta.idp.calls_to(
        "POST", "/api/v1/users/00u2/lifecycle/expire_password_with_temp_password"
    )


async def test_dry_run_changes_nothing(okta: Okta) -> None:
    r, log = okta.responder(), MemoryActionLog()
    try:
        result = await contain(
            exposure_id=3,
            account=AccountRef(login="partner1@gmail.com"),
            infected_at=INFECTED,
            first_seen=None,
            responder=r,
            log=log,
            dry_run=True,
            decided_by="policy",
        )
    finally:
        await r.aclose()
    assert result.status is ContainmentStatus.DRY_RUN
    assert [c.method for c in okta.idp.calls] == ["GET"]
    assert okta.partner.password == "Leaked#Pass1"
    assert log.steps() == [
        ("reset_password", "dry_run"),
        ("require_change", "dry_run"),
        ("revoke_sessions", "dry_run"),
    ]


async def test_429_waits_for_rate_limit_reset_measured_against_date(okta: Okta) -> None:
    date = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    okta.idp.script(
        "GET",
        "/api/v1/users/partner1@gmail.com",
        answer(
            429,
            {
                "errorCode": "E0000047",
                "errorSummary": "API call exceeded rate limit due to too many requests.",
            },
            {
                "X-Rate-Limit-Limit": "600",
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Reset": str(int(date.timestamp()) + 7),
                "Date": "Sun, 22 Nov 2026 10:00:00 GMT",
            },
        ),
    )
    r = okta.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@gmail.com"))
    finally:
        await r.aclose()
    assert user is not None
    assert okta.sleep.delays == [pytest.approx(7.1)]
    assert len(okta.idp.calls) == 2


async def test_401_is_not_retried(okta: Okta) -> None:
    r = OktaResponder.from_config(
        {"base_url": okta.url, "token_env": "BAD"}, env={"BAD": "wrong"}, sleep=okta.sleep
    )
    try:
        with pytest.raises(ProviderError) as info:
            await r.find_user(AccountRef(login="partner1@gmail.com"))
    finally:
        await r.aclose()
    assert (info.value.status, info.value.retryable) == (401, False)
    assert str(info.value) == "user lookup answered HTTP 401 E0000011"
    assert len(okta.idp.calls) == 1 and okta.sleep.delays == []


async def test_403_on_a_step_fails_without_retry(okta: Okta) -> None:
    okta.idp.script("DELETE", "/api/v1/users/00u1/sessions", answer(403, {"errorCode": "E0000006"}))
    r = okta.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@gmail.com"))
        assert user is not None
        step = await r.revoke_sessions(user, dry_run=False)
    finally:
        await r.aclose()
    assert (step.outcome, step.retryable, step.detail) == (
        Outcome.FAILED,
        False,
        "HTTP 403 E0000006",
    )
    assert len(okta.idp.calls_to("DELETE", "/api/v1/users/00u1/sessions")) == 1


async def test_5xx_and_timeouts_are_retried_then_give_up(okta: Okta) -> None:
    path = "/api/v1/users/00u1/sessions"
    okta.idp.script("DELETE", path, answer(503), hang(1.0), answer(204))
    r = okta.responder(max_retries=3, backoff_base=0.01)
    try:
        user = await r.find_user(AccountRef(login="partner1@gmail.com"))
        assert user is not None
        ok = await r.revoke_sessions(user, dry_run=False)
        okta.idp.script("DELETE", path, *(answer(500) for _ in range(4)))
        gave_up = await r.revoke_sessions(user, dry_run=False)
    finally:
        await r.aclose()
    assert ok.outcome is Outcome.DONE
    assert (gave_up.outcome, gave_up.retryable) == (Outcome.FAILED, True)
    assert gave_up.detail == "okta DELETE: gave up after 4 attempts (HTTP 500)"
    assert len(okta.idp.calls_to("DELETE", path)) == 3 + 4


async def test_404_on_step_is_not_found(okta: Okta) -> None:
    r = okta.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@gmail.com"))
        assert user is not None
        del okta.idp.users["00u1"]
        step = await r.revoke_sessions(user, dry_run=False)
    finally:
        await r.aclose()
    assert step.outcome is Outcome.NOT_FOUND


async def test_crash_between_steps_resumes_without_second_reset(okta: Okta) -> None:
    okta.idp.script("DELETE", "/api/v1/users/00u1/sessions", answer(403, {"errorCode": "E0000006"}))
    log, account = MemoryActionLog(), AccountRef(login="partner1@gmail.com")
    for _ in range(2):
        r = okta.responder()
        try:
            result = await contain(
                exposure_id=9,
                account=account,
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
    reset_path = "/api/v1/users/00u1/lifecycle/expire_password_with_temp_password"
    assert len(okta.idp.calls_to("POST", reset_path)) == 1
    assert len(okta.idp.calls_to("DELETE", "/api/v1/users/00u1/sessions")) == 2
    assert log.steps() == [
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "failed"),
        ("revoke_sessions", "done"),
    ]


def test_config_is_validated() -> None:
    with pytest.raises(ConfigError, match=r"\[responders.okta\] tokn_env: unknown key"):
        OktaResponder.from_config(
            {"base_url": "http://x", "token_env": "T", "tokn_env": "T"}, env={"T": "v"}
        )
    with pytest.raises(ConfigError, match="environment variable MISSING"):
        OktaResponder.from_config({"base_url": "http://x", "token_env": "MISSING"}, env={})
    with pytest.raises(ConfigError, match=r"\[responders.okta\] reset_mode: input should be"):
        OktaResponder.from_config(
            {"base_url": "http://x", "token_env": "T", "reset_mode": "x"}, env={"T": "v"}
        )


async def test_registry_builds_it() -> None:
    r = build(
        Family.RESPONDERS, "okta", {"base_url": "http://127.0.0.1:9", "token_env": "T"}, {"T": "v"}
    )
    assert r.name == "okta"
    await r.aclose()


async def test_long_rate_limit_wait_is_deferred_not_slept(okta: Okta) -> None:
    okta.idp.script(
        "GET",
        "/api/v1/users/partner1@gmail.com",
        answer(
            429,
            {"errorCode": "E0000047"},
            {"X-Rate-Limit-Reset": "1795345200", "Date": "Sun, 22 Nov 2026 10:00:00 GMT"},
        ),
    )
    r = okta.responder(max_delay=60)
    try:
        with pytest.raises(ProviderError) as info:
            await r.find_user(AccountRef(login="partner1@gmail.com"))
    finally:
        await r.aclose()
    assert info.value.retryable is True
    assert str(info.value) == "okta GET: asked to wait 3600s, more than 60s (HTTP 429)"
    assert okta.sleep.delays == [] and len(okta.idp.calls) == 1


def locked(okta: Okta, behaviour: str | None = None) -> FakeUser:
    """partner1, LOCKED_OUT; `behaviour`: how the fake answers a reset in that status."""
    okta.partner.extra["status"] = "LOCKED_OUT"
    if behaviour is not None:
        okta.partner.extra["locked_reset"] = behaviour
    return okta.partner


async def contain_partner(okta: Okta, **extra: object) -> tuple[ContainmentResult, MemoryActionLog]:
    r, log = okta.responder(**extra), MemoryActionLog()
    try:
        result = await contain(
            exposure_id=1, account=AccountRef(login="partner1@gmail.com"), infected_at=INFECTED,
            first_seen=None, responder=r, log=log, dry_run=False, decided_by="policy",
        )  # fmt: skip
    finally:
        await r.aclose()
    return result, log


def lifecycle_calls(okta: Okta) -> list[str]:
    return [c.path.rsplit("/", 1)[-1] for c in okta.idp.calls if "/lifecycle/" in c.path]


async def test_locked_out_user_refused_a_reset_is_unlocked_and_reset_at_once(okta: Okta) -> None:
    partner = locked(okta)  # Okta refuses the reset for the status: 403 E0000038
    result, log = await contain_partner(okta)
    assert result.status is ContainmentStatus.CONTAINED
    assert lifecycle_calls(okta) == [
        "expire_password_with_temp_password",
        "unlock",
        "expire_password_with_temp_password",
    ]
    assert partner.password != "Leaked#Pass1" and partner.extra["status"] == "PASSWORD_EXPIRED"
    assert log.steps() == [
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "done"),
    ]
    assert log.rows[1].detail.startswith(
        "unlocked (Okta refused the reset while LOCKED_OUT: HTTP 403 E0000038), then password "
        "replaced by a discarded temporary one"
    )


async def test_locked_out_user_whose_reset_okta_accepts_is_read_back(okta: Okta) -> None:
    partner = locked(okta, "accept")
    result, log = await contain_partner(okta, reset_mode="reset_password")
    assert result.status is ContainmentStatus.CONTAINED
    assert lifecycle_calls(okta) == ["reset_password"]  # no unlock: never a window
    assert partner.password is None and partner.extra["status"] == "RECOVERY"
    assert log.rows[1].detail.endswith("(was LOCKED_OUT, now RECOVERY)")


async def test_locked_out_user_still_locked_after_an_accepted_reset_is_not_contained(
    okta: Okta,
) -> None:
    partner = locked(okta, "accept_locked")
    result, log = await contain_partner(okta)
    assert result.status is not ContainmentStatus.CONTAINED
    assert result.status is ContainmentStatus.PARTIAL  # only the sessions are revoked
    assert partner.password == "Leaked#Pass1"  # works again once the lockout ends
    assert log.steps() == [
        ("reset_password", "skipped"),
        ("require_change", "skipped"),
        ("revoke_sessions", "done"),
    ]
    text = result.headline
    assert "Okta accepted the reset but the user is LOCKED_OUT" in text
    assert "unlock the user in Okta and reset the password at once" in text


async def test_locked_out_user_okta_will_not_unlock_needs_an_admin(okta: Okta) -> None:
    partner = locked(okta)
    okta.idp.script(
        "POST",
        "/api/v1/users/00u1/lifecycle/unlock",
        answer(403, {"errorCode": "E0000006", "errorSummary": "You do not have permission to "
               "perform the requested action", "errorCauses": []}),
    )  # fmt: skip
    result, log = await contain_partner(okta)
    assert result.status is not ContainmentStatus.CONTAINED
    # The change requirement is refused too (LOCKED_OUT); nothing is reset after a failed unlock.
    assert lifecycle_calls(okta) == [
        "expire_password_with_temp_password",
        "unlock",
        "expire_password",
    ]
    assert partner.password == "Leaked#Pass1" and partner.extra["status"] == "LOCKED_OUT"
    failed = log.rows[1]
    assert (failed.step, failed.outcome) == ("reset_password", "failed")
    assert failed.detail.startswith(
        "Okta refused the reset of the LOCKED_OUT user (HTTP 403 E0000038) and the unlock "
        "(HTTP 403 E0000006)"
    )
    assert "unlock the user in Okta" in result.headline


async def test_locked_out_user_unlocked_but_not_reset_says_the_password_works_again(
    okta: Okta,
) -> None:
    locked(okta)
    path = "/api/v1/users/00u1/lifecycle/expire_password_with_temp_password"
    refusal = {"errorCode": "E0000038", "errorSummary": "This operation is not allowed in the "
               "user's current status.", "errorCauses": []}  # fmt: skip
    denied = {"errorCode": "E0000006", "errorSummary": "You do not have permission to perform "
              "the requested action", "errorCauses": []}  # fmt: skip
    okta.idp.script("POST", path, answer(403, refusal), answer(403, denied))
    result, _ = await contain_partner(okta)
    assert result.status is not ContainmentStatus.CONTAINED
    assert "unlock" in lifecycle_calls(okta)
    assert okta.partner.password == "Leaked#Pass1"  # unlocked: the leaked password signs in
    assert "the leaked password signs in again: reset the password in Okta now" in result.headline


async def test_locked_out_dry_run_says_it_may_unlock(okta: Okta) -> None:
    locked(okta)
    r = okta.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@gmail.com"))
        assert user is not None and user.status == "LOCKED_OUT"
        step = await r.reset_password(user, dry_run=True)
    finally:
        await r.aclose()
    assert "unlocking the LOCKED_OUT user first if Okta refuses it" in step.detail
    assert lifecycle_calls(okta) == []


async def test_locked_out_directory_user_is_never_unlocked_through_okta(okta: Okta) -> None:
    partner = locked(okta)
    partner.extra["provider"] = "ACTIVE_DIRECTORY"
    result, log = await contain_partner(okta)
    assert result.status is not ContainmentStatus.CONTAINED
    # The password lives in AD (no directory responder here); Okta refuses the expiry while
    # LOCKED_OUT and cannot unlock a directory-sourced user: both are left to an admin.
    assert lifecycle_calls(okta) == ["expire_password"]
    assert log.steps()[:2] == [("reset_password", "skipped"), ("require_change", "failed")]
    assert "require a password change in Active Directory" in result.headline
