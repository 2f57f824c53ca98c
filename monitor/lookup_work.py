"""An ad-hoc lookup's read of the dump library on workers: all cores, or the cluster.

The lookup cuts its paths into units as a scan does (byte ranges of text bases, whole paths
otherwise) and queues them; a worker reads a unit with the same files feed, screen (for that one
domain) and matcher as the lookup's own read, and hands back masked findings only — login,
host, masked URL, infection date, family, country, machine hash, origin — through a transient
table keyed by the lookup's id (its audit line). The lookup folds them with the same `Tally` as
its own read, then deletes them. Nothing else is written: no source, exposure, sighting or
alert. A unit read again after its worker died adds nothing twice (the rows are unique on
lookup, origin, line and rank at that line); a lookup that died leaves rows that the next
lookup, or `credwatch purge`, sweeps (`STALE_AFTER`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor import queue, worker
from monitor.app import App
from monitor.domain_lookup import Finding, LibraryRead, Tally, finding_of_match
from monitor.errors import CredwatchError, FeedError, failure_text
from monitor.keyed import keyed_hash
from monitor.pipeline import identity_of
from monitor.store.lookup_rows import STALE_AFTER, FoundRow, LookupProgress, LookupRows
from monitor.types import Match, Problem
from monitor.watchlist import domain_watchlist

log = logging.getLogger(__name__)

BATCH = 1000  # findings written per statement by a worker
PAGE = 5000  # findings read per statement by the lookup
_KEY_LABEL = b"credwatch lookup key v1"


def unit_key(key: bytes, unit: queue.LookupUnit) -> bytes:
    """The lookup's own fingerprint key: every worker derives the same one from its key (the
    deployment's), the lookup's id and salt. The database never holds it, and fingerprints
    under it match nothing the store keeps."""
    return bytes.fromhex(
        keyed_hash(key, _KEY_LABEL, str(unit.lookup_id).encode(), unit.salt.encode())
    )


# -- the worker's side ---------------------------------------------------------------------


async def run_unit(app: App, unit: queue.LookupUnit) -> None:
    """Read one unit of a lookup for its domain and add what it found (masked) to the
    lookup's rows; close the unit. A unit already closed, or whose lookup is gone, is skipped."""
    rows = app.store.lookup_rows()
    if not await rows.unit_open(unit.lookup_id, unit.unit_no):
        return
    log.info("lookup unit taken", extra={"lookup": unit.lookup_id, "unit": unit.unit_no})
    loop = asyncio.get_running_loop()
    pending: list[FoundRow] = []
    rank: Counter[tuple[str, int]] = Counter()
    problems = 0

    def put(batch: list[FoundRow]) -> None:  # from the reading thread: waits for the write
        asyncio.run_coroutine_threadsafe(
            rows.add(unit.lookup_id, unit.unit_no, batch), loop
        ).result()

    def on_match(m: Match, key: bytes) -> None:
        f = finding_of_match(m, key)
        at = (f.origin or "", m.credential.line or 0)
        pending.append(found_row(f, line=at[1], nth=rank[at]))
        rank[at] += 1
        if len(pending) >= BATCH:
            put(pending.copy())
            pending.clear()

    def on_problem(_: Problem) -> None:
        nonlocal problems
        problems += 1

    path = Path(unit.path)
    span = (unit.start, unit.stop) if unit.start is not None and unit.stop is not None else None
    status, error, lines, read, records = "done", None, 0, 0, 0
    try:
        if await asyncio.to_thread(identity_of, path) != unit.identity:
            raise FeedError("the input changed after it was queued")
        totals = await app.scanner.survey(
            [path],
            domain_watchlist(unit.domain),
            on_match=on_match,
            on_problem=on_problem,
            key=unit_key(app.key, unit),
            span=span,
            span_key=unit.identity,
        )
        await rows.add(unit.lookup_id, unit.unit_no, pending)
        lines, read, records = totals.lines, totals.bytes, totals.records
    except Exception as exc:
        status, error = "failed", failure_text(exc)
        log.warning(
            "lookup unit failed",
            extra={"lookup": unit.lookup_id, "unit": unit.unit_no, "error": type(exc).__name__},
        )
    await rows.finish(
        unit.lookup_id,
        unit.unit_no,
        status=status,
        lines=lines,
        bytes_read=read,
        records=records,
        problems=problems,
        error=error,
    )


