"""Containment order, staleness, external users, dry run, failures and resuming after a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

from monitor.containment import ContainmentResult, ContainmentStatus, contain
from monitor.errors import ProviderError
from monitor.freshness import Freshness
from monitor.responder import AccountRef, IdentityUser, StepResult
from monitor.types import Outcome
from tests.servers.idp import MemoryActionLog

INFECTED = datetime(2026, 3, 1, tzinfo=UTC)
ACCOUNT = AccountRef(login="partner1@gmail.com", email="partner1@gmail.com")


class ScriptedResponder:
    """An identity provider in memory: answers from a script, remembers what it was asked."""

    name: ClassVar[str] = "fake"

    def __init__(
        self,
        *,
        user: IdentityUser | None,
        lookup_error: ProviderError | None = None,
        outcomes: dict[str, list[Outcome | Exception]] | None = None,
    ) -> None:
        self.user = user
        self.lookup_error = lookup_error
        self.outcomes = outcomes or {}
        self.calls: list[tuple[str, bool]] = []

    async def find_user(self, account: AccountRef) -> IdentityUser | None:
        self.calls.append(("find_user", False))
        if self.lookup_error is not None:
            raise self.lookup_error
        return self.user

    async def _step(self, step: str, dry_run: bool) -> StepResult:
        self.calls.append((step, dry_run))
        if dry_run:
            return StepResult(step=step, outcome=Outcome.DRY_RUN, detail="dry run: would")
        queue = self.outcomes.get(step, [])
        outcome = queue.pop(0) if queue else Outcome.DONE
        if isinstance(outcome, Exception):
            raise outcome
        return StepResult(step=step, outcome=outcome, retryable=outcome is Outcome.FAILED)

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        return await self._step("reset_password", dry_run)

    async def require_change(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        return await self._step("require_change", dry_run)

    async def revoke_sessions(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        return await self._step("revoke_sessions", dry_run)

    async def block(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        return await self._step("block", dry_run)

    async def aclose(self) -> None:
        return None


def user(*, changed: datetime | None = None, external: bool = False) -> IdentityUser:
    return IdentityUser(
        provider="fake",
        user_id="u1",
        login="partner1@gmail.com",
        email="partner1@gmail.com",
        password_changed_at=changed,
        external=external,
        enabled=True,
    )


async def run(
    responder: ScriptedResponder,
    log: MemoryActionLog,
    *,
    dry_run: bool = False,
    first_seen: datetime | None = None,
    infected: datetime | None = INFECTED,
) -> ContainmentResult:
    return await contain(
        exposure_id=7,
        account=ACCOUNT,
        infected_at=infected,
        first_seen=first_seen,
        responder=responder,
        log=log,
        dry_run=dry_run,
        decided_by="policy",
    )


async def test_live_user_is_reset_then_revoked() -> None:
    r, log = (
        ScriptedResponder(user=user(changed=datetime(2026, 1, 1, tzinfo=UTC))),
        MemoryActionLog(),
    )
    result = await run(r, log)
    assert result.status is ContainmentStatus.CONTAINED
    assert result.freshness is Freshness.LIVE
    assert r.calls == [
        ("find_user", False),
        ("reset_password", False),
        ("require_change", False),
        ("revoke_sessions", False),
    ]
    assert log.steps() == [
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "done"),
    ]
    assert {row.decided_by for row in log.rows} == {"policy"}


async def test_unknown_change_date_is_treated_as_live() -> None:
    r, log = ScriptedResponder(user=user(changed=None)), MemoryActionLog()
    result = await run(r, log)
    assert (result.status, result.freshness) == (ContainmentStatus.CONTAINED, Freshness.UNKNOWN)


async def test_stale_is_recorded_and_nothing_reset() -> None:
    r, log = (
        ScriptedResponder(user=user(changed=datetime(2026, 3, 5, tzinfo=UTC))),
        MemoryActionLog(),
    )
    result = await run(r, log)
    assert result.status is ContainmentStatus.STALE
    assert r.calls == [("find_user", False)]
    assert log.steps() == [("stale", "skipped")]
    assert (
        log.rows[0].detail
        == "password changed after the leak (2026-03-05T00:00:00+00:00); nothing reset"
    )


async def test_first_seen_used_without_infection_date() -> None:
    r, log = (
        ScriptedResponder(user=user(changed=datetime(2026, 3, 5, tzinfo=UTC))),
        MemoryActionLog(),
    )
    result = await run(r, log, infected=None, first_seen=datetime(2026, 3, 10, tzinfo=UTC))
    assert result.status is ContainmentStatus.CONTAINED


async def test_external_user_is_blocked_not_reset() -> None:
    r, log = ScriptedResponder(user=user(external=True)), MemoryActionLog()
    result = await run(r, log)
    assert result.status is ContainmentStatus.BLOCKED
    assert r.calls == [("find_user", False), ("block", False), ("revoke_sessions", False)]
    assert log.steps() == [("block", "done"), ("revoke_sessions", "done")]


async def test_not_found_and_lookup_failure_are_recorded() -> None:
    r, log = ScriptedResponder(user=None), MemoryActionLog()
    result = await run(r, log)
    assert (result.status, result.found) == (ContainmentStatus.NOT_FOUND, False)
    assert log.steps() == [("lookup", "not_found")]

    err = ProviderError("okta: GET failed after 4 attempts (timeout)", retryable=True)
    r2, log2 = ScriptedResponder(user=None, lookup_error=err), MemoryActionLog()
    result2 = await run(r2, log2)
    assert (result2.status, result2.retryable) == (ContainmentStatus.FAILED, True)
    assert log2.steps() == [("lookup", "failed")]
    assert log2.rows[0].retryable is True


async def test_dry_run_records_dry_run_and_a_later_real_run_acts() -> None:
    r, log = ScriptedResponder(user=user()), MemoryActionLog()
    result = await run(r, log, dry_run=True)
    assert result.status is ContainmentStatus.DRY_RUN
    assert r.calls == [
        ("find_user", False),
        ("reset_password", True),
        ("require_change", True),
        ("revoke_sessions", True),
    ]
    assert log.steps() == [
        ("reset_password", "dry_run"),
        ("require_change", "dry_run"),
        ("revoke_sessions", "dry_run"),
    ]
    result = await run(r, log)
    assert result.status is ContainmentStatus.CONTAINED
    assert log.steps()[3:] == [
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "done"),
    ]


async def test_failed_reset_stops_before_revoke() -> None:
    r = ScriptedResponder(user=user(), outcomes={"reset_password": [Outcome.FAILED]})
    log = MemoryActionLog()
    result = await run(r, log)
    assert (result.status, result.retryable) == (ContainmentStatus.FAILED, True)
    assert log.steps() == [("reset_password", "failed")]
    assert ("revoke_sessions", False) not in r.calls


async def test_crash_between_reset_and_revoke_resumes_at_revoke() -> None:
    # The reset's own timestamp would look "stale" on the second run: it must not stop it.
    reset_user = user(changed=datetime(2026, 11, 22, tzinfo=UTC))
    r = ScriptedResponder(user=user(), outcomes={"revoke_sessions": [RuntimeError("boom")]})
    log = MemoryActionLog()
    with pytest.raises(RuntimeError):
        await run(r, log)
    assert log.steps() == [
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "failed"),
    ]
    assert log.rows[3].detail == "crashed: RuntimeError"

    r.user = reset_user
    r.calls.clear()
    result = await run(r, log)
    assert result.status is ContainmentStatus.CONTAINED
    assert result.resumed == ("reset_password", "require_change")
    assert r.calls == [("find_user", False), ("revoke_sessions", False)]  # never reset twice
    assert log.steps()[3:] == [("revoke_sessions", "done")]

    r.calls.clear()
    again = await run(r, log)  # everything done: the provider is not even asked
    assert again.status is ContainmentStatus.CONTAINED
    assert r.calls == []
    assert again.resumed == ("require_change", "reset_password", "revoke_sessions")


async def test_pairs_are_independent() -> None:
    r, log = ScriptedResponder(user=user()), MemoryActionLog()
    await run(r, log)
    other = await contain(
        exposure_id=8,
        account=ACCOUNT,
        infected_at=INFECTED,
        first_seen=None,
        responder=r,
        log=log,
        dry_run=False,
        decided_by="admin:alice",
    )
    assert other.status is ContainmentStatus.CONTAINED
    # started, reset done, change done, revoke done
    assert [row.exposure_id for row in log.rows] == [7, 7, 7, 7, 8, 8, 8, 8]


async def test_the_infection_window_decides_whether_an_early_infection_date_is_believed() -> None:
    # Infected (says the victim's clock) 2025-06-01, first seen 2026-03-10; the password
    # changed 2025-09-01, between the two.
    infected, seen = datetime(2025, 6, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)
    changed = datetime(2025, 9, 1, tzinfo=UTC)

    async def within(days: int) -> ContainmentResult:
        r = ScriptedResponder(user=user(changed=changed))
        return await contain(
            exposure_id=7, account=ACCOUNT, infected_at=infected, first_seen=seen, responder=r,
            log=MemoryActionLog(), dry_run=False, decided_by="policy",
            window=timedelta(days=days),
        )  # fmt: skip

    # 282 days before the sighting: believed within a year, so the change came after the leak.
    assert (await within(365)).status is ContainmentStatus.STALE
    # Doubted within 90 days: the first sighting is the leak date, the change came before it.
    doubted = await within(90)
    assert (doubted.status, doubted.freshness) == (ContainmentStatus.CONTAINED, Freshness.LIVE)
