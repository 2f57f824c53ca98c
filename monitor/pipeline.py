"""The scan pipeline, the one match site: feed records → match → victim grouping → store → outbox.

A path feed runs in a worker thread; its records are matched there (with the watchlist) and
only matches cross the bounded queue to the store writer on the event loop. API feeds are
matched by the same function, on the loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

from monitor import proc
from monitor.config import Config
from monitor.errors import FeedError, failure_text, resource_fault
from monitor.feed import (
    ApiFeed,
    ArchiveLimits,
    FeedTotals,
    FileRecord,
    PathFeed,
    ReadContext,
    Screen,
    Targets,
)
from monitor.handoff import EMPTY, Handoff
from monitor.hits import HitWriter, Pending, Planner, Report, Sighting, kind_of
from monitor.identity_screen import IdentityScreen
from monitor.line_marks import StoreMarks
from monitor.matcher import match
from monitor.normalize import split_url
from monitor.problem_log import ProblemLog
from monitor.queue import Unit
from monitor.routing import Routes
from monitor.screen import build_screen
from monitor.store.records import PlannedSource, SourceTotals
from monitor.store.store import Store
from monitor.types import Match, Problem, VictimInfo

__all__ = ["Planner", "Report", "Scanner", "Sighting", "SourceResult", "identity_of"]
from monitor.victims import Victims
from monitor.watchlist import Watchlist

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
MAX_PROBLEMS_STORED = 1000
_END = object()


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceResult:
    location: str
    source_id: int
    status: str
    totals: FeedTotals
    error: str | None = None


OnSighting = Callable[[Sighting], Awaitable[None] | None]
OnProblem = Callable[[Problem], Awaitable[None] | None]


def poll_identity(kind: str, feed: str) -> str:
    """What makes an API poll's source: the feed (its targets come from the config)."""
    return f"{kind}:{feed}"


def interleave(spans: list[tuple[int, int]], streams: int) -> list[tuple[int, int]]:
    """The queue order of a file's ranges for `streams` processes: the file cut into
    `streams` runs of consecutive ranges, taken two ranges of each run in turn (a process
    holds two units at a time). A process then mostly reads consecutive ranges, and knows the
    line count at the start of the next one from the end of the last: only the first range of
    each run costs a count of the newlines before it. The order never changes what is found."""
    if streams <= 1 or len(spans) <= 2:
        return spans
    size = -(-len(spans) // streams)
    runs = [spans[i : i + size] for i in range(0, len(spans), size)]
    order: list[tuple[int, int]] = []
    for at in range(0, size, 2):
        for run in runs:
            order.extend(run[at : at + 2])
    return order


def _canonical(path: Path) -> Path:
    """The path a file is known by whatever path it was given by: absolute, symlinks and
    `..` resolved (an unreadable path is kept as given: the read reports it)."""
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):
        return path


def identity_of(path: Path) -> str:
    """What makes a source the same source: absolute path, size and modification time."""
    st = path.stat()
    kind = "dir" if path.is_dir() else "file"
    return f"{kind}:{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"


