"""Store matches in batches: one transaction and a few multi-row statements per batch, leaving
the rows that storing each match in its own transaction, in order, would leave (exposures,
sightings, containment plans, alerts, scan reports).

A batch is written whole or not at all. A batch PostgreSQL refuses for a row's own content is
written again one match at a time, so only that match becomes a counted problem; one that loses
a deadlock to a concurrent writer is written again as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import asyncpg

from monitor import leak_clock
from monitor.routing import Routes
from monitor.store.batch import Prepared, QueuedAlert, ScanHit, prepare
from monitor.store.records import Recorded
from monitor.store.store import RowRefused, Store
from monitor.store.tx import Tx
from monitor.types import Match, Problem

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH_SIZE = 1000  # matches written in one transaction at most
BATCH_WAIT = 0.5  # seconds a match may wait for its batch to fill up
# The same for a match some channel sends on its own, at once: as long as the deliverer waits
# between two looks at the outbox (`App.delivering`), so such an alert goes out within about
# 0.4 s of its line being read. At 0.05 s it went out at most 0.15 s sooner, but a scan's writes
# came in many small batches: a first scan of 2,000 hits, 120 of them critical, took 0.3 s more.
URGENT_WAIT = 0.2
DEADLOCK_TRIES = 5
# A batch is stored a chunk at a time, in its one transaction: the next chunk's rows are made
# ready while PostgreSQL stores this one's, and a chunk's scan report rows while it queues the
# chunk's alerts or stores the next chunk (its report rows go after that).
CHUNK = 250


@dataclass(frozen=True, slots=True, kw_only=True)
class Sighting:
    """One match as stored: the exposure it belongs to and whether it was news."""

    match: Match
    exposure_id: int
    new_exposure: bool
    new_sighting: bool


class PlanLike(Protocol):
    @property
    def summary(self) -> str: ...

    @property
    def alert(self) -> bool: ...

    @property
    def event(self) -> str: ...


class Planner(Protocol):
    """Decides, inside the storing transaction, what to do about a new exposure."""

    async def plan(self, tx: Tx, m: Match, exposure_id: int) -> PlanLike: ...


Report = Callable[[Sighting], str]  # a sighting as the scan output shows it (JSON, hints only)


def origin_of(m: Match) -> str:
    c = m.credential
    return f"{c.origin}:{c.line}" if c.line else c.origin


def kind_of(exc: BaseException) -> str:
    """An error's class name: a constant phrase, never its message (which may quote the input)."""
    return type(exc).__name__


