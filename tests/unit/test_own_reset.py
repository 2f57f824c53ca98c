"""Our own password reset is never read as the user's: a lost reply or a kill right after the
provider applied it is resumed to contained, never reported stale."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from monitor.containment import ContainmentResult, ContainmentStatus, contain
from monitor.responder import AccountRef, IdentityUser, StepResult
from monitor.responders.entra import EntraResponder
from tests.servers.idp import FakeIdP, FakeUser, MemoryActionLog, entra_app, looks_random, serve
from tests.unit.test_responder_entra import ENV

INFECTED = datetime(2026, 3, 1, tzinfo=UTC)
PATH = "/v1.0/users/11111111-aaaa"
ACCOUNT = AccountRef(login="partner1@org.example")


def entra(url: str) -> EntraResponder:
    cfg = {
        "tenant": "tenant-1", "client_id": "app-1", "client_secret_env": "CW_GRAPH_SECRET",
        "base_url": url, "login_url": url, "timeout": 2.0, "max_retries": 0,
    }  # fmt: skip
    return EntraResponder.from_config(cfg, env=ENV)


async def run(responder: EntraResponder, log: MemoryActionLog) -> ContainmentResult:
    try:
        return await contain(
            exposure_id=1, account=ACCOUNT, infected_at=INFECTED, first_seen=None,
            responder=responder, log=log, dry_run=False, decided_by="policy",
        )  # fmt: skip
    finally:
        await responder.aclose()


def resets(idp: FakeIdP) -> int:
    """PATCHes that set a password (a change requirement alone sets only the flag)."""
    return sum("password" in c.json()["passwordProfile"] for c in idp.calls_to("PATCH", PATH))


def member(idp: FakeIdP) -> FakeUser:
    return idp.add(FakeUser(id="11111111-aaaa", login="partner1@org.example", email="p1@x.example"))


async def test_lost_reply_to_our_reset_resumes_to_contained() -> None:
    idp = FakeIdP()
    user = member(idp)
    idp.lose_reply("PATCH", PATH)
    log = MemoryActionLog()
    async with serve(entra_app(idp)) as url:
        first = await run(entra(url), log)
        assert (first.status, first.retryable) == (ContainmentStatus.FAILED, True)
        assert looks_random(user.password) and user.must_change  # the provider applied it
        assert user.password_changed is not None and user.password_changed > INFECTED
        second = await run(entra(url), log)
    assert second.status is ContainmentStatus.CONTAINED
    assert second.freshness is None  # the change date is ours: never judged as the user's
    assert resets(idp) == 1  # not reset twice
    assert user.sessions_revoked == 1 and user.must_change
    assert log.steps() == [
        ("reset_password", "failed"),
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "done"),
    ]
    assert "its reply was lost" in log.rows[2].detail


class KilledAfterReset(EntraResponder):
    """The process dies right after the provider applied the reset."""

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        await super().reset_password(user, dry_run=dry_run)
        raise asyncio.CancelledError


async def test_kill_after_the_provider_applied_our_reset_resumes_to_contained() -> None:
    idp = FakeIdP()
    user = member(idp)
    log = MemoryActionLog()
    async with serve(entra_app(idp)) as url:
        cfg = {
            "tenant": "tenant-1", "client_id": "app-1", "client_secret_env": "CW_GRAPH_SECRET",
            "base_url": url, "login_url": url,
        }  # fmt: skip
        killed = KilledAfterReset.from_config(cfg, env=ENV)
        try:
            await run(killed, log)
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the run was not killed")
        assert [(r.step, r.outcome.value) for r in log.rows] == [("reset_password", "started")]
        assert looks_random(user.password)
        result = await run(entra(url), log)
    assert result.status is ContainmentStatus.CONTAINED
    assert resets(idp) == 1
    assert user.sessions_revoked == 1 and user.must_change


async def test_reset_started_but_not_applied_is_done_again() -> None:
    idp = FakeIdP()
    user = member(idp)
    idp.script("PATCH", PATH, lambda request: asyncio.sleep(5))  # type: ignore[arg-type,return-value]
    log = MemoryActionLog()
    async with serve(entra_app(idp)) as url:
        first = await run(entra(url), log)
        assert first.status is ContainmentStatus.FAILED and user.password == "Leaked#Pass1"
        second = await run(entra(url), log)
    assert second.status is ContainmentStatus.CONTAINED
    assert looks_random(user.password)
    assert len(idp.calls_to("PATCH", PATH)) == 2
