"""One open store transaction: the writes that must commit together (match, plan, alerts, outcome)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from monitor.store import batch, repo
from monitor.store.batch import Prepared, QueuedAlert, ScanHit
from monitor.store.queries import sql
from monitor.store.records import Recorded, rule_from_row
from monitor.store.text import db_text
from monitor.suppression import Rule
from monitor.types import Match


class Tx:
    """Typed writes inside one transaction; obtained from `Store.transaction()`, never kept."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._rules: list[Rule] | None = None

    async def record_matches(
        self,
        matches: Sequence[Match],
        *,
        key: bytes,
        source_id: int | None,
        previous: Sequence[bytes] = (),
        prepared: Prepared | None = None,
    ) -> list[Recorded]:
        """Upsert the matches' exposures and add their sightings with a few multi-row
        statements, as storing them one by one in order would; what each did, in order
        (`prepared`: `batch.prepare(matches, key)`, made already). An exposure fingerprinted
        under one of the `previous` (retired) keys is found and re-keyed, never created again."""
        return await batch.record_matches(
            self._conn, matches, key=key, source_id=source_id, previous=previous, prepared=prepared
        )

    async def enqueue_alerts(self, alerts: Sequence[QueuedAlert]) -> list[int]:
        """Queue alerts in order (repeats ignored, an update only where it adds something)."""
        return await batch.enqueue_alerts(self._conn, alerts)

    async def add_scan_hits(self, scan_id: str, hits: Sequence[ScanHit]) -> None:
        """Report hits of a scan (their output rows, hints only), once per exposure and place."""
        await batch.add_scan_hits(self._conn, scan_id, hits)

    async def enqueue_alert(
        self,
        *,
        exposure_id: int,
        channels: Sequence[str],
        event: str,
        event_key: str = "",
        origin: str = "",
        summary: str = "",
    ) -> list[int]:
        """Queue an alert on each channel (a repeat is ignored); returns the ids queued."""
        return await repo.enqueue_alert(
            self._conn,
            exposure_id=exposure_id,
            channels=channels,
            event=event,
            event_key=event_key,
            origin=origin,
            summary=summary,
        )

    async def set_exposure_status(self, exposure_id: int, status: str, reason: str | None) -> None:
        await self._conn.execute(sql("exposure_status"), exposure_id, status, reason)

    async def mark_contained(self, exposure_id: int) -> tuple[datetime | None, datetime] | None:
        """The leak clock: mark the exposure contained, once. Returns (alerted, contained) the
        first time, None after."""
        row = await self._conn.fetchrow(sql("exposure_contained"), exposure_id)
        return (row["alerted_at"], row["contained_at"]) if row is not None else None

    async def plan_containment(
        self,
        *,
        exposure_id: int,
        provider: str,
        decision: str,
        dry_run: bool,
        status: str,
        decided_by: str,
        reason: str,
        login: str,
        idp_user_id: str | None,
        sessions_only: bool = False,
    ) -> int | None:
        """Plan containment of an exposure in a provider, once; None when it was planned before."""
        planned = await self._conn.fetchval(
            sql("containment_plan"),
            exposure_id,
            provider,
            decision,
            dry_run,
            status,
            decided_by,
            reason,
            login,
            idp_user_id,
            sessions_only,
        )
        return int(planned) if planned is not None else None

    async def decide_containments(
        self, exposure_id: int, *, status: str, decided_by: str, note: str
    ) -> list[int]:
        """Move the exposure's containments awaiting approval to `status`; returns their ids."""
        rows = await self._conn.fetch(
            sql("containment_approve"), exposure_id, status, decided_by, note
        )
        return [int(r["id"]) for r in rows]

    async def record_decision(
        self, containment_ids: Sequence[int], *, outcome: str, decided_by: str, detail: str
    ) -> None:
        """Audit a human's decision (`approved` or `rejected`) on these containments."""
        await self._conn.execute(
            sql("decision_record"),
            list(containment_ids),
            outcome,
            db_text(decided_by),
            db_text(detail),
        )

    async def finish_containment(
        self,
        containment_id: int,
        *,
        status: str,
        error: str | None,
        result: str | None,
        retry_in: float,
    ) -> None:
        """Record a containment run's outcome and release its lease."""
        await self._conn.execute(
            sql("containment_update"), containment_id, status, error, result, retry_in
        )

    async def lock_lifecycle(self, exposure_id: int) -> str | None:
        """The exposure's lifecycle state, locked until commit; None when there is no such one."""
        state: str | None = await self._conn.fetchval(sql("lifecycle_lock"), exposure_id)
        return state

    async def set_lifecycle(
        self, exposure_id: int, *, old: str, new: str, decided_by: str, reason: str
    ) -> None:
        """Move a locked exposure to `new` and audit the decision."""
        await self._conn.execute(
            sql("lifecycle_set"), exposure_id, old, new, db_text(decided_by), db_text(reason)
        )

    async def suppressions(self) -> list[Rule]:
        """The suppression rules, read once per transaction (a batch of hits asks per exposure)."""
        if self._rules is None:
            rows = await self._conn.fetch(sql("suppressions_list"))
            self._rules = [rule_from_row(r) for r in rows]
        return list(self._rules)
