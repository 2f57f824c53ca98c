"""`credwatch serve` and `credwatch watch`: the long-running loop that ingests, contains and alerts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor import metrics as metrics_mod
from monitor import retention
from monitor.app import App
from monitor.approvals import Approvals
from monitor.decisions import can_listen
from monitor.dropfolder import DropFolder, DropRetry
from monitor.errors import CredwatchError, resource_fault
from monitor.feed import ApiFeed
from monitor.pipeline import Sighting, identity_of, poll_identity
from monitor.queue import CLUSTER, poll_entrypoint
from monitor.scheduler import (
    PURGE_JOB,
    build_scheduler,
    cron_trigger,
    daily_trigger,
    scheduled_time,
)
from monitor.store.records import PlannedSource, ScanProgress
from monitor.store.store import UNAVAILABLE, DatabaseError, DatabaseUnavailable
from monitor.worker import DEFAULT_RANGE, FOLLOW_EVERY, new_scan_id
from monitor.worker import serve as serve_units

log = logging.getLogger(__name__)

UNIT_LEASE = 30.0  # seconds without a heartbeat before another worker takes a unit over


class MetricsBindError(CredwatchError):
    """The metrics address cannot be listened on (port in use, address not local)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonOptions:
    watch_dir: Path | None
    schedule: bool = True
    serve_metrics: bool = True
    metrics_host: str | None = None  # overrides [serve] metrics_host
    metrics_port: int | None = None  # overrides [serve] metrics_port
    retry: DropRetry = field(default_factory=DropRetry)


