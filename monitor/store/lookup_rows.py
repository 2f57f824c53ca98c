"""The transient rows of an ad-hoc lookup read by workers: its units, and what they found.

The lookup command records its units (and queues them) in one transaction; a worker opens a
unit, adds what it found (masked: never a secret) and closes it; the command pages through the
findings once every unit is closed, then drops them. A unit read again after its worker died
adds nothing twice (unique on lookup, origin, line and rank at that line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from monitor.queue import LookupUnit, enqueue, forget, local_entrypoint, lookup_local
from monitor.store.queries import sql
from monitor.store.text import WIDE, db_opt, db_text

STALE_AFTER = 86_400.0  # seconds: the rows of a lookup started this long ago are left over


@dataclass(frozen=True, slots=True, kw_only=True)
class FoundRow:
    """One finding of a lookup unit, as stored: where it was read, and its masked facts."""

    origin: str
    line: int
    nth: int  # how many findings of the same origin and line came before it in the unit
    identity: str  # keyed fingerprint under the lookup's own key
    kind: str
    host: str
    login: str
    url: str
    infected_at: datetime | None
    family: str | None
    country: str | None
    machine: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupProgress:
    units: int
    closed: int
    failed: int
    lines: int
    bytes: int
    records: int
    problems: int
    error: str | None  # one failed unit's error

    @property
    def finished(self) -> bool:
        return self.closed >= self.units


class LookupRows:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def start(self, units: Sequence[LookupUnit], entrypoint: str) -> None:
        """Record a lookup's units and queue them, in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                sql("lookup_unit_add"), [(u.lookup_id, u.unit_no) for u in units]
            )
            await enqueue(conn, entrypoint, units)

    async def unit_open(self, lookup_id: int, unit_no: int) -> bool:
        """Is the unit still to be read (its lookup waiting, the unit not closed)?"""
        async with self._pool.acquire() as conn:
            status = await conn.fetchval(sql("lookup_unit_status"), lookup_id, unit_no)
        return bool(status == "queued")

    async def add(self, lookup_id: int, unit_no: int, rows: Sequence[FoundRow]) -> None:
        if not rows:
            return
        async with self._pool.acquire() as conn:
            await conn.executemany(
                sql("lookup_findings_add"),
                [
                    (
                        lookup_id,
                        unit_no,
                        db_text(r.origin, WIDE),
                        r.line,
                        r.nth,
                        r.identity,
                        r.kind,
                        db_text(r.host, WIDE),
                        db_text(r.login, WIDE),
                        db_text(r.url, WIDE),
                        r.infected_at,
                        db_opt(r.family),
                        db_opt(r.country),
                        r.machine,
                    )
                    for r in rows
                ],
            )

    async def finish(
        self,
        lookup_id: int,
        unit_no: int,
        *,
        status: str,
        lines: int,
        bytes_read: int,
        records: int,
        problems: int,
        error: str | None,
    ) -> None:
        """Close a unit once with its counters."""
        async with self._pool.acquire() as conn:
            await conn.execute(
                sql("lookup_unit_finish"),
                lookup_id,
                unit_no,
                status,
                lines,
                bytes_read,
                records,
                problems,
                db_opt(error),
            )

    async def progress(self, lookup_id: int) -> LookupProgress:
        async with self._pool.acquire() as conn:
            r = await conn.fetchrow(sql("lookup_units_progress"), lookup_id)
        return LookupProgress(
            units=int(r["units"]),
            closed=int(r["closed"]),
            failed=int(r["failed"]),
            lines=int(r["lines"]),
            bytes=int(r["bytes"]),
            records=int(r["records"]),
            problems=int(r["problems"]),
            error=r["error"],
        )

    async def found(
        self, lookup_id: int, *, after: int, limit: int = 5000
    ) -> list[tuple[int, FoundRow]]:
        """A page of the lookup's findings after finding `after`: (id, row) each, in id order."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql("lookup_findings_since"), lookup_id, after, limit)
        return [
            (
                int(r["id"]),
                FoundRow(
                    origin=r["origin"],
                    line=int(r["line"]),
                    nth=int(r["nth"]),
                    identity=r["identity"],
                    kind=r["kind"],
                    host=r["host"],
                    login=r["login"],
                    url=r["url"],
                    infected_at=r["infected_at"],
                    family=r["family"],
                    country=r["country"],
                    machine=r["machine"],
                ),
            )
            for r in rows
        ]

    async def drop(self, lookup_id: int, entrypoint: str | None = None) -> None:
        """Delete a lookup's rows (and what is still queued under its own `entrypoint`)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _drop(conn, [lookup_id])
            if entrypoint is not None:
                await forget(conn, [entrypoint])

    async def sweep(self, stale_after: float = STALE_AFTER) -> int:
        """Delete the rows of lookups that finished or started `stale_after` seconds ago or more
        (a lookup that died), with what is still queued for their own processes; returns how
        many lookups had rows left."""
        async with self._pool.acquire() as conn, conn.transaction():
            ids = [int(r["id"]) for r in await conn.fetch(sql("lookup_units_stale"), stale_after)]
            if ids:
                await _drop(conn, ids)
                await forget(conn, [local_entrypoint(lookup_local(i)) for i in ids])
        return len(ids)


async def _drop(conn: asyncpg.Connection, lookup_ids: list[int]) -> None:
    await conn.execute(sql("lookup_findings_drop_many"), lookup_ids)
    await conn.execute(sql("lookup_units_drop_many"), lookup_ids)
