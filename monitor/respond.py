"""Turn a stored match into a response (policy), and run the planned containments (responders)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg

from monitor.containment import ContainmentResult, ContainmentStatus, contain
from monitor.outbox import backoff
from monitor.policy import Decision, PolicyConfig, decide
from monitor.responder import AccountRef, Responder
from monitor.store import repo
from monitor.store.actions import PgActionLog, plan_containment
from monitor.store.queries import sql
from monitor.types import CredentialKind, Match

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    summary: str  # what the alert says was (or will be) done
    alert: bool  # False when suppressed


class Responses:
    def __init__(
        self,
        pool: asyncpg.Pool,
        policy: PolicyConfig,
        responders: Mapping[str, Responder],
        *,
        channels: tuple[str, ...] = (),
    ) -> None:
        self.pool = pool
        self.policy = policy
        self.responders = dict(responders)
        self.channels = channels
        self.audit = PgActionLog(pool)

    def _provider_for(self, m: Match) -> str | None:
        if m.account is not None and m.account.idp:
            return m.account.idp if m.account.idp in self.responders else None
        if len(self.responders) == 1:
            return next(iter(self.responders))
        return None

    async def plan(self, conn: asyncpg.Connection, m: Match, exposure_id: int) -> Plan:
        """Decide what to do with a new exposure; runs inside the transaction that stored it."""
        verdict = decide(m, self.policy)
        if verdict.decision is Decision.SUPPRESS:
            await conn.execute(sql("exposure_status"), exposure_id, "dismissed", verdict.reason)
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
        await plan_containment(
            conn,
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
            await conn.execute(
                sql("exposure_status"), exposure_id, "pending_approval", verdict.reason
            )
            return Plan(
                summary=f"waiting for approval to contain in {provider}: "
                f"credwatch approve {exposure_id}",
                alert=True,
            )
        mode = "dry run: would " if verdict.dry_run else "containing: "
        if cookie:
            expiry = m.credential.cookie_expires
            until = f" (cookie valid until {expiry:%Y-%m-%d})" if expiry else " (session cookie)"
            what = f"revoke the sessions of {login}{until}"
        elif verdict.decision is Decision.BLOCK:
            what = "block sign-in (external account)"
        else:
            what = "set a random password, require a change and revoke sessions"
        return Plan(summary=f"{mode}{what} in {provider}", alert=True)

    async def run_due(self, *, batch: int = 20) -> int:
        """Run the containments that are due; returns how many were attempted."""
        attempted = 0
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(sql("containment_claim"), 1)
                if not rows:
                    return attempted
                row = rows[0]
                attempted += 1
                await self._run_one(conn, row)
            if attempted >= batch:
                return attempted

    async def _run_one(self, conn: asyncpg.Connection, row: asyncpg.Record) -> None:
        responder = self.responders.get(row["provider"])
        if responder is None:
            await conn.execute(
                sql("containment_update"), row["id"], "failed", "provider not configured", None, 0
            )
            return
        login = row["login"]
        result = await contain(
            exposure_id=row["exposure_id"],
            account=AccountRef(
                login=login, email=login if "@" in login else None, idp_user_id=row["idp_user_id"]
            ),
            infected_at=row["infected_at"],
            first_seen=row["first_seen"],
            responder=responder,
            log=self.audit,
            dry_run=row["dry_run"],
            decided_by=row["decided_by"],
            sessions_only=row["sessions_only"],
        )
        await self._settle(conn, row, result, sessions_only=row["sessions_only"])

    async def _settle(
        self,
        conn: asyncpg.Connection,
        row: asyncpg.Record,
        result: ContainmentResult,
        *,
        sessions_only: bool = False,
    ) -> None:
        status = result.status
        steps = "; ".join(f"{s.step} {s.outcome.value}" for s in result.steps) or "already done"
        exposure_id, provider = row["exposure_id"], row["provider"]
        event, exposure_status = None, None
        if status is ContainmentStatus.FAILED and result.retryable:
            attempts = row["attempts"] + 1
            final = attempts >= MAX_ATTEMPTS
            await conn.execute(
                sql("containment_update"),
                row["id"],
                "failed" if final else "pending",
                steps[:500],
                status.value,
                backoff(attempts),
            )
            if final:
                event = "containment_failed"
        else:
            await conn.execute(
                sql("containment_update"),
                row["id"],
                "done" if status is not ContainmentStatus.FAILED else "failed",
                None,
                status.value,
                0,
            )
            if status in (ContainmentStatus.CONTAINED, ContainmentStatus.BLOCKED):
                event, exposure_status = "contained", "contained"
            elif status is ContainmentStatus.STALE:
                event, exposure_status = "stale", "stale"
            elif status is ContainmentStatus.DRY_RUN:
                event = "contained"
            else:
                event = "containment_failed"
        if exposure_status:
            await conn.execute(sql("exposure_status"), exposure_id, exposure_status, steps[:500])
        if event and self.channels:
            summary = _summary(provider, result, steps, sessions_only=sessions_only)
            await repo.enqueue_alert(
                conn,
                exposure_id=exposure_id,
                channels=self.channels,
                event=event,
                event_key=provider,
                summary=summary,
            )
        log.info(
            "containment finished",
            extra={"exposure_id": exposure_id, "provider": provider, "status": status.value},
        )

    async def approve(
        self, exposure_id: int, *, who: str, reject: bool = False, reason: str = ""
    ) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                sql("containment_approve"),
                exposure_id,
                "rejected" if reject else "pending",
                who,
                f"; {'rejected' if reject else 'approved'} by {who}"
                + (f": {reason}" if reason else ""),
            )
            if rows:
                new_status = "dismissed" if reject else "new"
                await conn.execute(sql("exposure_status"), exposure_id, new_status, reason or None)
        return len(rows)

    async def aclose(self) -> None:
        for r in self.responders.values():
            await r.aclose()


def _summary(
    provider: str, result: ContainmentResult, steps: str, *, sessions_only: bool = False
) -> str:
    s = result.status
    if s is ContainmentStatus.CONTAINED and sessions_only:
        return f"sessions revoked in {provider}: the stolen cookie no longer signs in ({steps})"
    if s is ContainmentStatus.CONTAINED:
        return f"contained in {provider}: random password set, change required, sessions revoked ({steps})"
    if s is ContainmentStatus.BLOCKED:
        return f"external account blocked in {provider}; contact the partner ({steps})"
    if s is ContainmentStatus.DRY_RUN:
        return (
            f"dry run in {provider}, nothing changed ({steps}); set [policy] enforce = true to act"
        )
    if s is ContainmentStatus.STALE:
        return f"stale in {provider}: password changed after the leak, nothing reset"
    if s is ContainmentStatus.NOT_FOUND:
        return f"no such user in {provider}; check the account mapping"
    return f"containment in {provider} failed ({steps})"