class Scanner:
    def __init__(
        self,
        store: Store,
        config: Config,
        watch: Watchlist,
        *,
        feed: PathFeed,
        key: bytes,
        channels: Sequence[str],
        workdir: Path,
        previous_keys: Sequence[bytes] = (),
        planner: Planner | None = None,
        progress: Callable[[int], None] | None = None,
        routes: Routes | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.watch = watch
        self.feed = feed
        self.channels = tuple(channels)
        self.routes = routes or Routes.every(self.channels)
        self.planner = planner
        sc = config.scan
        self.context = ReadContext(
            limits=ArchiveLimits(
                max_depth=sc.max_depth,
                max_member_size=sc.max_member_size,
                max_total_size=sc.max_total_size,
                max_ratio=sc.max_ratio,
            ),
            passwords=sc.archive_passwords,
            workdir=workdir,
            max_line=sc.max_line,
            member_cpu_seconds=sc.member_cpu_seconds,
            screen=screen_for(watch),
            progress=progress,
            threads=sc.threads or proc.cores(),
        )
        self.key = key
        self.previous_keys = tuple(previous_keys)
        self.writer = HitWriter(
            store, key=key, previous_keys=previous_keys, planner=planner, routes=self.routes
        )

    async def scan(
        self,
        paths: Sequence[Path],
        *,
        on_sighting: OnSighting | None = None,
        on_problem: OnProblem | None = None,
        kind: str = "file",
    ) -> list[SourceResult]:
        limit = asyncio.Semaphore(max(1, self.config.scan.workers))

        async def one(path: Path) -> SourceResult:
            async with limit:
                return await self.scan_path(
                    path, on_sighting=on_sighting, on_problem=on_problem, kind=kind
                )

        return list(await asyncio.gather(*(one(p) for p in paths)))

    async def scan_path(
        self,
        path: Path,
        *,
        on_sighting: OnSighting | None = None,
        on_problem: OnProblem | None = None,
        kind: str = "file",
    ) -> SourceResult:
        path = _canonical(path)  # the same file by any path is one source, one origin
        location = str(path)
        source_id = await self.store.start_source(
            kind=kind, location=location, identity=identity_of(path), owner=str(proc.me())
        )
        totals = FeedTotals()
        try:
            await self._read(
                path,
                self.context,
                source_id,
                totals,
                on_sighting=on_sighting,
                on_problem=on_problem,
            )
        except BaseException as exc:
            error = failure_text(exc)
            await asyncio.shield(self._finish(source_id, "failed", totals, error))
            raise
        await asyncio.shield(self._finish(source_id, "done", totals, None))
        return SourceResult(location=location, source_id=source_id, status="done", totals=totals)

    async def enqueue(
        self,
        paths: Sequence[Path],
        *,
        scan_id: str,
        entrypoint: str,
        range_size: int,
        kind: str = "file",
        owner: str | None = None,
        streams: int = 1,
    ) -> int:
        """Record each path as a source and queue its units (byte ranges of a large text base,
        else the whole path) in the same transaction; returns how many units were queued.
        `owner`: the process whose own workers drain them (a local scan)."""
        count = 0
        planned_sources = await self.plan(paths, range_size=range_size, kind=kind, streams=streams)
        for planned in planned_sources:
            units = await self.store.start_source_units(
                kind=planned.kind,
                location=planned.location,
                identity=planned.identity,
                scan_id=scan_id,
                spans=planned.spans,
                entrypoint=entrypoint,
                owner=owner,
            )
            count += len(units)
        return count

    async def plan(
        self, paths: Sequence[Path], *, range_size: int, kind: str = "file", streams: int = 1
    ) -> list[PlannedSource]:
        """Each path as a source to queue, cut into byte ranges where it can be, queued in
        `streams` interleaved runs of consecutive ranges (see `interleave`)."""

        def one(path: Path) -> PlannedSource:
            path = _canonical(path)
            spans = self.feed.split(path, range_size)
            return PlannedSource(
                kind=kind,
                location=str(path),
                identity=identity_of(path),
                spans=interleave(list(spans), streams) if spans else [None],
            )

        return [await asyncio.to_thread(one, p) for p in paths]

    async def run_unit(
        self,
        unit: Unit,
        *,
        report: Report,
        api_feeds: Mapping[str, ApiFeed] | None = None,
        on_sighting: OnSighting | None = None,
    ) -> None:
        """Read one unit (or run one API poll), store its matches with the scan's report of
        each, close the unit. A unit already closed is skipped; one run again after a lost
        lease stores nothing twice (sightings, alerts, reports and problems are unique on what
        was found, not on the run)."""
        if not await self.store.unit_open(unit.unit_id):
            return
        path = Path(unit.path)
        totals = FeedTotals()
        status, error = "done", None
        try:
            if unit.feed:
                feed = (api_feeds or {}).get(unit.feed)
                if feed is None:
                    raise FeedError(f"feed {unit.feed!r} is not configured in this process")
                done = await self.ingest(
                    feed, kind=unit.feed, source_id=unit.source_id, on_sighting=on_sighting
                )
                totals = done.totals
            elif await asyncio.to_thread(identity_of, path) != unit.identity:
                raise FeedError("the input changed after it was queued")
            else:
                span = (
                    (unit.start, unit.stop)
                    if unit.start is not None and unit.stop is not None
                    else None
                )
                ctx = replace(
                    self.context,
                    span=span,
                    span_key=unit.identity,
                    progress=None,
                    marks=StoreMarks(self.store, asyncio.get_running_loop()),
                )
                await self._read(
                    path,
                    ctx,
                    unit.source_id,
                    totals,
                    on_sighting=on_sighting,
                    hit=(unit.scan_id, report),
                )
        except Exception as exc:
            status, error = "failed", failure_text(exc)
            log.warning("unit failed", extra={"unit": unit.unit_id, "error": type(exc).__name__})
        await self.store.finish_unit(
            unit, status=status, totals=_source_totals(totals), error=error
        )

    async def _read(
        self,
        path: Path,
        context: ReadContext,
        source_id: int,
        totals: FeedTotals,
        *,
        on_sighting: OnSighting | None = None,
        on_problem: OnProblem | None = None,
        hit: tuple[str, Report] | None = None,
    ) -> None:
        """Run the feed over `path` in a thread, match there, store here (the match site)."""
        loop = asyncio.get_running_loop()
        # At most QUEUE_SIZE matches wait for the writer; the reader waits when they do.
        handoff = Handoff(loop, QUEUE_SIZE)
        stop = threading.Event()

        def produce() -> None:
            try:
                records = self.feed.read(path, context, totals)
                for item in matches(records, self.watch, Victims(self.key), totals):
                    if stop.is_set():
                        return
                    handoff.put(item)
            except BaseException as exc:  # forwarded to the writer, which re-raises it
                handoff.put(exc)
            finally:
                handoff.put(_END)

        producer = loop.run_in_executor(None, produce)
        pending = Pending()
        stored_problems = 0
        problem_log = ProblemLog(str(path))

        async def flush() -> None:
            for item in await self._flush(pending, source_id, totals, hit):
                if isinstance(item, Sighting):
                    if on_sighting is not None:
                        await _maybe_await(on_sighting(item))
                elif on_problem is not None:
                    await _maybe_await(on_problem(item))

        try:
            while True:
                item = handoff.take_nowait()
                if item is EMPTY:
                    item = await handoff.take(pending.timeout())
                    if item is EMPTY:
                        await flush()  # a match waits at most BATCH_WAIT for its batch
                        continue
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    if isinstance(item, Exception):
                        await flush()  # what was found before the input failed is kept
                    raise item
                if isinstance(item, Match):
                    pending.add(item, urgent=self.writer.urgent(item))
                    if pending.full or pending.timeout() == 0.0:
                        await flush()
                    continue
                assert isinstance(item, Problem)
                if stored_problems < MAX_PROBLEMS_STORED:
                    stored_problems += 1
                    await self.store.add_problem(source_id, item.origin, item.reason)
                problem_log.add(item)
                if pending.matches:
                    pending.add(item)  # heard of after the matches before it
                elif on_problem is not None:
                    await _maybe_await(on_problem(item))
            await flush()  # before the caller closes the source or the unit
        except BaseException:
            stop.set()
            # Drain so the producer thread is never blocked waiting for a slot.
            while not producer.done():
                if handoff.take_nowait() is EMPTY:
                    await asyncio.sleep(0.01)
            raise
        finally:
            problem_log.close()
        await producer

    async def survey(
        self,
        paths: Sequence[Path],
        watch: Watchlist,
        *,
        on_match: Callable[[Match, bytes], None],
        on_problem: Callable[[Problem], None],
        progress: Callable[[int], None] | None = None,
        key: bytes | None = None,
        span: tuple[int, int] | None = None,
        span_key: str = "",
    ) -> FeedTotals:
        """Read-only: read `paths` with the same feed, archive limits and match site as a scan,
        screened for `watch`, and hand each match (with the key that hashed its machine id) to
        `on_match` in the reading thread. Nothing is stored: no source, exposure or alert.
        `key`: the key machine ids are hashed with (default: a new one, forgotten after);
        `span`: read only this byte range of the one path (an ad-hoc lookup's unit)."""
        context = replace(
            self.context, screen=screen_for(watch), progress=progress, span=span, span_key=span_key
        )
        # By default machine ids are hashed with a key of their own, forgotten after.
        hashed_by = key if key is not None else secrets.token_bytes(32)
        stop = threading.Event()

        def run() -> FeedTotals:
            total = FeedTotals()
            for path in paths:
                totals = FeedTotals()
                records = self.feed.read(path, context, totals)
                for item in matches(records, watch, Victims(hashed_by), totals):
                    if stop.is_set():
                        return total
                    if isinstance(item, Match):
                        on_match(item, hashed_by)
                    else:
                        on_problem(item)
                for f in fields(FeedTotals):
                    setattr(total, f.name, getattr(total, f.name) + getattr(totals, f.name))
            return total

        try:
            return await asyncio.to_thread(run)
        finally:
            stop.set()

    async def _flush(
        self,
        pending: Pending,
        source_id: int,
        totals: FeedTotals,
        hit: tuple[str, Report] | None = None,
    ) -> list[Sighting | Problem]:
        """Write the pending matches as one batch; the pending items in order, each match as
        its sighting or as the problem that kept it from being stored (counted, stored)."""
        items = pending.take()
        written = iter(
            await self.writer.write([i for i in items if isinstance(i, Match)], source_id, hit)
        )
        out: list[Sighting | Problem] = []
        for item in items:
            if isinstance(item, Match):
                done = next(written)
                if isinstance(done, Problem):
                    totals.problems += 1
                    await self.store.add_problem(source_id, done.origin, done.reason)
                    log.warning(
                        "input skipped", extra={"origin": done.origin, "reason": done.reason}
                    )
                out.append(done)
            else:
                out.append(item)
        return out

    async def ingest(
        self,
        feed: ApiFeed,
        *,
        kind: str = "api",
        on_sighting: OnSighting | None = None,
        source_id: int | None = None,
    ) -> SourceResult:
        """Match and store the records an exposure API gives about the organisation's targets
        (under `source_id` when the poll was queued as a unit, else a new source)."""
        location = feed.name
        records = feed.records(targets_of(self.config))
        if source_id is None:
            source_id = await self.store.start_source(
                kind=kind, location=location, identity=poll_identity(kind, location)
            )
        totals = FeedTotals()
        status, error = "done", None
        pending = Pending()

        async def flush() -> None:
            for item in await self._flush(pending, source_id, totals):
                if isinstance(item, Sighting) and on_sighting is not None:
                    await _maybe_await(on_sighting(item))

        try:
            async for record in records:
                if isinstance(record, Problem):
                    totals.problems += 1
                    log.warning(
                        "input skipped",
                        extra={"feed": feed.name, "origin": record.origin, "reason": record.reason},
                    )
                    continue
                totals.records += 1
                m = match(record, self.watch)
                if m is not None:
                    totals.matches += 1
                    pending.add(m, urgent=self.writer.urgent(m))
                if pending.full or pending.timeout() == 0.0:
                    await flush()
            await flush()
        except BaseException as exc:
            status, error = "failed", failure_text(exc)
            if isinstance(exc, Exception):
                await flush()  # what was found before the feed failed is kept
            raise
        finally:
            await asyncio.shield(self._finish(source_id, status, totals, error))
        return SourceResult(location=location, source_id=source_id, status=status, totals=totals)

    async def _finish(self, source_id: int, status: str, t: FeedTotals, error: str | None) -> None:
        await self.store.finish_source(
            source_id, status=status, totals=_source_totals(t), error=error
        )


def _source_totals(t: FeedTotals) -> SourceTotals:
    return SourceTotals(
        lines=t.lines,
        bytes=t.bytes,
        records=t.records,
        matches=t.matches,
        problems=t.problems,
        skipped_lines=t.skipped_lines,
    )


def targets_of(config: Config) -> Targets:
    """What exposure APIs are asked about: watched domains, portal hosts, partner domains."""
    return Targets(
        domains=tuple(config.domains),
        portal_hosts=tuple(sorted({split_url(p)[0] for p in config.portals})),
        partner_domains=tuple(d for p in config.partners for d in p.email_domains),
    )


def screen_for(watch: Watchlist) -> Screen | None:
    """The prefilter handed to path feeds; None when every line must be parsed."""
    if watch.identity is not None:  # a large account list: its compiled screen
        return IdentityScreen(watch.identity, sorted(watch.domain_needles()))
    needles, full_pass = watch.screen_needles()
    if full_pass or not needles:
        return None
    return build_screen(needles)


def matches(
    records: Iterator[FileRecord], watch: Watchlist, victims: Victims, totals: FeedTotals
) -> Iterator[Match | Problem]:
    """The match site: records in, matches and problems out. A stealer log's matches are held
    per victim folder until the walk leaves the folder, then released with the victim's
    details (`monitor/victims.py`)."""
    for record in records:
        released: list[Match] = []
        try:
            if isinstance(record, Problem):
                yield record
            elif isinstance(record, VictimInfo):
                released = list(victims.note(record))
            else:
                m = match(record, watch)
                if m is None:
                    continue
                if record.victim_folder is None:
                    totals.matches += 1
                    yield m
                    continue
                released = list(victims.hold(m))
        except Exception as exc:  # one record that cannot be matched costs only itself
            if resource_fault(exc):
                raise  # the machine, not the record: the path is read again later
            totals.problems += 1
            yield Problem(
                origin=record.origin if not isinstance(record, VictimInfo) else record.folder,
                reason=f"not matchable ({kind_of(exc)})",
            )
            continue
        for done in released:  # the folder the walk left
            totals.matches += 1
            yield done
    for m in victims.flush():
        totals.matches += 1
        yield m


async def _maybe_await(value: Awaitable[None] | None) -> None:
    if value is not None:
        await value


def default_workdir(base: Path) -> Path:
    work = base / "work"
    work.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(work, 0o700)
    return work
