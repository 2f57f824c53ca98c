"""Decisions on containments awaiting approval: apply one once, audited; list what waits."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from monitor.decisions import DecisionRequest, DecisionResult, Ruling
from monitor.respond import Responses
from monitor.responder import STEP_BLOCK, STEP_PORTAL, STEP_RESET, STEP_REVOKE
from monitor.store.records import ContainmentState, PendingApproval
from monitor.store.store import Store
from monitor.types import Severity

log = logging.getLogger(__name__)


def planned_steps(sessions_only: bool) -> tuple[str, ...]:
    """The steps an approval would run: a stolen cookie's sessions ended, or a password reset
    (an external account, which cannot be reset, is blocked instead)."""
    if sessions_only:
        return (STEP_REVOKE, STEP_PORTAL)
    return (STEP_RESET, STEP_REVOKE, f"{STEP_BLOCK} (external accounts)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiting:
    """One containment waiting for a human, as `credwatch pending` shows it."""

    exposure_id: int
    login: str
    provider: str
    severity: str
    host: str
    partner: str | None
    steps: tuple[str, ...]
    dry_run: bool
    reason: str
    since: datetime


def waiting(p: PendingApproval) -> Waiting:
    return Waiting(
        exposure_id=p.exposure_id,
        login=p.login,
        provider=p.provider,
        severity=Severity(p.severity).label,
        host=p.host,
        partner=p.partner,
        steps=planned_steps(p.sessions_only),
        dry_run=p.dry_run,
        reason=p.reason,
        since=p.since,
    )


def outcome(states: list[ContainmentState]) -> str:
    """What the exposure's containments came to, in words (true at the time of asking)."""
    return "; ".join(_state(s) for s in states) or "nothing planned"


def _state(s: ContainmentState) -> str:
    p = s.provider
    if s.status == "pending":
        if s.last_error:
            return f"containment in {p} failed, will be retried"
        return f"containment in {p} queued; its outcome follows in the alert thread"
    if s.status == "rejected":
        return f"containment in {p} rejected, nothing changed"
    if s.status == "awaiting_approval":
        return f"containment in {p} waits for approval"
    if s.status == "failed":
        return f"containment in {p} failed; nothing is contained"
    result = s.result or ""
    words = {
        "contained": f"contained in {p}",
        "blocked": f"sign-in blocked in {p}",
        "partially_contained": f"partially contained in {p}: a step needs a human",
        "needs_action": f"not contained in {p}: a step needs a human",
        "dry_run": f"dry run in {p}: nothing changed ([policy] enforce is false)",
        "stale": f"nothing reset in {p}: the password was changed after the leak",
        "not_found": f"no such user in {p}",
    }
    return words.get(result, f"containment in {p} ended: {result or 'unknown'}")


class Approvals:
    """The `Decider` the CLI and interactive channels use. `run` runs due containments now
    (default: the planner's `run_due`), so an approval takes effect before the answer."""

    def __init__(
        self,
        store: Store,
        responses: Responses,
        *,
        run: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.store = store
        self.responses = responses
        self._run = run or responses.run_due

    async def decide(self, request: DecisionRequest) -> DecisionResult:
        """Apply the decision when a containment waits; otherwise say who decided before."""
        count = await self.responses.approve(
            request.exposure_id,
            who=request.decided_by,
            reject=request.reject,
            reason=request.reason,
        )
        if not count:
            return await self._before(request.exposure_id)
        if not request.reject:
            try:
                await self._run()
            except Exception as exc:  # decided and queued: the work loop runs it later
                log.error(
                    "approved containment not run now",
                    extra={"exposure_id": request.exposure_id, "error": type(exc).__name__},
                )
        last = await self.store.last_decision(request.exposure_id)
        return DecisionResult(
            ruling=Ruling.REJECTED if request.reject else Ruling.APPROVED,
            decided_by=request.decided_by,
            decision="rejected" if request.reject else "approved",
            at=last.at if last else None,
            reason=request.reason,
            outcome=outcome(await self.store.containment_states(request.exposure_id)),
        )

    async def decided(self, exposure_id: int) -> DecisionResult | None:
        states = await self.store.containment_states(exposure_id)
        if any(s.status == "awaiting_approval" for s in states):
            return None
        return await self._before(exposure_id, states)

    async def _before(
        self, exposure_id: int, states: list[ContainmentState] | None = None
    ) -> DecisionResult:
        """Who decided before (ALREADY), or NOTHING when no decision was ever asked for."""
        last = await self.store.last_decision(exposure_id)
        if last is None:
            return DecisionResult(ruling=Ruling.NOTHING)
        if states is None:
            states = await self.store.containment_states(exposure_id)
        return DecisionResult(
            ruling=Ruling.ALREADY,
            decided_by=last.decided_by,
            decision=last.outcome,
            at=last.at,
            reason=last.detail,
            outcome=outcome(states),
        )

    async def pending(self, *, limit: int = 500) -> list[Waiting]:
        return [waiting(p) for p in await self.store.pending_approvals(limit=limit)]
