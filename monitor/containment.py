"""Contain one exposure in one identity provider, once, resumably: look up, check, then run every
step the exposure's kind needs; the status says which of them took effect."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, cast

from monitor.errors import CredwatchError
from monitor.freshness import INFECTION_WINDOW, Freshness, freshness
from monitor.outcome import Verdict, audit_detail, headline, required_steps, verdict
from monitor.responder import (
    STEP_BLOCK,
    STEP_LOOKUP,
    STEP_PORTAL,
    STEP_REQUIRE_CHANGE,
    STEP_RESET,
    STEP_REVOKE,
    STEP_STALE,
    AccountRef,
    ChangeRequirer,
    IdentityUser,
    PortalHook,
    PortalRef,
    Responder,
    StepResult,
    dry_run_result,
)
from monitor.types import Outcome

log = logging.getLogger(__name__)  # shadowed by the `log` argument inside contain()

# A provider's password-change time at most this long before our recorded start is still ours
# (its clock and ours differ).
OWN_CHANGE_SKEW = timedelta(minutes=5)


class ActionLog(Protocol):
    """The audit trail. `done_steps` = steps whose recorded outcome for the pair is `done`;
    `started_at` = when a step was last recorded as `started` (before its call)."""

    async def done_steps(self, exposure_id: int, provider: str) -> set[str]: ...

    async def started_at(self, exposure_id: int, provider: str, step: str) -> datetime | None: ...

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
    CONTAINED = "contained"  # every required step took effect
    BLOCKED = "blocked"  # every required step took effect; the account is blocked, not reset
    PARTIAL = "partially_contained"  # some required steps took effect, not all
    NEEDS_ACTION = "needs_action"  # no required step took effect: a human must act
    DRY_RUN = "dry_run"  # nothing changed; the steps say what would have been done
    STALE = "stale"  # password changed after the leak: nothing to do
    NOT_FOUND = "not_found"  # no such user in this identity provider
    FAILED = "failed"  # lookup or a step failed; `retryable` says whether to try again


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainmentResult:
    provider: str
    status: ContainmentStatus
    user: IdentityUser | None = None
    freshness: Freshness | None = None  # None: not checked (already reset by us earlier)
    steps: tuple[StepResult, ...] = ()  # steps attempted in this run, in order
    resumed: tuple[str, ...] = ()  # steps skipped because they were already done
    retryable: bool = False
    required: tuple[str, ...] = ()  # the steps this exposure needs
    outcomes: Mapping[str, Outcome] = field(default_factory=dict)  # per step, this run or before

    @property
    def found(self) -> bool:
        return self.status is not ContainmentStatus.NOT_FOUND and (
            self.user is not None or bool(self.resumed)
        )

    @property
    def headline(self) -> str:
        return headline(
            self.provider, self.required, {s.step: s for s in self.steps}, self.outcomes
        )


def _no_portal_hook(login: str, portal: PortalRef | None) -> StepResult:
    where = portal.portal if portal else "the portal that issued it"
    name = portal.cookie_name if portal and portal.cookie_name else "session cookie"
    until = (
        f"until {portal.expires:%Y-%m-%d %H:%M} UTC"
        if portal and portal.expires
        else "until the portal ends that session"
    )
    return StepResult(
        step=STEP_PORTAL,
        outcome=Outcome.SKIPPED,
        detail=f"no session hook for {where}: the stolen {name} may still work there {until}",
        todo=f"ask the {where} team to end every session of {login} now so the stolen {name} "
        "stops working (or configure a session hook for this portal)",
    )


def _relayed(step: str, where: str, result: StepResult) -> StepResult:
    """A directory's result, as the step of this containment it stands for."""
    return StepResult(
        step=step,
        outcome=result.outcome,
        retryable=result.retryable,
        detail=f"in {where}: {result.detail}",
        request_id=result.request_id,
        todo=result.todo,
        also=tuple(_relayed(a.step, where, a) for a in result.also),
    )


