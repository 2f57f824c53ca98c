"""Retention in the database: what a purge deletes and anonymises, in short transactions."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

import asyncpg

from monitor.store.queries import sql

BATCH = 500  # closed exposures purged per transaction


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgeCounts:
    """What a purge deleted, anonymised and kept, per kind of row."""

    exposures: int = 0  # resolved or dismissed exposures deleted
    sightings: int = 0
    alerts: int = 0  # delivered or dead-lettered outbox rows
    scan_hits: int = 0
    problems: int = 0
    line_marks: int = 0  # line counts published for range units
    actions_anonymised: int = 0  # audit rows kept without personal data
    transitions_anonymised: int = 0
    containments_anonymised: int = 0
    kept_open: int = 0  # open or acknowledged exposures not seen since the cut-off, kept

    def __add__(self, other: PurgeCounts) -> PurgeCounts:
        return PurgeCounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def deleted(self) -> dict[str, int]:
        return {
            "exposures": self.exposures,
            "sightings": self.sightings,
            "alerts": self.alerts,
            "scan_hits": self.scan_hits,
            "problems": self.problems,
            "line_marks": self.line_marks,
        }


async def purge_closed(conn: asyncpg.Connection, cutoff: datetime, limit: int) -> PurgeCounts:
    """Delete up to `limit` closed exposures past `cutoff` with their sightings, alerts and scan
    hits, keeping their audit rows without personal data. Run inside a transaction."""
    ids = [int(r["id"]) for r in await conn.fetch(sql("purge_pick"), cutoff, limit)]
    if not ids:
        return PurgeCounts()
    doomed = await conn.fetchrow(sql("purge_doomed"), ids)
    actions = await conn.execute(sql("purge_actions"), ids)
    transitions = await conn.execute(sql("purge_transitions"), ids)
    containments = await conn.execute(sql("purge_containments"), ids)
    exposures = await conn.fetchval(sql("purge_exposures"), ids)
    return PurgeCounts(
        exposures=int(exposures),
        sightings=int(doomed["sightings"]),
        alerts=int(doomed["alerts"]),
        scan_hits=int(doomed["scan_hits"]),
        actions_anonymised=_rows(actions),
        transitions_anonymised=_rows(transitions),
        containments_anonymised=_rows(containments),
    )


async def purge_old(conn: asyncpg.Connection, cutoff: datetime) -> PurgeCounts:
    """Delete the old rows of what is kept: sightings but the latest of each exposure, alerts
    delivered or dead but announcements, scan hits, problems, published line counts; count the
    open exposures kept."""
    return PurgeCounts(
        sightings=int(await conn.fetchval(sql("purge_sightings"), cutoff)),
        alerts=int(await conn.fetchval(sql("purge_alerts"), cutoff)),
        scan_hits=int(await conn.fetchval(sql("purge_scan_hits"), cutoff)),
        problems=int(await conn.fetchval(sql("purge_problems"), cutoff)),
        line_marks=int(await conn.fetchval(sql("purge_line_marks"), cutoff)),
        kept_open=int(await conn.fetchval(sql("purge_kept_open"), cutoff)),
    )


def _rows(status: str) -> int:
    """The row count of a command status such as `UPDATE 3`."""
    return int(status.rsplit(" ", 1)[-1])