def found_row(f: Finding, *, line: int, nth: int) -> FoundRow:
    return FoundRow(
        origin=f.origin or "",
        line=line,
        nth=nth,
        identity=f.identity,
        kind=f.kind,
        host=f.host,
        login=f.login,
        url=f.url,
        infected_at=f.infected_at,
        family=f.family,
        country=f.country,
        machine=f.machine,
    )


def finding_of_row(r: FoundRow) -> Finding:
    return Finding(
        identity=r.identity,
        kind=r.kind,
        host=r.host,
        login=r.login,
        url=r.url,
        infected_at=r.infected_at,
        family=r.family,
        country=r.country,
        machine=r.machine,
        origin=r.origin or None,
    )


# -- the lookup's side ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitsRead:
    """The library read by workers, and the units that failed (counted as problems)."""

    read: LibraryRead
    units: int
    failed: int
    error: str | None


async def plan(
    app: App, lookup_id: int, domain: str, paths: Sequence[Path], *, range_size: int, streams: int
) -> list[queue.LookupUnit]:
    """The lookup's units in queue order, numbered in reading order (path, then offset)."""
    salt = secrets.token_hex(16)
    units: list[queue.LookupUnit] = []
    for source in await app.scanner.plan(paths, range_size=range_size, streams=streams):
        order = sorted(source.spans, key=lambda s: -1 if s is None else s[0])
        number = {span: len(units) + i for i, span in enumerate(order)}
        units.extend(
            queue.LookupUnit(
                lookup_id=lookup_id,
                unit_no=number[span],
                domain=domain,
                path=source.location,
                identity=source.identity,
                salt=salt,
                start=None if span is None else span[0],
                stop=None if span is None else span[1],
            )
            for span in source.spans
        )
    return units


async def read(
    app: App,
    *,
    config: Path,
    lookup_id: int,
    domain: str,
    paths: Sequence[Path],
    shown: Sequence[str],
    since: datetime | None,
    processes: int,
    cluster: bool,
    range_size: int = 0,
) -> UnitsRead:
    """Read `paths` for `domain` on `processes` local processes (this one and the others it
    starts), or on the cluster's workers; fold what they found into the lookup's answer."""
    rows = app.store.lookup_rows()
    local = queue.lookup_local(lookup_id)
    entry = queue.CLUSTER if cluster else queue.local_entrypoint(local)
    if not range_size:
        range_size = worker.DEFAULT_RANGE if cluster else worker.range_for(paths, processes)
    procs = []
    if not cluster:  # started first: they load while this process queues the units
        args = worker.worker_args(config, lease=worker.LOCAL_LEASE, local=local)
        procs = worker.spawn(min(processes, worker.units_hint(paths, range_size)) - 1, args)
    started = time.monotonic()
    try:
        units = await plan(
            app,
            lookup_id,
            domain,
            paths,
            range_size=range_size,
            streams=1 if cluster else processes,
        )
        await rows.start(units, entry)
        drain = worker.LocalDrain(app, entry)
        try:
            keep_going = None if cluster else drain.keep_going
            progress = await follow(rows, lookup_id, keep_going=keep_going)
        finally:
            worker.stop(procs)
            await drain.aclose()
        if progress.units != len(units):
            raise CredwatchError(
                f"lookup {lookup_id}: its units were swept while it ran (started over "
                f"{STALE_AFTER:.0f} s ago?)"
            )
        tally = Tally(domain, since=since)
        after = 0
        while True:
            page = await rows.found(lookup_id, after=after, limit=PAGE)
            for found_id, row in page:
                tally.add(finding_of_row(row))
                after = found_id
            if len(page) < PAGE:
                break
    finally:
        worker.stop(procs)
        await asyncio.shield(rows.drop(lookup_id, None if cluster else entry))
    library = LibraryRead(
        paths=tuple(shown),
        lines=progress.lines,
        bytes=progress.bytes,
        records=progress.records,
        problems=progress.problems + progress.failed,
        seconds=time.monotonic() - started,
        summary=tally.summary(),
    )
    return UnitsRead(
        read=library, units=progress.units, failed=progress.failed, error=progress.error
    )


async def follow(
    rows: LookupRows, lookup_id: int, *, keep_going: Callable[[], None] | None = None
) -> LookupProgress:
    """Wait until every unit of the lookup is closed. `keep_going` is called on each round (to
    drain in this process again while units are left)."""
    while True:
        progress = await rows.progress(lookup_id)
        if progress.finished:
            return progress
        if keep_going is not None:
            keep_going()
        await asyncio.sleep(worker.FOLLOW_EVERY)