async def _in_directory(
    step: str, user: IdentityUser, account: AccountRef, directory: Responder | None
) -> IdentityUser | StepResult:
    """The directory's own record of a user whose password it masters, or why there is none."""
    if directory is None:
        what = "reset" if step == STEP_RESET else "change requirement"
        return StepResult(
            step=step,
            outcome=Outcome.SKIPPED,
            detail=f"needs {user.mastered_in} {what}: the password is mastered there, "
            f"{user.provider} cannot reach it",
            todo=f"reset the password in {user.mastered_in} and require a change "
            "(or configure a directory responder)",
        )
    target = await directory.find_user(
        AccountRef(login=user.login or account.login, email=user.email or account.email)
    )
    if target is None:
        return StepResult(
            step=step,
            outcome=Outcome.SKIPPED,
            detail=f"not found in {directory.name}, where {user.mastered_in} is expected",
            todo=f"reset the password in {user.mastered_in} and require a change",
        )
    return target


async def _reset_in_directory(
    user: IdentityUser, account: AccountRef, directory: Responder | None, *, dry_run: bool
) -> StepResult:
    """The identity provider does not hold this password: a reset there would not reach it."""
    target = await _in_directory(STEP_RESET, user, account, directory)
    if isinstance(target, StepResult):
        return target
    assert directory is not None  # the user was found in it
    return _relayed(
        STEP_RESET, directory.name, await directory.reset_password(target, dry_run=dry_run)
    )


def _no_change(user: IdentityUser) -> StepResult:
    return StepResult(
        step=STEP_REQUIRE_CHANGE,
        outcome=Outcome.SKIPPED,
        detail=f"{user.provider} cannot require a password change",
        todo=f"require a password change at the next sign-in of {user.login} in {user.provider}",
    )


async def _require_change(
    user: IdentityUser,
    account: AccountRef,
    responder: Responder,
    directory: Responder | None,
    *,
    dry_run: bool,
) -> StepResult:
    """Require a new password at the next sign-in where the password is mastered: the directory
    for a password mastered there (when configured), else the identity provider, which says
    whether it reaches that password (Okta's expiry reaches AD; Graph cannot reach a synced one)."""
    where: Responder = responder
    target = user
    if user.mastered_in and directory is not None:
        found = await _in_directory(STEP_REQUIRE_CHANGE, user, account, directory)
        if isinstance(found, StepResult):
            return found
        where, target = directory, found
    require = getattr(where, "require_change", None)
    if not callable(require):
        return _no_change(target)
    result: StepResult = await cast(ChangeRequirer, where).require_change(target, dry_run=dry_run)
    return _relayed(STEP_REQUIRE_CHANGE, where.name, result) if where is directory else result


