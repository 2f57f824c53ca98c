"""Turn a stored match into a response (policy), and run the planned containments (responders)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor import leak_clock
from monitor.containment import ContainmentResult, ContainmentStatus, contain
from monitor.lifecycle import TRANSITIONS, State, Verb
from monitor.outbox import backoff
from monitor.policy import Decision, PolicyConfig, decide
from monitor.responder import AccountRef, PortalHook, PortalRef, Responder
from monitor.store.records import ContainmentJob
from monitor.store.store import Store
from monitor.store.tx import Tx
from monitor.suppression import first_covering
from monitor.types import CredentialKind, Match

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = 600.0  # seconds a claimed containment is held: longer than one run with its retries


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    summary: str  # what the alert says was (or will be) done
    alert: bool  # False when suppressed
    event: str = "new"  # the first alert's event: "approval_needed" when a human must decide


class Responses:
    def __init__(
        self,
        store: Store,
        policy: PolicyConfig,
        responders: Mapping[str, Responder],
        *,
        channels: tuple[str, ...] = (),
        lease: float = LEASE,
        portal_hooks: Mapping[str, PortalHook] | None = None,
        directory: str | None = None,
    ) -> None:
        self.directory = directory  # the responder that resets passwords mastered on premises
        self.store = store
        self.portal_hooks = dict(portal_hooks or {})  # portal URL or host → its session hook
        self.policy = policy
        self.responders = dict(responders)
        self.channels = channels
        self.lease = lease
        self.audit = store.action_log()

    def _provider_for(self, m: Match) -> str | None:
        if m.account is not None and m.account.idp:
            return m.account.idp if m.account.idp in self.responders else None
        return default_provider(self.responders, self.directory, self.portal_hooks.values())

    async def plan(self, tx: Tx, m: Match, exposure_id: int) -> Plan:
        """Decide what to do with a new exposure; runs inside the transaction that stored it."""
        verdict = decide(m, self.policy)
        rule = first_covering(
            await tx.suppressions(),
            login=(m.account.login if m.account else "") or m.credential.login,
            host=m.credential.host,
            partner=m.partner,
        )
        if rule is not None:
            why = f"suppressed by rule {rule.id}: {rule.reason}"
            await tx.set_exposure_status(exposure_id, "dismissed", why)
            await tx.set_lifecycle(
                exposure_id, old="open", new="dismissed", decided_by=f"rule:{rule.id}", reason=why
            )
            return Plan(summary=why, alert=False)
        if verdict.decision is Decision.SUPPRESS:
            await tx.set_exposure_status(exposure_id, "dismissed", verdict.reason)
            return Plan(summary=verdict.reason, alert=False)
        if verdict.decision is Decision.ALERT:
            return Plan(summary=f"alert only ({verdict.reason})", alert=True)
        login = (m.account.login if m.account else "") or m.credential.login
        provider = self._provider_for(m)
        if provider is None or not login:
            why = "no identity provider configured for this account" if login else "no login"
            return Plan(summary=f"alert only: {why} ({verdict.reason})", alert=True)
        waiting = verdict.decision is Decision.APPROVE
        cookie = m.credential.kind is CredentialKind.COOKIE
        await tx.plan_containment(
            exposure_id=exposure_id,
            provider=provider,
            decision=verdict.decision.value,
            dry_run=verdict.dry_run,
            status="awaiting_approval" if waiting else "pending",
            decided_by="policy",
            reason=verdict.reason,
            login=login,
            idp_user_id=m.account.idp_user_id if m.account else None,
            sessions_only=cookie,
        )
        if waiting:
            await tx.set_exposure_status(exposure_id, "pending_approval", verdict.reason)
            return Plan(
                summary=approval_summary(provider, login, cookie=cookie, dry_run=verdict.dry_run)
                + f"; to refuse: credwatch reject {exposure_id} --reason TEXT",
                alert=True,
                event="approval_needed",
            )
        mode = "dry run: would " if verdict.dry_run else "containing: "
        if cookie:
            expiry = m.credential.cookie_expires
            until = f" (cookie valid until {expiry:%Y-%m-%d})" if expiry else " (session cookie)"
            what = f"revoke the sessions of {login}{until} and end them in the portal"
        else:
            what = (
                "set a random password, require a change and revoke sessions "
                "(external accounts: block sign-in and revoke sessions)"
            )
        return Plan(summary=f"{mode}{what} in {provider}", alert=True)

    async def run_due(self, *, batch: int = 20) -> int:
        """Run the containments that are due; returns how many were attempted. Each is claimed
        with a lease and committed, run with no transaction open, then recorded."""
        attempted = 0
        while attempted < batch:
            job = await self.store.claim_containment(lease=self.lease)
            if job is None:
                break
            attempted += 1
            await self._run_one(job)
        return attempted

    async def _run_one(self, job: ContainmentJob) -> None:
        responder = self.responders.get(job.provider)
        if responder is None:
            async with self.store.transaction() as tx:
                await tx.finish_containment(
                    job.id,
                    status="failed",
                    error="provider not configured",
                    result=None,
                    retry_in=0,
                )
            return
        result = await contain(
            exposure_id=job.exposure_id,
            account=AccountRef(
                login=job.login,
                email=job.login if "@" in job.login else None,
                idp_user_id=job.idp_user_id,
            ),
            infected_at=job.infected_at,
            first_seen=job.first_seen,
            earliest_evidence=job.files_dated_at,
            responder=responder,
            log=self.audit,
            dry_run=job.dry_run,
            decided_by=job.decided_by,
            sessions_only=job.sessions_only,
            portal=self._portal(job),
            portal_hook=self._hook(job),
            directory=self.responders.get(self.directory or "")
            if self.directory != job.provider
            else None,
            window=self.policy.infection_window,
        )
        await self._settle(job, result)

    @staticmethod
    def _portal(job: ContainmentJob) -> PortalRef | None:
        if not job.sessions_only:
            return None
        return PortalRef(
            portal=job.portal or job.host, cookie_name=job.cookie_name, expires=job.cookie_expires
        )

    def _hook(self, job: ContainmentJob) -> PortalHook | None:
        if not job.sessions_only:
            return None
        for key in (job.portal, job.host):
            if key and key in self.portal_hooks:
                return self.portal_hooks[key]
        return None

    async def _settle(self, job: ContainmentJob, result: ContainmentResult) -> None:
        """Record the run's outcome, the exposure's status and the follow-up alert together."""
        status = result.status
        steps = "; ".join(f"{s.step} {s.outcome.value}" for s in result.steps) or "already done"
        exposure_id, provider = job.exposure_id, job.provider
        event, exposure_status = None, None
        marks = None
        async with self.store.transaction() as tx:
            if status is ContainmentStatus.FAILED and result.retryable:
                attempts = job.attempts + 1
                final = attempts >= MAX_ATTEMPTS
                await tx.finish_containment(
                    job.id,
                    status="failed" if final else "pending",
                    error=steps[:500],
                    result=status.value,
                    retry_in=backoff(attempts),
                )
                if final:
                    event = "containment_failed"
            else:
                await tx.finish_containment(
                    job.id,
                    status="done" if status is not ContainmentStatus.FAILED else "failed",
                    error=None,
                    result=status.value,
                    retry_in=0,
                )
                if status in (ContainmentStatus.CONTAINED, ContainmentStatus.BLOCKED):
                    event, exposure_status = "contained", "contained"
                elif status in (ContainmentStatus.PARTIAL, ContainmentStatus.NEEDS_ACTION):
                    event, exposure_status = "needs_action", status.value
                elif status is ContainmentStatus.STALE:
                    event, exposure_status = "stale", "stale"
                elif status is ContainmentStatus.DRY_RUN:
                    event = "contained"
                else:
                    event = "containment_failed"
            if exposure_status:
                reason = result.headline if result.required else steps
                await tx.set_exposure_status(exposure_id, exposure_status, reason[:2000])
            if exposure_status == "contained":
                marks = await tx.mark_contained(exposure_id)
            if event and self.channels:
                summary = _summary(provider, result, steps)
                await tx.enqueue_alert(
                    exposure_id=exposure_id,
                    channels=self.channels,
                    event=event,
                    event_key=provider,
                    summary=summary,
                )
        if marks is not None:  # committed: the first containment of the exposure
            leak_clock.contained(*marks)
        log.info(
            "containment finished",
            extra={"exposure_id": exposure_id, "provider": provider, "status": status.value},
        )

    async def approve(
        self, exposure_id: int, *, who: str, reject: bool = False, reason: str = ""
    ) -> int:
        """A human's decision on the exposure's containments awaiting approval, audited with who
        and why; returns how many were decided (0: none was waiting, e.g. decided before)."""
        verb = "rejected" if reject else "approved"
        async with self.store.transaction() as tx:
            ids = await tx.decide_containments(
                exposure_id,
                status="rejected" if reject else "pending",
                decided_by=who,
                note=f"; {verb} by {who}" + (f": {reason}" if reason else ""),
            )
            if ids:
                await tx.record_decision(ids, outcome=verb, decided_by=who, detail=reason)
                new_status = "dismissed" if reject else "new"
                await tx.set_exposure_status(exposure_id, new_status, reason or None)
            if ids and reject:  # a rejected containment dismisses the exposure, audited
                await _dismiss(tx, exposure_id, who=who, reason=reason)
        if ids:
            log.info(
                "containment decided",
                extra={"exposure_id": exposure_id, "decision": verb, "decided_by": who},
            )
        return len(ids)

    async def aclose(self) -> None:
        for r in self.responders.values():
            await r.aclose()


async def _dismiss(tx: Tx, exposure_id: int, *, who: str, reason: str) -> None:
    sources, target = TRANSITIONS[Verb.DISMISS]
    state = await tx.lock_lifecycle(exposure_id)
    if state is not None and State(state) in sources:
        why = "containment rejected" + (f": {reason}" if reason else "")
        await tx.set_lifecycle(exposure_id, old=state, new=target.value, decided_by=who, reason=why)


def approval_summary(provider: str, login: str, *, cookie: bool, dry_run: bool) -> str:
    """What an approval would do, in the words of the approval request."""
    if cookie:
        what = f"revoke the sessions of {login} and end them in the portal"
    else:
        what = (
            f"set a random password for {login}, require a change and revoke sessions "
            "(external accounts: block sign-in and revoke sessions)"
        )
    mode = " (dry run: nothing changes while [policy] enforce is false)" if dry_run else ""
    return f"waiting for approval to {what} in {provider}{mode}"


def default_provider(
    responders: Mapping[str, Responder], directory: str | None, hooks: Iterable[PortalHook]
) -> str | None:
    """The identity provider of an account the watchlist does not assign: the one responder
    that is not only a helper (the directory, a portal's session hook). A hook that is also an
    identity provider (Keycloak ending a portal's sessions) stays one."""
    helpers = {id(h) for h in hooks}
    others = [name for name in responders if name != directory]
    idps = [name for name in others if id(responders[name]) not in helpers]
    candidates = idps or others or list(responders)
    return candidates[0] if len(candidates) == 1 else None


def _summary(provider: str, result: ContainmentResult, steps: str) -> str:
    """What the follow-up alert says: for a finished run, built from the step outcomes."""
    s = result.status
    if s in (
        ContainmentStatus.CONTAINED,
        ContainmentStatus.BLOCKED,
        ContainmentStatus.PARTIAL,
        ContainmentStatus.NEEDS_ACTION,
    ):
        return result.headline
    if s is ContainmentStatus.DRY_RUN:
        return (
            f"dry run in {provider}, nothing changed ({steps}); set [policy] enforce = true to act"
        )
    if s is ContainmentStatus.STALE:
        return f"stale in {provider}: password changed after the leak, nothing reset"
    if s is ContainmentStatus.NOT_FOUND:
        return f"no such user in {provider}; check the account mapping"
    return f"containment in {provider} failed ({steps}); nothing is contained until it succeeds"
