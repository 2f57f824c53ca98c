"""Okta users in every lifecycle status. The fake answers each lifecycle call as Okta's Users API
documents it for the user's status, and refuses where the documentation is silent unless a test
says otherwise; containment then claims only what took effect, and says what is left."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from monitor.advice import ContainmentRecord, Facts, Situation, StepRecord, advise
from monitor.containment import ContainmentResult, ContainmentStatus, contain
from monitor.inert import plain
from monitor.responder import AccountRef
from monitor.responders.okta import OktaResponder
from monitor.types import CredentialKind, Exposure, ExposureStatus, Outcome, Reason, Severity
from tests.servers.idp import (
    OKTA_TOKEN,
    RESETS,
    FakeIdP,
    FakeUser,
    MemoryActionLog,
    answer,
    okta_app,
    okta_signs_in,
    okta_status,
    serve,
)

ENV = {"CW_OKTA_TOKEN": OKTA_TOKEN}
INFECTED = datetime(2026, 3, 1, tzinfo=UTC)
LEAKED = "Leaked#Pass1"
ERROR_KEYS = {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
STATUSES = (
    "ACTIVE", "PASSWORD_EXPIRED", "RECOVERY", "LOCKED_OUT", "SUSPENDED", "DEPROVISIONED",
    "STAGED", "PROVISIONED",
)  # fmt: skip
CANNOT_SIGN_IN = ("SUSPENDED", "DEPROVISIONED", "STAGED", "PROVISIONED", "RECOVERY")


@dataclass
class Org:
    idp: FakeIdP
    url: str

    def add(
        self,
        status: str,
        *,
        password: str | None = LEAKED,
        undocumented: str | None = None,
        external: bool = False,
    ) -> FakeUser:
        """A user in `status`; `undocumented`: how the fake answers a call the docs leave open."""
        uid = f"00{status.lower()[:6]}"
        extra: dict[str, Any] = {"status": status}
        if undocumented is not None:
            extra["undocumented"] = undocumented
        user = FakeUser(
            id=uid, login=f"{uid}@org.example", email=f"{uid}@org.example", password=password,
            external=external, extra=extra,
        )  # fmt: skip
        return self.idp.add(user)

    def responder(self, **extra: object) -> OktaResponder:
        cfg = {"base_url": self.url, "token_env": "CW_OKTA_TOKEN", "timeout": 2.0, **extra}
        return OktaResponder.from_config(cfg, env=ENV)

    async def contain(
        self, user: FakeUser, *, dry_run: bool = False, **extra: object
    ) -> tuple[ContainmentResult, MemoryActionLog]:
        r, log = self.responder(**extra), MemoryActionLog()
        try:
            result = await contain(
                exposure_id=1, account=AccountRef(login=user.login), infected_at=INFECTED,
                first_seen=None, responder=r, log=log, dry_run=dry_run, decided_by="policy",
            )  # fmt: skip
        finally:
            await r.aclose()
        return result, log

    def lifecycle(self, user: FakeUser) -> list[str]:
        prefix = f"/api/v1/users/{user.id}/lifecycle/"
        return [c.path[len(prefix) :] for c in self.idp.calls if c.path.startswith(prefix)]

    async def post(self, user: FakeUser, op: str) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{self.url}/api/v1/users/{user.id}/lifecycle/{op}",
                headers={"Authorization": f"SSWS {OKTA_TOKEN}", "Accept": "application/json"},
            ) as reply,
        ):
            return reply.status, await reply.json()


@pytest_asyncio.fixture
async def org() -> AsyncIterator[Org]:
    idp = FakeIdP()
    async with serve(okta_app(idp)) as url:
        yield Org(idp, url)


# -- the fake: Okta's documented answers, strict where the docs say nothing ---------------------


def refused(answer: tuple[int, Any], status: int, code: str) -> bool:
    got, body = answer
    return got == status and set(body) == ERROR_KEYS and body["errorCode"] == code


async def test_fake_suspends_only_active_users_and_unsuspends_only_suspended_ones(
    org: Org,
) -> None:
    user = org.add("ACTIVE")
    assert (await org.post(user, "suspend"))[0] == 200
    assert okta_status(user) == "SUSPENDED" and not user.enabled
    assert refused(await org.post(user, "suspend"), 400, "E0000001")
    assert (await org.post(user, "unsuspend"))[0] == 200
    assert okta_status(user) == "ACTIVE" and user.enabled
    assert refused(await org.post(user, "unsuspend"), 400, "E0000001")
    for status in ("STAGED", "PROVISIONED", "RECOVERY", "PASSWORD_EXPIRED", "DEPROVISIONED"):
        other = org.add(status)
        assert refused(await org.post(other, "suspend"), 400, "E0000001"), status
        assert refused(await org.post(other, "unsuspend"), 400, "E0000001"), status
        assert okta_status(other) == status


async def test_fake_moves_an_active_user_as_each_call_documents(org: Org) -> None:
    moves = {
        "reset_password": "RECOVERY",
        "expire_password": "PASSWORD_EXPIRED",
        "expire_password_with_temp_password": "PASSWORD_EXPIRED",
        "deactivate": "DEPROVISIONED",
    }
    for op, status in moves.items():
        org.idp.users.clear()
        user = org.add("ACTIVE")
        assert (await org.post(user, op))[0] == 200, op
        assert okta_status(user) == status, op
    assert user.password == LEAKED and not user.enabled  # deactivated: nothing signs in
    assert not okta_signs_in(user, LEAKED) or okta_status(user) == "DEPROVISIONED"
    # Deactivating a deactivated user: not documented, refused.
    assert refused(await org.post(user, "deactivate"), 403, "E0000038")


async def test_fake_never_resets_a_suspended_user(org: Org) -> None:
    # Documented: a suspended user can only be unsuspended or deactivated.
    user = org.add("SUSPENDED", undocumented="accept")
    for op in RESETS:
        assert refused(await org.post(user, op), 403, "E0000038"), op
    assert okta_status(user) == "SUSPENDED" and user.password == LEAKED


@pytest.mark.parametrize(
    "status", ["STAGED", "PROVISIONED", "DEPROVISIONED", "RECOVERY", "PASSWORD_EXPIRED"]
)
async def test_fake_refuses_resets_the_docs_do_not_settle_unless_told(
    org: Org, status: str
) -> None:
    user = org.add(status)
    for op in RESETS:
        assert refused(await org.post(user, op), 403, "E0000038"), op
    assert okta_status(user) == status and user.password == LEAKED
    user.extra["undocumented"] = "accept"
    assert (await org.post(user, "reset_password"))[0] == 200
    assert okta_status(user) == "RECOVERY" and user.password is None


async def test_fake_clears_sessions_in_every_status(org: Org) -> None:
    async with aiohttp.ClientSession() as http:
        for status in STATUSES:
            user = org.add(status)
            async with http.delete(
                f"{org.url}/api/v1/users/{user.id}/sessions",
                headers={"Authorization": f"SSWS {OKTA_TOKEN}"},
            ) as reply:
                assert reply.status == 204, status
            assert user.sessions_revoked == 1


# -- the responder: calls chosen by status, outcomes that are true ------------------------------


async def test_suspended_user_is_not_reset_and_the_admin_is_told_before_unsuspending(
    org: Org,
) -> None:
    user = org.add("SUSPENDED")
    result, log = await org.contain(user)
    assert result.status is ContainmentStatus.PARTIAL  # only the sessions are ended
    assert org.lifecycle(user) == []  # unsuspending here would undo an admin's block
    assert okta_status(user) == "SUSPENDED" and user.password == LEAKED
    assert user.sessions_revoked == 1
    assert log.steps() == [
        ("reset_password", "skipped"),
        ("require_change", "skipped"),
        ("revoke_sessions", "done"),
    ]
    text = result.headline
    assert "the leaked password signs in again once the user is unsuspended" in text
    assert "Unsuspend, then Reset Password" in text


async def test_deactivated_user_is_reported_as_already_deactivated(org: Org) -> None:
    user = org.add("DEPROVISIONED")
    result, log = await org.contain(user)
    assert result.status is ContainmentStatus.PARTIAL
    assert org.lifecycle(user) == []  # a reset could let a deactivated user sign in again
    assert okta_status(user) == "DEPROVISIONED" and user.password == LEAKED
    assert log.steps()[:2] == [("reset_password", "skipped"), ("require_change", "skipped")]
    text = result.headline
    assert "already deactivated: the user is DEPROVISIONED in Okta and nothing signs in" in text
    assert "if it is ever activated again, reset the password at once" in text


@pytest.mark.parametrize("status", ["STAGED", "PROVISIONED"])
async def test_unactivated_user_without_a_password_has_nothing_to_replace(
    org: Org, status: str
) -> None:
    user = org.add(status, password=None)
    result, log = await org.contain(user)
    # Never "replaced": nothing was, and nothing had to be; the admin reads exactly that.
    assert result.status is ContainmentStatus.PARTIAL
    assert org.lifecycle(user) == [] and okta_status(user) == status  # not activated by us
    assert log.steps() == [
        ("reset_password", "skipped"),
        ("require_change", "skipped"),
        ("revoke_sessions", "done"),
    ]
    text = result.headline
    assert f"no Okta password to replace: the user is {status}" in text
    assert "tell the user not to reuse the leaked password" in text


async def test_staged_user_with_a_password_is_left_to_replace_before_activation(
    org: Org,
) -> None:
    user = org.add("STAGED")  # created with a password, not activated
    result, log = await org.contain(user)
    assert result.status is ContainmentStatus.PARTIAL
    assert org.lifecycle(user) == [] and okta_status(user) == "STAGED"
    assert log.steps()[:2] == [("reset_password", "skipped"), ("require_change", "skipped")]
    text = result.headline
    assert "signs in once the user is activated" in text
    assert "Activate, then Reset Password" in text


async def test_unactivated_user_activated_meanwhile_is_retried_not_judged(org: Org) -> None:
    user = org.add("STAGED")
    moved = {"id": user.id, "status": "ACTIVE", "credentials": {"password": {}}}
    org.idp.script("GET", f"/api/v1/users/{user.id}", answer(200, moved))
    result, log = await org.contain(user)
    assert result.status is ContainmentStatus.FAILED and result.retryable
    assert org.lifecycle(user) == []
    assert log.steps() == [("reset_password", "failed")]
    assert log.rows[-1].detail == "the user moved from STAGED to ACTIVE meanwhile"


async def test_recovery_user_refused_a_new_reset_is_not_reported_replaced(org: Org) -> None:
    user = org.add("RECOVERY")
    result, log = await org.contain(user)
    assert result.status is ContainmentStatus.PARTIAL
    assert org.lifecycle(user) == ["expire_password_with_temp_password"]
    assert log.steps() == [
        ("reset_password", "failed"),
        ("require_change", "done"),  # RECOVERY: a new password must be set through the reset
        ("revoke_sessions", "done"),
    ]
    text = result.headline
    assert "Okta refused a new reset while the user is in RECOVERY (HTTP 403 E0000038)" in text
    assert "confirm with the user that the pending password reset is theirs" in text


@pytest.mark.parametrize("status", ["RECOVERY", "PASSWORD_EXPIRED"])
@pytest.mark.parametrize("mode", ["expire_with_temp_password", "reset_password"])
async def test_reset_okta_accepts_outside_active_is_contained_and_says_so(
    org: Org, status: str, mode: str
) -> None:
    user = org.add(status, undocumented="accept")
    result, log = await org.contain(user, reset_mode=mode)
    assert result.status is ContainmentStatus.CONTAINED
    assert len(org.lifecycle(user)) == 1 and user.password != LEAKED
    assert log.rows[1].detail.endswith(f"(was {status})")


async def test_password_expired_user_refused_a_reset_is_told_the_password_still_works(
    org: Org,
) -> None:
    user = org.add("PASSWORD_EXPIRED")
    result, log = await org.contain(user)
    assert result.status is ContainmentStatus.PARTIAL
    assert user.password == LEAKED and okta_signs_in(user, LEAKED)
    assert log.steps()[0] == ("reset_password", "failed")
    text = result.headline
    assert "the leaked password still signs in" in text
    assert "reset the password in Okta now" in text


async def test_deactivated_external_user_is_already_blocked_not_suspended(org: Org) -> None:
    user = org.add("DEPROVISIONED", external=True)
    result, log = await org.contain(user)
    assert result.status is ContainmentStatus.BLOCKED
    assert org.lifecycle(user) == []
    assert log.rows[0].detail == "already deactivated (DEPROVISIONED): cannot sign in"


async def test_dry_run_of_a_suspended_user_says_nothing_would_be_reset(org: Org) -> None:
    user = org.add("SUSPENDED")
    result, log = await org.contain(user, dry_run=True)
    assert result.status is ContainmentStatus.DRY_RUN
    assert [c.method for c in org.idp.calls] == ["GET"]
    assert log.rows[0].detail.startswith("not reset: the user is SUSPENDED in Okta")


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("mode", ["expire_with_temp_password", "reset_password"])
@pytest.mark.parametrize("undocumented", ["refuse", "accept"])
async def test_contained_only_when_the_leaked_password_is_dead_for_good(
    org: Org, status: str, mode: str, undocumented: str
) -> None:
    """Whatever Okta answers where its docs are silent: contained means the leaked password
    neither signs in nor would once an admin lifts the user's status, and a user that could not
    sign in was never moved to a status that can."""
    user = org.add(status, undocumented=undocumented)
    user.extra["locked_reset"] = undocumented
    result, _ = await org.contain(user, reset_mode=mode)
    if result.status is ContainmentStatus.CONTAINED:
        assert not okta_signs_in(user, LEAKED)
    else:
        assert result.status is ContainmentStatus.PARTIAL
        assert "; to do: " in result.headline
    if status in CANNOT_SIGN_IN:
        assert okta_status(user) in (*CANNOT_SIGN_IN, "PASSWORD_EXPIRED") and (
            okta_status(user) != "PASSWORD_EXPIRED" or user.password != LEAKED
        )
        assert status == "RECOVERY" or okta_status(user) == status


def advice_after(user: FakeUser, log: MemoryActionLog) -> tuple[Situation, str, str]:
    """The advice an admin reads from what was recorded: (situation, done, to do)."""
    exposure = Exposure(
        id=1, fingerprint="f" * 64, kind=CredentialKind.PASSWORD, host="portal.org.example",
        login=user.login, secret_hint="L…(12)", secret_length=12, reasons=(Reason.PORTAL,),
        severity=Severity.CRITICAL, status=ExposureStatus.NEW, domain="org.example",
        portal=None, partner=None, account_login=None, infected_at=None, first_seen=INFECTED,
        last_seen=INFECTED, sightings=1,
    )  # fmt: skip
    steps = [
        StepRecord(provider="okta", step=r.step, outcome=r.outcome, detail=r.detail)
        for r in log.rows
        if r.outcome is not Outcome.STARTED
    ]
    plan = ContainmentRecord(
        provider="okta", decision="contain", status="done", dry_run=False, attempts=1
    )
    advice = advise(Facts(exposure=exposure, containments=[plan], steps=steps))
    return advice.situation, plain(advice.done), " ".join(plain(line) for line in advice.todo)


@pytest.mark.parametrize(
    ("status", "left"),
    [
        ("SUSPENDED", "Unsuspend, then Reset Password"),
        ("DEPROVISIONED", "if it is ever activated again, reset the password at once"),
        ("STAGED", "Activate, then Reset Password"),
        ("RECOVERY", "confirm with the user that the pending password reset is theirs"),
        ("PASSWORD_EXPIRED", "reset the password in Okta now"),
    ],
)
async def test_advice_never_says_replaced_and_says_what_is_left(
    org: Org, status: str, left: str
) -> None:
    user = org.add(status)
    _, log = await org.contain(user)
    situation, done, todo = advice_after(user, log)
    assert situation is Situation.PARTIAL
    assert "replaced" not in done and "identity provider sessions revoked" in done
    assert left in todo
