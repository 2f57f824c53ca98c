"""Contain one exposure in one identity provider, once, resumably: look up, check, reset, revoke."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from monitor.errors import CredwatchError
from monitor.freshness import Freshness, freshness
from monitor.responder import (
    STEP_BLOCK,
    STEP_RESET,
    STEP_REVOKE,
    AccountRef,
    IdentityUser,
    Responder,
    StepResult,
)
from monitor.types import Outcome

log = logging.getLogger(__name__)  # shadowed by the `log` argument inside contain()

STEP_LOOKUP = "lookup"
STEP_STALE = "stale"


class ActionLog(Protocol):
    """The audit trail. `done_steps` = steps whose recorded outcome for the pair is `done`."""

    async def done_steps(self, exposure_id: int, provider: str) -> set[str]: ...

    async def record(
        self,
        *,
        exposure_id: int,
        provider: str,
        step: str,
        outcome: Outcome,
        retryable: bool,
        decided_by: str,
        detail: str,
        request_id: str | None,
    ) -> None: ...


class ContainmentStatus(StrEnum):
    CONTAINED = "contained"  # password replaced and sessions revoked (or already done earlier)
    BLOCKED = "blocked"  # external user: sign-in blocked
    DRY_RUN = "dry_run"  # nothing changed; the steps say what would have been done
    STALE = "stale"  # password changed after the leak: nothing to do
    NOT_FOUND = "not_found"  # no such user in this identity provider
    FAILED = "failed"  # a step failed; `retryable` says whether to try again


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainmentResult:
    provider: str
    status: ContainmentStatus
    user: IdentityUser | None = None
    freshness: Freshness | None = None  # None: not checked (already reset by us earlier)
    steps: tuple[StepResult, ...] = ()  # steps attempted in this run, in order
    resumed: tuple[str, ...] = ()  # steps skipped because they were already done
    retryable: bool = False

    @property
    def found(self) -> bool:
        return self.status is not ContainmentStatus.NOT_FOUND and (
            self.user is not None or bool(self.resumed)
        )


async def contain(
    *,
    exposure_id: int,
    account: AccountRef,
    infected_at: datetime | None,
    first_seen: datetime | None,
    responder: Responder,
    log: ActionLog,
    dry_run: bool,
    decided_by: str,
    sessions_only: bool = False,
) -> ContainmentResult:
    """Run containment for (exposure, provider). Steps already done are never repeated, so a
    crash between reset and revoke resumes at revoke. Every attempt is recorded.

    `sessions_only` is for stolen session cookies: the password is not what leaked, so only the
    sessions are revoked, whatever the password's age."""
    provider = responder.name
    audit = log

    async def record(result: StepResult) -> None:
        await audit.record(
            exposure_id=exposure_id,
            provider=provider,
            step=result.step,
            outcome=result.outcome,
            retryable=result.retryable,
            decided_by=decided_by,
            detail=result.detail,
            request_id=result.request_id,
        )

    done = await audit.done_steps(exposure_id, provider)
    if sessions_only and STEP_REVOKE in done:
        return ContainmentResult(
            provider=provider, status=ContainmentStatus.CONTAINED, resumed=tuple(sorted(done))
        )
    if STEP_BLOCK in done or {STEP_RESET, STEP_REVOKE} <= done:
        status = ContainmentStatus.BLOCKED if STEP_BLOCK in done else ContainmentStatus.CONTAINED
        return ContainmentResult(provider=provider, status=status, resumed=tuple(sorted(done)))

    try:
        user = await responder.find_user(account)
    except CredwatchError as exc:
        failed = StepResult(
            step=STEP_LOOKUP,
            outcome=Outcome.FAILED,
            retryable=exc.retryable,
            detail=str(exc),
            request_id=getattr(exc, "request_id", None),
        )
        await record(failed)
        return ContainmentResult(
            provider=provider,
            status=ContainmentStatus.FAILED,
            steps=(failed,),
            retryable=exc.retryable,
        )
    if user is None:
        missing = StepResult(
            step=STEP_LOOKUP, outcome=Outcome.NOT_FOUND, detail="no such user in this provider"
        )
        await record(missing)
        return ContainmentResult(
            provider=provider, status=ContainmentStatus.NOT_FOUND, steps=(missing,)
        )

    fresh: Freshness | None = None
    if STEP_RESET not in done and not sessions_only:  # after our own reset the date is ours
        fresh = freshness(user.password_changed_at, infected_at, first_seen)
        if fresh is Freshness.STALE:
            changed = user.password_changed_at.isoformat() if user.password_changed_at else "?"
            stale = StepResult(
                step=STEP_STALE,
                outcome=Outcome.SKIPPED,
                detail=f"password changed after the leak ({changed}); nothing reset",
            )
            await record(stale)
            return ContainmentResult(
                provider=provider,
                status=ContainmentStatus.STALE,
                user=user,
                freshness=fresh,
                steps=(stale,),
            )

    plan: list[tuple[str, Callable[..., Awaitable[StepResult]]]]
    if sessions_only:
        plan = [(STEP_REVOKE, responder.revoke_sessions)]
    elif user.external:
        plan = [(STEP_BLOCK, responder.block)]
    else:
        plan = [(STEP_RESET, responder.reset_password), (STEP_REVOKE, responder.revoke_sessions)]

    results: list[StepResult] = []
    resumed = tuple(step for step, _ in plan if step in done)
    for step, call in plan:
        if step in done:
            continue
        try:
            result = await call(user, dry_run=dry_run)
        except CredwatchError as exc:
            result = StepResult(
                step=step,
                outcome=Outcome.FAILED,
                retryable=exc.retryable,
                detail=str(exc),
                request_id=getattr(exc, "request_id", None),
            )
        except Exception as exc:
            # Unexpected: record that the attempt happened (type only, messages may hold data).
            await record(
                StepResult(
                    step=step,
                    outcome=Outcome.FAILED,
                    retryable=True,
                    detail=f"crashed: {type(exc).__name__}",
                )
            )
            raise
        await record(result)
        results.append(result)
        if result.outcome in (Outcome.FAILED, Outcome.NOT_FOUND):
            logging.getLogger(__name__).warning(
                "containment step did not complete",
                extra={
                    "provider": provider,
                    "exposure_id": exposure_id,
                    "step": step,
                    "outcome": result.outcome.value,
                    "retryable": result.retryable,
                },
            )
            status = (
                ContainmentStatus.NOT_FOUND
                if result.outcome is Outcome.NOT_FOUND
                else ContainmentStatus.FAILED
            )
            return ContainmentResult(
                provider=provider,
                status=status,
                user=user,
                freshness=fresh,
                steps=tuple(results),
                resumed=resumed,
                retryable=result.retryable,
            )

    if dry_run:
        status = ContainmentStatus.DRY_RUN
    elif user.external and not sessions_only:
        status = ContainmentStatus.BLOCKED
    else:
        status = ContainmentStatus.CONTAINED
    logging.getLogger(__name__).info(
        "containment finished",
        extra={
            "provider": provider,
            "exposure_id": exposure_id,
            "status": status.value,
            "dry_run": dry_run,
        },
    )
    return ContainmentResult(
        provider=provider,
        status=status,
        user=user,
        freshness=fresh,
        steps=tuple(results),
        resumed=resumed,
    )
