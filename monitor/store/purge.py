"""Retention in the database: what one purge deletes and anonymises, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from monitor.store.queries import sql


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgeCounts:
    """What a purge deleted, anonymised and kept, per kind of row."""

    exposures: int = 0  # resolved or dismissed exposures deleted
    sightings: int = 0
    alerts: int = 0  # delivered or dead-lettered outbox rows
    scan_hits: int = 0
    problems: int = 0
    actions_anonymised: int = 0  # audit rows kept without personal data
    transitions_anonymised: int = 0
    containments_anonymised: int = 0
    kept_open: int = 0  # open or acknowledged exposures not seen since the cut-off, kept

    def deleted(self) -> dict[str, int]:
        return {
            "exposures": self.exposures,
            "sightings": self.sightings,
            "alerts": self.alerts,
            "scan_hits": self.scan_hits,
            "problems": self.problems,
        }


async def purge_past(conn: asyncpg.Connection, cutoff: datetime) -> PurgeCounts:
    """Delete what is past `cutoff`; run inside a transaction (the caller commits or rolls back)."""
    ids = [int(r["id"]) for r in await conn.fetch(sql("purge_pick"), cutoff)]
    actions = await conn.execute(sql("purge_actions"), ids)
    transitions = await conn.execute(sql("purge_transitions"), ids)
    containments = await conn.execute(sql("purge_containments"), ids)
    sightings = await conn.fetchval(sql("purge_sightings"), cutoff, ids)
    alerts = await conn.fetchval(sql("purge_alerts"), cutoff, ids)
    scan_hits = await conn.fetchval(sql("purge_scan_hits"), cutoff, ids)
    problems = await conn.fetchval(sql("purge_problems"), cutoff)
    exposures = await conn.fetchval(sql("purge_exposures"), ids)
    kept_open = await conn.fetchval(sql("purge_kept_open"), cutoff)
    return PurgeCounts(
        exposures=int(exposures),
        sightings=int(sightings),
        alerts=int(alerts),
        scan_hits=int(scan_hits),
        problems=int(problems),
        actions_anonymised=_rows(actions),
        transitions_anonymised=_rows(transitions),
        containments_anonymised=_rows(containments),
        kept_open=int(kept_open),
    )


def _rows(status: str) -> int:
    """The row count of a command status such as `UPDATE 3`."""
    return int(status.rsplit(" ", 1)[-1])