class Daemon:
    def __init__(
        self,
        *,
        app: App,
        options: DaemonOptions,
        hibp: ApiFeed | None = None,
        metrics: metrics_mod.Metrics | None = None,
    ) -> None:
        self.app = app
        self.config = app.config
        self.store = app.store
        self.scanner = app.scanner
        self.options = options
        self.hibp = hibp
        self.metrics = metrics if metrics is not None else metrics_mod.Metrics()
        self._last_error: str | None = None
        self._busy = asyncio.Lock()  # one unit of work at a time per daemon

    # -- units of work ------------------------------------------------------------------

    def _count(self, s: Sighting) -> None:
        self.metrics.sightings.inc()
        if s.new_exposure:
            self.metrics.exposures_new.inc()

    async def ingest_file(self, path: Path) -> bool:
        """Scan one dropped file unless it was done before (by us or another daemon), is
        quarantined or is backing off after a failure. Never raises for a fault of the file."""
        try:
            identity = identity_of(path)
        except OSError:
            return False
        if await self.store.source_done(identity):
            return False
        async with self.store.source_lock(identity) as locked:
            if not locked or await self.store.source_done(identity):
                return False
            attempts = await self.store.drop_begin(identity, str(path))
            if attempts is None:
                return False  # quarantined, or backing off
            retry = self.options.retry
            if attempts > retry.attempts:  # the earlier attempts never ended: readers died on it
                await self._quarantine(path, identity, "reader stopped while reading it")
                return False
            try:
                async with self.app.delivering():  # urgent alerts go out while it reads
                    result = await self.scanner.scan_path(
                        path, on_sighting=self._count, kind="watch"
                    )
            except Exception as exc:
                await self._failed(path, identity, attempts, exc)
                return False
            except BaseException:  # stopped from outside: the attempt is not the file's fault
                await asyncio.shield(self.store.drop_deferred(identity, "stopped", retry_in=0))
                raise
            await self.store.drop_done(identity)
            self.metrics.sources.labels(kind="watch").inc()
            self.metrics.lines.inc(result.totals.lines)
            self.metrics.errors.labels(kind="input_skipped").inc(result.totals.problems)
            self.metrics.last_scan.set_to_current_time()
            log.info(
                "dropped file scanned",
                extra={
                    "path": str(path),
                    "lines": result.totals.lines,
                    "matches": result.totals.matches,
                    "skipped": result.totals.problems,
                },
            )
            return True

    async def _failed(self, path: Path, identity: str, attempts: int, exc: Exception) -> None:
        """Blame the machine or the file for a failed attempt, and act on it."""
        self.metrics.errors.labels(kind="dropped_file").inc()
        reason = _reason(exc)
        retry = self.options.retry
        if resource_fault(exc) or isinstance(exc, DatabaseUnavailable):
            log.warning("dropped file deferred", extra={"path": str(path), "error": reason})
            with contextlib.suppress(*DatabaseUnavailable, DatabaseError):
                await self.store.drop_deferred(identity, reason, retry_in=retry.resource_delay)
            return
        if await self.store.drop_failed(
            identity, reason, retry_in=retry.delay(attempts), max_attempts=retry.attempts
        ):
            self.metrics.quarantined.inc()
            log.error(
                "dropped file quarantined",
                extra={"path": str(path), "error": reason, "attempts": attempts},
            )
        else:
            log.warning(
                "dropped file failed, will retry",
                extra={"path": str(path), "error": reason, "attempts": attempts},
            )

    async def _quarantine(self, path: Path, identity: str, reason: str) -> None:
        await self.store.drop_quarantine(identity, reason)
        self.metrics.quarantined.inc()
        log.error("dropped file quarantined", extra={"path": str(path), "error": reason})

    async def respond_and_alert(self) -> None:
        done = await self.app.respond_and_alert()
        self.metrics.containments.inc(done.containments)
        self.metrics.alerts_sent.inc(done.sent)
        self.metrics.alerts_failed.inc(done.failed)

    async def nightly(self) -> None:
        """Record tonight's firing under its scheduled time and queue its units, together (a
        crash in between neither loses nor doubles the night's work); the cluster's workers
        (this daemon among them) read them. Another daemon that fires the same night stands
        down."""
        serve = self.config.serve
        sources = [p for p in serve.sources if p.exists()]
        missing = [p for p in serve.sources if not p.exists()]
        for p in missing:
            log.warning("nightly source missing", extra={"path": str(p)})
            self.metrics.errors.labels(kind="source_missing").inc()
        slot = scheduled_time(cron_trigger(serve.nightly, serve.timezone))
        scan_id = f"nightly-{slot.astimezone(UTC).strftime('%Y%m%dT%H%M%S')}"
        planned = await self.scanner.plan(sources, range_size=DEFAULT_RANGE, kind="nightly")
        progress = await self._fire("nightly", scan_id, planned, slot=slot)
        if progress is None:
            return
        self.metrics.nightly_runs.inc()
        self.metrics.sources.labels(kind="nightly").inc(len(planned))
        self.metrics.lines.inc(progress.lines)
        self.metrics.last_scan.set_to_current_time()
        self.metrics.last_nightly.set_to_current_time()
        log.info(
            "nightly run done",
            extra={
                "sources": len(planned),
                "missing": len(missing),
                "units": progress.units,
                "failed": progress.failed,
                "lines": progress.lines,
            },
        )

    async def poll_hibp(self) -> None:
        """Queue one HIBP poll for the cluster (its name only: each worker holds its own key),
        unless another daemon queued one in the last half interval."""
        if self.hibp is None:
            return
        name = self.hibp.name
        planned = [
            PlannedSource(
                kind="hibp", location=name, identity=poll_identity("hibp", name), feed=name
            )
        ]
        scan_id = f"hibp-{new_scan_id()}"
        gap = self.config.serve.hibp_interval_minutes * 30
        if await self._fire(
            "hibp", scan_id, planned, min_gap=gap, queue_name=poll_entrypoint(name)
        ):
            self.metrics.sources.labels(kind="hibp").inc()

    async def _fire(
        self,
        job: str,
        scan_id: str,
        planned: list[PlannedSource],
        *,
        slot: datetime | None = None,
        min_gap: float = 0.0,
        queue_name: str = CLUSTER,
    ) -> ScanProgress | None:
        """Record a firing with its units, follow them until every one is closed, then record
        the firing finished and deliver. None when another process had the firing."""
        units = await self.store.fire(
            job,
            host=socket.gethostname(),
            slot=slot,
            min_gap=min_gap,
            scan_id=scan_id,
            planned=planned,
            entrypoint=queue_name,
        )
        if units is None:
            log.info("scheduled run taken by another process", extra={"job": job})
            return None
        log.info("scheduled run queued", extra={"job": job, "scan": scan_id, "units": len(units)})
        while True:  # the units may be read by any worker of the cluster: ask the store
            progress = await self.store.scan_progress(scan_id)
            if progress.finished:
                break
            await asyncio.sleep(FOLLOW_EVERY)
        await self.store.finish_scan_run(job, scan_id)
        async with self._busy:
            await self.respond_and_alert()
        return progress

    async def purge(self) -> None:
        """The scheduled retention purge ([retention] days), logged and counted."""
        days = self.config.retention.days
        if days is None:
            return
        try:
            async with self._busy:
                report = await retention.purge(self.store, retention.period_of_days(days))
        except Exception as exc:  # tried again at the next day's firing
            self.metrics.errors.labels(kind="purge").inc()
            log.error("retention purge failed", extra={"error": _reason(exc)})
            return
        self.metrics.purge_runs.inc()
        for kind, n in report.counts.deleted().items():
            self.metrics.purged.labels(kind=kind).inc(n)
        c = report.counts
        log.info(
            "retention purge done",
            extra={
                "cutoff": report.cutoff.isoformat(),
                **{f"deleted_{k}": n for k, n in c.deleted().items()},
                "anonymised_actions": c.actions_anonymised,
                "anonymised_transitions": c.transitions_anonymised,
                "anonymised_containments": c.containments_anonymised,
                "kept_open": c.kept_open,
            },
        )

    # -- the loop -------------------------------------------------------------------------

    def scheduler(self) -> AsyncIOScheduler:
        """The daemon's jobs (not started): nightly scan, HIBP poll, daily retention purge."""
        serve, keep = self.config.serve, self.config.retention
        return build_scheduler(
            timezone=serve.timezone,
            nightly_cron=serve.nightly,
            nightly=self.nightly,
            poll_minutes=serve.hibp_interval_minutes if self.hibp else 0,
            poll=self.poll_hibp,
            purge_at=keep.purge_at if keep.days is not None else None,
            purge=self.purge_once,
        )

    async def purge_once(self) -> None:
        """Today's purge, by the one daemon of the cluster that records its firing first."""
        keep, serve = self.config.retention, self.config.serve
        if keep.days is None:
            return
        slot = scheduled_time(daily_trigger(keep.purge_at, serve.timezone))
        scan_id = f"purge-{slot.astimezone(UTC).strftime('%Y%m%dT%H%M%S')}"
        taken = await self.store.fire(
            PURGE_JOB, host=socket.gethostname(), slot=slot, min_gap=0.0, scan_id=scan_id,
            planned=[], entrypoint=CLUSTER,
        )  # fmt: skip
        if taken is None:
            log.info("scheduled run taken by another process", extra={"job": PURGE_JOB})
            return
        await self.purge()
        await self.store.finish_scan_run(PURGE_JOB, scan_id)

    async def run(self, stop: asyncio.Event) -> None:
        runner = None
        sched = None
        if self.options.serve_metrics:
            runner = web.AppRunner(metrics_mod.app(self.metrics, self.store), access_log=None)
            await runner.setup()
            host, port = self.metrics_address
            site = web.TCPSite(runner, host, port)
            try:
                await site.start()
            except OSError as exc:
                await runner.cleanup()
                raise MetricsBindError(
                    f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}"
                ) from None
            log.info("metrics listening", extra={"host": host, "port": port})
        units = None
        if self.options.schedule:
            sched = self.scheduler()
            sched.start()
            # This daemon is one of the cluster's workers: it reads queued units (tonight's,
            # or those a killed process left) and, with the HIBP feed configured, the polls.
            units = asyncio.create_task(self._serve_units())
        listeners = self._listen() if self.options.schedule else []
        drop = (
            DropFolder(self.options.watch_dir, settle=self.config.serve.settle_seconds)
            if self.options.watch_dir
            else None
        )
        interval = self.config.serve.outbox_interval_seconds
        try:
            while not stop.is_set():
                try:
                    await self._tick(drop, stop)
                except UNAVAILABLE as exc:
                    self._transient(exc)
                except Exception as exc:  # the loop outlives any one failure; the next tick retries
                    self.metrics.errors.labels(kind="internal").inc()
                    log.error("work loop error", extra={"error": _reason(exc)})
                else:
                    if self._last_error is not None:
                        log.info("work loop recovered", extra={"after": self._last_error})
                        self._last_error = None
                self.metrics.beat()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)
        finally:
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
            if sched is not None:
                sched.shutdown(wait=False)
            if units is not None:
                units.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await units
            # Let a scheduled job in hand finish or abandon: its source stays unfinished and
            # is read again next time (sightings and alerts are deduplicated).
            async with self._busy:
                pass
            if runner is not None:
                await runner.cleanup()

    def _listen(self) -> list[asyncio.Task[None]]:
        """Channels where humans decide on approvals (Slack buttons), each heard in a task."""
        decider = Approvals(self.store, self.app.responses)
        return [
            asyncio.create_task(n.listen(decider), name=f"decisions-{n.name}")
            for n in self.app.notifiers
            if can_listen(n)
        ]

    async def _serve_units(self) -> None:
        entrypoints = [CLUSTER]
        if self.hibp is not None:
            entrypoints.append(poll_entrypoint(self.hibp.name))
        while True:
            try:
                await serve_units(
                    self.app,
                    entrypoints,
                    lease=UNIT_LEASE,
                    drain=False,
                    on_sighting=self._count,
                    hold=lambda: self._busy,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: serve again once it is back
                self._transient(exc)
            await asyncio.sleep(self.config.serve.outbox_interval_seconds)

    @property
    def metrics_address(self) -> tuple[str, int]:
        o, serve = self.options, self.config.serve
        host = o.metrics_host if o.metrics_host is not None else serve.metrics_host
        port = o.metrics_port if o.metrics_port is not None else serve.metrics_port
        return host, port

    def _transient(self, exc: BaseException) -> None:
        """A failure the loop retries: a WARNING when it starts or changes, DEBUG while it lasts."""
        kind = (
            "os" if isinstance(exc, OSError) and not isinstance(exc, DatabaseError) else "database"
        )
        self.metrics.errors.labels(kind=kind).inc()
        reason = f"{type(exc).__name__}: {exc}"
        level = logging.DEBUG if reason == self._last_error else logging.WARNING
        log.log(level, "work loop error, retrying", extra={"error": reason, "kind": kind})
        self._last_error = reason

    async def _tick(self, drop: DropFolder | None, stop: asyncio.Event) -> None:
        if drop is not None:
            for path in drop.ready():
                if stop.is_set():
                    return  # between units: nothing half-done
                async with self._busy:
                    try:
                        await self.ingest_file(path)
                    except Exception as exc:  # the store failed us: this file waits, not the rest
                        self.metrics.errors.labels(kind="dropped_file").inc()
                        log.error(
                            "dropped file not processed",
                            extra={"path": str(path), "error": _reason(exc)},
                        )
        await self.respond_and_alert()


def _reason(exc: BaseException) -> str:
    """What went wrong, safe to log and store: the error's class, and the message of errors
    whose messages are ours or the database's (never the input's)."""
    if isinstance(exc, CredwatchError | DatabaseError | OSError):
        return f"{type(exc).__name__}: {exc}"[:500]
    return type(exc).__name__