class HitWriter:
    """Writes batches of matches of one source; see the module's docstring."""

    def __init__(
        self,
        store: Store,
        *,
        key: bytes,
        previous_keys: Sequence[bytes],
        planner: Planner | None,
        routes: Routes,
    ) -> None:
        self.store = store
        self.key = key
        self.previous_keys = tuple(previous_keys)
        self.planner = planner
        self.routes = routes

    def urgent(self, m: Match) -> bool:
        """Is `m` sent on its own by some channel (so its batch should not wait long)?"""
        return any(r.wants(m) and not r.grouped(m.severity) for r in self.routes.routes)

    async def write(
        self, batch: Sequence[Match], source_id: int, hit: tuple[str, Report] | None = None
    ) -> list[Sighting | Problem]:
        """Store `batch`; per match, in order, its sighting or the problem that refused it."""
        if not batch:
            return []
        try:
            return list(await self._retrying(batch, source_id, hit))
        except RowRefused as exc:
            if len(batch) == 1:
                return [
                    Problem(origin=origin_of(batch[0]), reason=f"not storable ({kind_of(exc)})")
                ]
        out: list[Sighting | Problem] = []
        for m in batch:  # only the refused match is lost, as when each had its own transaction
            out.extend(await self.write([m], source_id, hit))
        return out

    async def _retrying(
        self, batch: Sequence[Match], source_id: int, hit: tuple[str, Report] | None
    ) -> list[Sighting]:
        for attempt in range(1, DEADLOCK_TRIES + 1):
            try:
                return await self._write(batch, source_id, hit)
            except asyncpg.DeadlockDetectedError:
                if attempt == DEADLOCK_TRIES:
                    raise
                log.info("hit batch deadlocked, written again", extra={"attempt": attempt})
                await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    async def _write(
        self, batch: Sequence[Match], source_id: int, hit: tuple[str, Report] | None
    ) -> list[Sighting]:
        chunks = [batch[i : i + CHUNK] for i in range(0, len(batch), CHUNK)]
        ready: list[Prepared] = []

        def prepare_next() -> None:
            if len(ready) < len(chunks):
                ready.append(prepare(chunks[len(ready)], self.key))

        unreported: list[Sighting] = []  # stored, their scan report rows not made yet
        rows: list[ScanHit] = []  # scan report rows made, not sent yet

        def report_rows() -> None:
            if hit is not None:
                rows.extend(
                    ScanHit(
                        exposure_id=s.exposure_id,
                        origin=s.match.credential.origin,
                        line=s.match.credential.line or 0,
                        row=hit[1](s),
                    )
                    for s in unreported
                )
            unreported.clear()

        def ahead() -> None:
            report_rows()
            prepare_next()

        prepare_next()
        sightings: list[Sighting] = []
        async with self.store.transaction() as tx:

            async def send_rows() -> None:
                if hit is not None and rows:
                    sent = rows.copy()
                    rows.clear()
                    await _overlapped(tx.add_scan_hits(hit[0], sent), prepare_next)

            for i, chunk in enumerate(chunks):
                recorded = await _overlapped(
                    tx.record_matches(
                        chunk,
                        key=self.key,
                        source_id=source_id,
                        previous=self.previous_keys,
                        prepared=ready[i],
                    ),
                    ahead,
                )
                await send_rows()  # the chunk before's
                alerts: list[QueuedAlert] = []
                for m, rec in zip(chunk, recorded, strict=True):
                    if rec.new_exposure:
                        summary, alert, event = "", True, "new"
                        if self.planner is not None:
                            plan = await self.planner.plan(tx, m, rec.exposure_id)
                            summary, alert, event = plan.summary, plan.alert, plan.event
                        if alert:  # "new", or "approval_needed" when a human must decide first
                            self._alerts(alerts, m, rec, event, "", summary)
                    elif rec.material:
                        self._alerts(alerts, m, rec, "updated", rec.material, rec.material)
                    s = Sighting(
                        match=m,
                        exposure_id=rec.exposure_id,
                        new_exposure=rec.new_exposure,
                        new_sighting=rec.new_sighting,
                    )
                    sightings.append(s)
                    unreported.append(s)
                if alerts:
                    await _overlapped(tx.enqueue_alerts(alerts), report_rows)
            report_rows()
            await send_rows()
        now = datetime.now(UTC)
        for s in sightings:  # committed: observed once, an exposure's creation is never repeated
            if s.new_exposure:
                c = s.match.credential
                leak_clock.seen(c.infected_at, c.first_seen or now)
        return sightings

    def _alerts(
        self,
        out: list[QueuedAlert],
        m: Match,
        rec: Recorded,
        event: str,
        event_key: str,
        summary: str,
    ) -> None:
        origin = origin_of(m)
        for channel in self.routes.channels_for(m):
            out.append(
                QueuedAlert(
                    exposure_id=rec.exposure_id,
                    channel=channel,
                    event=event,
                    event_key=event_key,
                    origin=origin,
                    summary=summary,
                    severity=rec.severity,
                )
            )


async def _overlapped(statement: Awaitable[T], work: Callable[[], None]) -> T:
    """Await `statement` with `work` done while PostgreSQL runs it: `work` runs once the
    statement is sent (a statement still waiting to be sent merely runs after it)."""
    task = asyncio.ensure_future(statement)
    # Its failure is retrieved even when the write is cancelled at the moment it fails (the
    # caller hears of the cancellation; nothing logs an unretrieved exception).
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    try:
        await asyncio.sleep(0)  # the statement goes out
        work()
    except BaseException:  # the statement is not left running on the connection
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise
    return await task


class Pending:
    """Matches waiting for their batch, with the problems met between them, in order: callers
    hear of both once the batch is written, in the order they came. A batch is due when full,
    `wait` seconds after its first item, or `urgent_wait` after an urgent match (one a channel
    sends on its own, at once)."""

    def __init__(
        self, size: int = BATCH_SIZE, wait: float = BATCH_WAIT, urgent_wait: float = URGENT_WAIT
    ) -> None:
        self.size = size
        self.wait = wait
        self.urgent_wait = urgent_wait
        self.items: list[Match | Problem] = []
        self.matches = 0
        self._due: float | None = None

    def add(self, item: Match | Problem, *, urgent: bool = False) -> None:
        due = time.monotonic() + (self.urgent_wait if urgent else self.wait)
        if self._due is None or due < self._due:
            self._due = due
        self.items.append(item)
        if isinstance(item, Match):
            self.matches += 1

    @property
    def full(self) -> bool:
        return self.matches >= self.size

    def timeout(self) -> float | None:
        """Seconds until the batch is due (None: nothing waits)."""
        if self._due is None:
            return None
        return max(0.0, self._due - time.monotonic())

    def take(self) -> list[Match | Problem]:
        items, self.items, self.matches, self._due = self.items, [], 0, None
        return items
