"""The store: one typed method per query over an asyncpg pool; the only way in to PostgreSQL."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from monitor.advice import ContainmentRecord, StepRecord
from monitor.queue import Unit, enqueue, forget, local_entrypoint
from monitor.siem import ExposureState, Machine
from monitor.store.actions import PgActionLog
from monitor.store.lookup_rows import LookupRows
from monitor.store.purge import BATCH, PurgeCounts, purge_closed, purge_old
from monitor.store.queries import sql
from monitor.store.records import (
    ActionRow,
    AlertContext,
    Backlog,
    Changes,
    ClaimedAlert,
    ContainmentJob,
    ContainmentState,
    DecisionRecord,
    DomainSighting,
    LookupAudit,
    PendingApproval,
    PlannedSource,
    Quarantined,
    ScanProgress,
    SightingRow,
    Skipped,
    SourceRun,
    SourceTotals,
    StoredKey,
    Transition,
    rule_from_row,
)
from monitor.store.text import WIDE, db_text
from monitor.store.tx import Tx
from monitor.suppression import Rule
from monitor.types import Action, Exposure, Outcome

DatabaseError = asyncpg.PostgresError  # what a failed query raises
# What PostgreSQL (or the driver) raises when a row's own content cannot be stored: bad bytes,
# an index entry too large, a value out of a type's range. A fault of that one input, never of
# the database: the caller reports it and goes on. Connection and server faults are not in it.
RowRefused = (asyncpg.DataError, asyncpg.ProgramLimitExceededError, ValueError)
# What says the database is gone or out of room for now, whatever the input: the work is tried
# again later, never blamed on the input.
DatabaseUnavailable = (
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.TooManyConnectionsError,
    ConnectionError,
    TimeoutError,
)
# What says the connection itself went away (server restarted, backend terminated, network cut).
ConnectionLost = (
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
)

# What a call raises while PostgreSQL is down or restarting: retry later.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)


def _state(row: Any) -> ExposureState:
    return ExposureState(
        exposure=Exposure.from_row(row),
        lifecycle=row["lifecycle"],
        lifecycle_at=row["lifecycle_at"],
        change=int(row["change"]),
        machine=Machine(id_hash=row["victim_hash"], family=row["family"], country=row["country"]),
        origin=f"{row['seen_origin']}:{row['seen_line']}"
        if row["seen_line"]
        else row["seen_origin"],
        feed=row["feed"],
    )


_NOOP = contextlib.nullcontext()  # a dry run's batches: inside its one transaction


class Store:
    """Short statements and short transactions only: no method holds a transaction open while
    anything but PostgreSQL is waited for. Work items are claimed with a lease, committed, acted
    on by the caller, then recorded."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """Writes that commit together (or not at all). Keep the body to store calls."""
        async with self._pool.acquire() as conn, conn.transaction():
            yield Tx(conn)

    def action_log(self) -> PgActionLog:
        """The containment audit trail: each step recorded in its own statement."""
        return PgActionLog(self._pool)

    def lookup_rows(self) -> LookupRows:
        """The transient rows of ad-hoc lookups read by workers."""
        return LookupRows(self._pool)

    async def ping(self) -> None:
        async with self._pool.acquire() as conn:
            await conn.fetchval(sql("ping"))

    # -- fingerprint keys -------------------------------------------------------------------

    async def fingerprint_keys(self) -> list[StoredKey]:
        """The keys whose fingerprints this database holds, current first."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("keys_list"))
        return [StoredKey(**dict(r)) for r in rows]

    async def record_first_key(self, key_id: str, check_value: str) -> None:
        """Record the key of a database that has none yet (a racing first process wins)."""
        async with self._pool.acquire() as conn:
            await conn.execute(sql("key_first"), key_id, check_value)

    async def rotate_key(self, *, retire: str, key_id: str, check_value: str) -> None:
        """Retire the current key `retire` and make the given key current, together."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(sql("key_retire"), retire)
            await conn.execute(sql("key_add_current"), key_id, check_value)

    async def migrations_applied(self) -> set[int]:
        """The versions of the migrations this database has applied."""
        async with self._pool.acquire() as conn:
            return {int(r["version"]) for r in await conn.fetch(sql("migrations_applied"))}

    async def action_outcomes(self) -> dict[tuple[str, str], int]:
        """Containment steps recorded, per (provider, outcome)."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("action_outcomes"))
        return {(str(r["provider"]), str(r["outcome"])): int(r["n"]) for r in rows}

    # -- sources ----------------------------------------------------------------------------

    async def start_source(
        self, *, kind: str, location: str, identity: str, owner: str | None = None
    ) -> int:
        """Open a source run; `owner` names the process reading it (`monitor/proc.py`)."""
        async with self._pool.acquire() as conn:
            return int(
                await conn.fetchval(
                    sql("source_start_owned"),
                    kind,
                    db_text(location, WIDE),
                    db_text(identity),
                    owner,
                )
            )

    async def running_owned_sources(self) -> list[tuple[int, str]]:
        """Sources still running that a named process reads: (id, owner) each."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("sources_running_owned"))
        return [(int(r["id"]), str(r["owner"])) for r in rows]

    async def interrupt_sources(self, source_ids: Sequence[int], reason: str) -> int:
        """Mark sources whose process is gone `interrupted`; returns how many were."""
        if not source_ids:
            return 0
        ids, why = list(source_ids), db_text(reason)
        async with self._pool.acquire() as conn, conn.transaction():
            done = await conn.execute(sql("source_interrupt"), ids, why)
            scans = {str(r["scan_id"]) for r in await conn.fetch(sql("units_interrupt"), ids, why)}
            await forget(conn, sorted(local_entrypoint(s) for s in scans))
        return int(done.split()[-1])

    async def interrupted_count(self) -> int:
        async with self._pool.acquire() as conn:
            return int(await conn.fetchval(sql("sources_interrupted_count")))

    async def source_done(self, identity: str) -> bool:
        """Has a source with this identity been read to the end already?"""
        async with self._pool.acquire() as conn:
            return await conn.fetchval(sql("source_done"), db_text(identity)) is not None

    async def finish_source(
        self, source_id: int, *, status: str, totals: SourceTotals, error: str | None = None
    ) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(sql("source_finish"), source_id, status, *_counters(totals), error)

    async def add_problem(self, source_id: int, origin: str, reason: str) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                sql("source_problem_once"), source_id, db_text(origin, WIDE), db_text(reason)
            )

    # -- work units ---------------------------------------------------------------------------

    async def start_source_units(
        self,
        *,
        kind: str,
        location: str,
        identity: str,
        scan_id: str,
        spans: Sequence[tuple[int, int] | None],
        entrypoint: str,
        owner: str | None = None,
    ) -> list[Unit]:
        """Record a source, its units (a byte range each, or None for the whole path) and queue
        them, in one transaction: a source is never recorded without its units, nor the reverse.
        `owner` names the process whose own workers drain them (a local scan), None for the
        shared queue."""
        planned = PlannedSource(kind=kind, location=location, identity=identity, spans=spans)
        async with self._pool.acquire() as conn, conn.transaction():
            units = await _add_units(conn, planned, scan_id=scan_id, owner=owner)
            await enqueue(conn, entrypoint, units)
        return units

    async def fire(
        self,
        job: str,
        *,
        host: str,
        slot: datetime | None,
        min_gap: float,
        scan_id: str,
        planned: Sequence[PlannedSource],
        entrypoint: str,
    ) -> list[Unit] | None:
        """Record one firing of a scheduled job and queue its work, in one transaction: the
        firing is never recorded without its units, nor its units queued twice. `slot` is the
        firing's scheduled time (a cron: every daemon computes the same); None claims the job
        unless any process started it in the last `min_gap` seconds. None when already taken."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(sql("run_lock"), job)
            if slot is not None:
                claimed = await conn.fetchval(sql("run_claim_slot"), job, slot, host, scan_id)
            else:
                claimed = await conn.fetchval(
                    sql("run_claim_gap"), job, host, float(min_gap), scan_id
                )
            if claimed is None:
                return None
            units: list[Unit] = []
            for p in planned:
                units.extend(await _add_units(conn, p, scan_id=scan_id, owner=None))
            await enqueue(conn, entrypoint, units)
        return units

    async def line_mark_add(self, identity: str, at_byte: int, lines: int) -> None:
        """Publish that `lines` lines come before line start `at_byte` of the file `identity`."""
        async with self._pool.acquire() as conn:
            await conn.execute(sql("line_mark_add"), db_text(identity), at_byte, lines)

    async def line_mark_nearest(self, identity: str, at_byte: int) -> tuple[int, int] | None:
        """The published (line start, lines before it) nearest at or before `at_byte`."""
        async with self._pool.acquire() as conn:
            r = await conn.fetchrow(sql("line_mark_nearest"), db_text(identity), at_byte)
        return None if r is None else (int(r["at_byte"]), int(r["lines"]))

    async def unit_open(self, unit_id: int) -> bool:
        """Is the unit still to be done (not closed by an earlier run)?"""
        async with self._pool.acquire() as conn:
            return bool(await conn.fetchval(sql("unit_status"), unit_id) == "queued")

    async def finish_unit(
        self, unit: Unit, *, status: str, totals: SourceTotals, error: str | None
    ) -> None:
        """Close a unit once with its counters; the source's last unit closes the source."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(sql("unit_source_lock"), unit.source_id)
            await conn.execute(sql("unit_finish"), unit.unit_id, status, *_counters(totals), error)
            await conn.execute(sql("unit_source_finish"), unit.source_id)

    async def scan_progress(self, scan_id: str) -> ScanProgress:
        async with self._pool.acquire() as conn:
            r = await conn.fetchrow(sql("scan_progress"), scan_id)
        return ScanProgress(**{k: int(v) for k, v in dict(r).items()})

    async def scan_hits(
        self, scan_id: str, *, after: int, limit: int = 1000
    ) -> list[tuple[int, str]]:
        """The hits a scan reported after hit `after`: (id, JSON row) each, in order."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("scan_hits_since"), scan_id, after, limit)
        return [(int(r["id"]), str(r["row"])) for r in rows]

    async def scan_problems(self, scan_id: str) -> list[tuple[str, str]]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("scan_problems"), scan_id)
        return [(str(r["origin"]), str(r["reason"])) for r in rows]

    @contextlib.asynccontextmanager
    async def source_lock(self, identity: str) -> AsyncIterator[bool]:
        """Try to hold the cluster-wide lock on a source identity for the block; yields whether
        it was taken. A session lock: no transaction stays open while the block runs."""
        async with self._pool.acquire() as conn:
            key = db_text(identity)
            locked = bool(await conn.fetchval(sql("source_lock"), key))
            try:
                yield locked
            finally:
                if locked:
                    await conn.fetchval(sql("source_unlock"), key)

    # -- dropped files: attempts, back-off, quarantine ----------------------------------------

    async def drop_begin(self, identity: str, location: str) -> int | None:
        """Count an attempt at a dropped file: the attempts so far, this one included, or None
        when the file is quarantined or backing off. Call under the file's source lock."""
        async with self._pool.acquire() as conn:
            n = await conn.fetchval(sql("drop_begin"), db_text(identity), db_text(location, WIDE))
        return int(n) if n is not None else None

    async def drop_failed(
        self, identity: str, reason: str, *, retry_in: float, max_attempts: int
    ) -> bool:
        """The attempt failed because of the file: back off `retry_in` seconds, or quarantine
        it when its attempts reached `max_attempts`. Returns whether it is quarantined."""
        async with self._pool.acquire() as conn:
            return bool(
                await conn.fetchval(
                    sql("drop_failed"),
                    db_text(identity),
                    db_text(reason),
                    float(retry_in),
                    max_attempts,
                )
            )

    async def drop_deferred(self, identity: str, reason: str, *, retry_in: float) -> None:
        """The attempt failed because of the machine: it does not count; retry later."""
        async with self._pool.acquire() as conn:
            await conn.execute(
                sql("drop_deferred"), db_text(identity), db_text(reason), float(retry_in)
            )

    async def drop_quarantine(self, identity: str, reason: str) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(sql("drop_quarantine"), db_text(identity), db_text(reason))

    async def drop_done(self, identity: str) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(sql("drop_done"), db_text(identity))

    async def quarantine_count(self) -> int:
        """How many dropped files are quarantined (for readiness and metrics)."""
        async with self._pool.acquire() as conn:
            return int(await conn.fetchval(sql("quarantine_count")))

    async def quarantined(self, limit: int = 20) -> list[Quarantined]:
        """Quarantined dropped files, newest first."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("quarantine_list"), limit)
        return [Quarantined(**dict(r)) for r in rows]

    # -- scheduled runs ---------------------------------------------------------------------

    async def finish_scan_run(self, job: str, scan_id: str) -> None:
        """Record a scheduled firing finished (every unit of its scan closed)."""
        async with self._pool.acquire() as conn:
            await conn.execute(sql("run_finish_scan"), job, scan_id)

    # -- exposures --------------------------------------------------------------------------

    async def exposure_by_id(self, exposure_id: int) -> Exposure | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(sql("exposure_by_id"), exposure_id)
        return Exposure.from_row(row) if row else None

    async def exposures_by_ids(self, exposure_ids: Sequence[int]) -> dict[int, Exposure]:
        """The exposures that exist among `exposure_ids`, by id."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("exposures_by_ids"), list(exposure_ids))
        return {int(r["id"]): Exposure.from_row(r) for r in rows}

    async def domain_sightings(self, domain: str) -> list[DomainSighting]:
        """Every sighting of the exposures whose host or login e-mail domain is `domain` or
        under it (label boundary), with its machine's facts."""
        escaped = domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("lookup_domain_sightings"), domain, f"%.{escaped}")
        return [
            DomainSighting(
                fingerprint=r["fingerprint"],
                kind=r["kind"],
                host=r["host"],
                login=r["login"],
                url=r["url"],
                infected_at=r["infected_at"] or r["exposure_infected_at"],
                origin=r["origin"],
                victim_hash=r["victim_hash"],
                family=r["family"],
                country=r["country"],
            )
            for r in rows
        ]

    async def lookup_started(
        self,
        *,
        actor: str,
        domain: str,
        scanned: bool,
        paths: Sequence[str],
        since: datetime | None,
    ) -> int:
        """The audit line of an ad-hoc lookup, written before it reads anything."""
        async with self._pool.acquire() as conn:
            return int(
                await conn.fetchval(
                    sql("lookup_audit_start"),
                    db_text(actor),
                    db_text(domain),
                    scanned,
                    [db_text(p, WIDE) for p in paths],
                    since,
                )
            )

    async def lookup_finished(self, lookup_id: int, counts: Mapping[str, int]) -> None:
        """The lookup's result counts, on its audit line."""
        async with self._pool.acquire() as conn:
            await conn.execute(sql("lookup_audit_finish"), lookup_id, json.dumps(dict(counts)))

    async def lookups(self, limit: int = 50) -> list[LookupAudit]:
        """The audit trail of ad-hoc lookups, newest first."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("lookups_list"), limit)
        return [
            LookupAudit(
                id=r["id"],
                actor=r["actor"],
                domain=r["domain"],
                scanned=r["scanned"],
                paths=tuple(r["paths"]),
                since=r["since"],
                started_at=r["started_at"],
                finished_at=r["finished_at"],
                counts=json.loads(r["counts"]) if r["counts"] else {},
            )
            for r in rows
        ]

    @contextlib.asynccontextmanager
    async def changes(
        self, *, cursor: int = 0, since: datetime | None = None, prefetch: int = 500
    ) -> AsyncIterator[Changes]:
        """The exposures changed at or after `cursor` (and seen or decided on since `since`),
        streamed in change order from one snapshot, with the cursor that follows them. Only
        changes of finished transactions are read, so each change is read by exactly one of a
        chain of calls that pass on `Changes.next_cursor`."""
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            horizon = max(int(await conn.fetchval(sql("change_horizon"))), cursor)
            rows = conn.cursor(
                sql("export_changes"), str(cursor), str(horizon), since, prefetch=prefetch
            )
            yield Changes(next_cursor=horizon, states=(_state(r) async for r in rows))

    async def purge(self, cutoff: datetime, *, dry_run: bool = False) -> PurgeCounts:
        """Delete what is past `cutoff` (see monitor/retention.py): closed exposures in
        batches, one transaction each, then the old rows of what is kept. A dry run does the
        same in one transaction and rolls it back: the counts of what would go."""
        async with self._pool.acquire() as conn:
            if dry_run:
                tr = conn.transaction()
                await tr.start()
                try:
                    return await self._purge(conn, cutoff, batch=lambda: _NOOP)
                finally:
                    await tr.rollback()
            return await self._purge(conn, cutoff, batch=conn.transaction)

    @staticmethod
    async def _purge(
        conn: asyncpg.Connection,
        cutoff: datetime,
        *,
        batch: Callable[[], contextlib.AbstractAsyncContextManager[object]],
    ) -> PurgeCounts:
        total = PurgeCounts()
        while True:
            async with batch():
                step = await purge_closed(conn, cutoff, BATCH)
            total += step
            if step.exposures < BATCH:
                break
        async with batch():
            return total + await purge_old(conn, cutoff)

    async def actions(self, *, exposure_id: int | None = None, limit: int = 200) -> list[ActionRow]:
        """The audit trail, newest first, optionally for one exposure."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("actions_list"), exposure_id, limit)
        return [
            ActionRow(action=Action.from_row(r), login=r["login"], host=r["host"]) for r in rows
        ]

    # -- decisions on containments awaiting approval --------------------------------------

    async def pending_approvals(self, *, limit: int = 500) -> list[PendingApproval]:
        """Containments waiting for a human, oldest first."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("pending_approvals"), limit)
        return [
            PendingApproval(
                exposure_id=int(r["exposure_id"]),
                provider=str(r["provider"]),
                login=str(r["login"]),
                dry_run=bool(r["dry_run"]),
                sessions_only=bool(r["sessions_only"]),
                reason=str(r["reason"]),
                since=r["created_at"],
                severity=int(r["severity"]),
                host=str(r["host"] or ""),
                partner=r["partner"],
                kind=str(r["kind"]),
            )
            for r in rows
        ]

    async def last_decision(self, exposure_id: int) -> DecisionRecord | None:
        """Who last approved or rejected the exposure's containment, when, and why."""
        async with self._pool.acquire() as conn:
            r = await conn.fetchrow(sql("decision_last"), exposure_id)
        if r is None:
            return None
        return DecisionRecord(
            outcome=str(r["outcome"]),
            decided_by=str(r["decided_by"]),
            detail=str(r["detail"] or ""),
            at=r["at"],
        )

    async def containment_states(self, exposure_id: int) -> list[ContainmentState]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("containment_states"), exposure_id)
        return [ContainmentState(**dict(r)) for r in rows]

    # -- lifecycle and suppression rules -----------------------------------------------------

    async def lifecycle(self, exposure_id: int) -> tuple[str, datetime] | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(sql("exposure_lifecycle"), exposure_id)
        return (row["lifecycle"], row["lifecycle_at"]) if row else None

    async def transitions(self, exposure_id: int) -> list[Transition]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("transitions_list"), exposure_id)
        return [Transition(**dict(r)) for r in rows]

    async def sightings(self, exposure_id: int, *, limit: int = 20) -> list[SightingRow]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("sightings_list"), exposure_id, limit)
        return [SightingRow(**dict(r)) for r in rows]

    async def suppressions(self) -> list[Rule]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("suppressions_list"))
        return [rule_from_row(r) for r in rows]

    async def add_suppression(self, field: str, pattern: str, reason: str, by: str) -> int:
        async with self._pool.acquire() as conn:
            return int(
                await conn.fetchval(
                    sql("suppression_add"), field, db_text(pattern), db_text(reason), db_text(by)
                )
            )

    async def remove_suppression(self, rule_id: int) -> bool:
        async with self._pool.acquire() as conn:
            return await conn.fetchval(sql("suppression_rm"), rule_id) is not None

    # -- status -----------------------------------------------------------------------------

    async def backlog(self) -> Backlog:
        async with self._pool.acquire() as conn:
            r = await conn.fetchrow(sql("status_backlog"))
        lag = r["outbox_lag"]
        return Backlog(
            outbox={str(k): int(v) for k, v in json.loads(r["outbox"]).items()},
            outbox_lag=float(lag) if lag is not None else None,
            containments_pending=int(r["containments_pending"]),
            awaiting_approval=int(r["awaiting_approval"]),
            containments_failed=int(r["containments_failed"]),
            sources_failed=int(r["sources_failed"]),
            exposures=int(r["exposures"]),
            exposures_open=int(r["exposures_open"]),
            alerts_sent=int(r["alerts_sent"]),
            alerts_dead=int(r["alerts_dead"]),
            actions=int(r["actions"]),
            lines_ingested=int(r["lines_ingested"]),
            problems=int(r["problems"]),
            quarantined=int(r["quarantined"]),
        )

    async def recent_sources(self, limit: int = 10) -> list[SourceRun]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("status_sources"), limit)
        return [SourceRun(**dict(r)) for r in rows]

    async def skipped(self, sources: int = 10, shown: int = 3) -> list[Skipped]:
        """What the latest `sources` runs skipped: a count per reason, most frequent first,
        with the first `shown` origins of each."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("status_skipped"), sources, shown)
        return [
            Skipped(reason=str(r["reason"]), count=int(r["n"]), origins=list(r["origins"]))
            for r in rows
        ]

    # -- containment: claim, (act), record --------------------------------------------------

    async def claim_containment(self, *, lease: float) -> ContainmentJob | None:
        """Claim the oldest due containment for `lease` seconds, committed before returning.
        Record its outcome with `Tx.finish_containment`; unrecorded, it is due again after the
        lease."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("containment_claim"), 1, float(lease))
        return ContainmentJob(**dict(rows[0])) if rows else None

    # -- alerts: claim, (send), record ------------------------------------------------------

    async def claim_alerts(
        self, channel: str, *, limit: int, lease: float, min_severity: int = 0
    ) -> list[ClaimedAlert]:
        """Claim up to `limit` due alerts of `channel` whose exposure is at `min_severity` or
        above, oldest first, for `lease` seconds, committed before returning. An alert leased or
        waiting for a retry holds back the later ones of its exposure. Record each with
        `alerts_sent` or `alerts_failed` (or give it back with `release_alerts`). The claim
        reads only the head of the channel's queue, whatever its length."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(sql("outbox_lock"), channel)
            rows = await conn.fetch(sql("outbox_claim"), channel, limit, float(lease), min_severity)
        return sorted((ClaimedAlert(**dict(r)) for r in rows), key=lambda a: a.id)

    async def alert_contexts(self, exposure_ids: Sequence[int]) -> dict[int, AlertContext]:
        """The infected machine's facts and the leak clock's marks of alerts' exposures, by id
        (one query for a whole delivery batch)."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("alert_context"), list(exposure_ids))
        return {
            int(row["exposure_id"]): AlertContext(
                country=row["country"],
                family=row["family"],
                infected_at=row["infected_at"],
                machine_hash=row["victim_hash"],
                other_credentials=int(row["other_credentials"] or 0),
                alerted_at=row["alerted_at"],
                contained_at=row["contained_at"],
            )
            for row in rows
        }

    async def containment_records(
        self, exposure_ids: Sequence[int]
    ) -> dict[int, list[ContainmentRecord]]:
        """The exposures' planned containments, as the advice reads them, by exposure id."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("containments_of"), list(exposure_ids))
        out: dict[int, list[ContainmentRecord]] = {}
        for r in rows:
            fields = dict(r)
            out.setdefault(int(fields.pop("exposure_id")), []).append(ContainmentRecord(**fields))
        return out

    async def step_records(self, exposure_ids: Sequence[int]) -> dict[int, list[StepRecord]]:
        """Each containment step's recorded outcome (done wins over later attempts), by
        exposure id."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("action_steps"), list(exposure_ids))
        out: dict[int, list[StepRecord]] = {}
        for r in rows:
            out.setdefault(int(r["exposure_id"]), []).append(
                StepRecord(
                    provider=r["provider"],
                    step=r["step"],
                    outcome=Outcome(r["outcome"]),
                    detail=r["detail"],
                )
            )
        return out

    async def partner_exposures(self, partner: str, since: datetime) -> list[Exposure]:
        """A partner's exposures last seen since `since`, oldest first, dismissed ones left out."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("partner_exposures"), partner, since)
        return [Exposure.from_row(r) for r in rows]

    async def alerts_sent(
        self, alert_ids: Sequence[int], ref: str | None, detail: str | None = None
    ) -> list[tuple[datetime, datetime, datetime | None]]:
        """Record alerts delivered (one post: one reference) and release their leases. Called
        after each post, so its commit does not wait for the disk: a crash of the database
        server (not of credwatch) in the next fraction of a second may make a delivery repeat,
        never one go missing. Returns (first seen, alerted, contained) of each exposure
        alerted here for the first time (the leak clock)."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                sql("outbox_sent"), list(alert_ids), ref, db_text(detail) if detail else None
            )
        return [(r["first_seen"], r["alerted_at"], r["contained_at"]) for r in rows]

    async def release_alerts(self, alert_ids: Sequence[int]) -> None:
        """Release claimed alerts that were not tried: due again at once, no attempt counted."""
        if alert_ids:
            async with self._pool.acquire() as conn:
                await conn.execute(sql("outbox_release"), list(alert_ids))

    async def alerts_failed(
        self, retries: Sequence[tuple[int, float]], error: str, *, max_attempts: int
    ) -> list[int]:
        """Record failed deliveries: (alert id, seconds until the next attempt) each. Returns the
        ids whose attempts reached `max_attempts`: dead-lettered, never claimed again."""
        dead = []
        async with self._pool.acquire() as conn, conn.transaction():
            for alert_id, delay in retries:
                if await conn.fetchval(
                    sql("outbox_failed"), alert_id, db_text(error), float(delay), max_attempts
                ):
                    dead.append(alert_id)
        return dead


async def _add_units(
    conn: asyncpg.Connection, p: PlannedSource, *, scan_id: str, owner: str | None
) -> list[Unit]:
    """Record a source and its units on `conn` (inside the caller's transaction)."""
    location, identity = db_text(p.location, WIDE), db_text(p.identity)
    source_id = int(
        await conn.fetchval(sql("source_start_owned"), p.kind, location, identity, owner)
    )
    units = []
    for span in p.spans:
        start, stop = span if span is not None else (None, None)
        unit_id = await conn.fetchval(
            sql("unit_add"), scan_id, source_id, location, start, stop, identity
        )
        units.append(
            Unit(
                unit_id=int(unit_id),
                scan_id=scan_id,
                source_id=source_id,
                path=location,
                identity=identity,
                start=start,
                stop=stop,
                feed=p.feed,
            )
        )
    return units


def _counters(t: SourceTotals) -> tuple[int, int, int, int, int, int]:
    """A source's or unit's counters in the order `source_finish` and `unit_finish` take them."""
    return (t.lines, t.bytes, t.records, t.matches, t.problems, t.skipped_lines)