def _own_reset(user: IdentityUser, started: datetime | None) -> bool:
    """Did the provider apply the reset we started (its reply lost, or we died after the call)?"""
    changed = user.password_changed_at
    return started is not None and changed is not None and changed >= started - OWN_CHANGE_SKEW


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
    portal: PortalRef | None = None,
    portal_hook: PortalHook | None = None,
    earliest_evidence: datetime | None = None,
    directory: Responder | None = None,
    window: timedelta = INFECTION_WINDOW,
) -> ContainmentResult:
    """Run containment for (exposure, provider). Steps already done are never repeated, so a
    crash between two steps resumes at the second. Every attempt is recorded; a reset is recorded
    as started before its call, so a change the provider made for us is never read as the user's.

    `sessions_only` is for stolen session cookies: the password is not what leaked, so the
    identity provider's and the portal's sessions are ended, whatever the password's age.

    A password mastered elsewhere (`user.mastered_in`, e.g. synced from on-premises AD) is reset
    through `directory` when one is configured; otherwise that step needs a human.

    The leak date is the infection date when it is plausible (`monitor.freshness.leak_date`:
    within `window` of the first sighting, not before `earliest_evidence`), else the first
    sighting."""
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
            detail=audit_detail(result.detail, result.todo),
            request_id=result.request_id,
        )

    done = await audit.done_steps(exposure_id, provider)
    known = required_steps(cookie=sessions_only, external=STEP_BLOCK in done)
    if (sessions_only or STEP_RESET in done or STEP_BLOCK in done) and set(known) <= done:
        blocked = STEP_BLOCK in done and not sessions_only
        return ContainmentResult(
            provider=provider,
            status=ContainmentStatus.BLOCKED if blocked else ContainmentStatus.CONTAINED,
            resumed=tuple(sorted(done)),
            required=known,
            outcomes=dict.fromkeys(done, Outcome.DONE),
        )

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

    required = required_steps(cookie=sessions_only, external=user.external)
    started = None if sessions_only else await audit.started_at(exposure_id, provider, STEP_RESET)
    fresh: Freshness | None = None
    # After a reset of ours (done, or started and perhaps applied) the change date may be ours.
    if not sessions_only and STEP_RESET not in done and STEP_BLOCK not in done and started is None:
        fresh = freshness(
            user.password_changed_at,
            infected_at,
            first_seen,
            earliest_evidence=earliest_evidence,
            window=window,
        )
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
                required=required,
            )

    async def portal_step(u: IdentityUser, *, dry_run: bool) -> StepResult:
        if portal_hook is None:
            return _no_portal_hook(account.login, portal)
        where = portal or PortalRef(portal="the portal")
        return await portal_hook.end_portal_sessions(u, where, dry_run=dry_run)

    async def reset_step(u: IdentityUser, *, dry_run: bool) -> StepResult:
        if not u.mastered_in:
            return await responder.reset_password(u, dry_run=dry_run)
        return await _reset_in_directory(u, account, directory, dry_run=dry_run)

    async def change_step(u: IdentityUser, *, dry_run: bool) -> StepResult:
        return await _require_change(u, account, responder, directory, dry_run=dry_run)

    calls: dict[str, Callable[..., Awaitable[StepResult]]] = {
        STEP_RESET: reset_step,
        STEP_REQUIRE_CHANGE: change_step,
        STEP_REVOKE: responder.revoke_sessions,
        STEP_BLOCK: responder.block,
        STEP_PORTAL: portal_step,
    }
    results: list[StepResult] = []
    resumed = tuple(step for step in required if step in done)
    reported: set[str] = set()  # steps another step's call already settled in this run
    for step in required:
        if step in done or step in reported:
            continue
        try:
            if step == STEP_RESET and not dry_run and _own_reset(user, started):
                result = StepResult(
                    step=step,
                    outcome=Outcome.DONE,
                    detail="random password set by the reset started earlier (the provider "
                    "applied it; its reply was lost)",
                )
            elif step == STEP_PORTAL and dry_run and portal_hook is None:
                result = dry_run_result(step, "ask the portal to end its sessions (no hook)")
            else:
                if step == STEP_RESET and not dry_run:
                    await record(
                        StepResult(step=step, outcome=Outcome.STARTED, detail="reset requested")
                    )
                result = await calls[step](user, dry_run=dry_run)
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
        settled = [result, *(a for a in result.also if a.step in required and a.step not in done)]
        for each in settled:
            await record(each)
            results.append(each)
            reported.add(each.step)
            if each.outcome in (Outcome.FAILED, Outcome.NOT_FOUND, Outcome.SKIPPED):
                logging.getLogger(__name__).warning(
                    "containment step did not take effect",
                    extra={
                        "provider": provider,
                        "exposure_id": exposure_id,
                        "step": each.step,
                        "outcome": each.outcome.value,
                        "retryable": each.retryable,
                    },
                )
        halt = next(
            (
                r
                for r in settled
                if r.outcome is Outcome.NOT_FOUND or (r.outcome is Outcome.FAILED and r.retryable)
            ),
            None,
        )
        if halt is not None:  # retried later from here, or the user vanished: the rest waits
            status = (
                ContainmentStatus.NOT_FOUND
                if halt.outcome is Outcome.NOT_FOUND
                else ContainmentStatus.FAILED
            )
            return ContainmentResult(
                provider=provider,
                status=status,
                user=user,
                freshness=fresh,
                steps=tuple(results),
                resumed=resumed,
                retryable=halt.retryable,
                required=required,
                outcomes=_outcomes(done, results),
            )

    outcomes = _outcomes(done, results)
    if dry_run:
        status = ContainmentStatus.DRY_RUN
    else:
        status = {
            Verdict.CONTAINED: ContainmentStatus.CONTAINED,
            Verdict.PARTIAL: ContainmentStatus.PARTIAL,
            Verdict.NEEDS_ACTION: ContainmentStatus.NEEDS_ACTION,
        }[verdict(required, outcomes)]
        if status is ContainmentStatus.CONTAINED and STEP_BLOCK in required:
            status = ContainmentStatus.BLOCKED
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
        required=required,
        outcomes=outcomes,
    )


def _outcomes(done: set[str], results: list[StepResult]) -> dict[str, Outcome]:
    """Each step's outcome: done before, or its last outcome in this run."""
    out = dict.fromkeys(done, Outcome.DONE)
    for r in results:
        if out.get(r.step) is not Outcome.DONE:
            out[r.step] = r.outcome
    return out
