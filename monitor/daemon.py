"""`credwatch serve` and `credwatch watch`: the long-running loop that ingests, contains and alerts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
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
from monitor.pipeline import Sighting, identity_of
from monitor.scheduler import build_scheduler, cron_trigger, once_per_cluster, period_of
from monitor.store.store import UNAVAILABLE, DatabaseError, DatabaseUnavailable

log = logging.getLogger(__name__)


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
        sources = [p for p in self.config.serve.sources if p.exists()]
        missing = [p for p in self.config.serve.sources if not p.exists()]
        for p in missing:
            log.warning("nightly source missing", extra={"path": str(p)})
            self.metrics.errors.labels(kind="source_missing").inc()
        async with self._busy:
            self.metrics.nightly_runs.inc()
            async with self.app.delivering():
                results = await self.scanner.scan(sources, on_sighting=self._count, kind="nightly")
            for result in results:
                self.metrics.sources.labels(kind="nightly").inc()
                self.metrics.lines.inc(result.totals.lines)
            self.metrics.last_scan.set_to_current_time()
            await self.respond_and_alert()
            self.metrics.last_nightly.set_to_current_time()
            log.info(
                "nightly run done",
                extra={
                    "sources": len(results),
                    "missing": len(missing),
                    "lines": sum(r.totals.lines for r in results),
                    "matches": sum(r.totals.matches for r in results),
                },
            )

    async def poll_hibp(self) -> None:
        if self.hibp is None:
            return
        async with self._busy:
            await self.scanner.ingest(self.hibp, on_sighting=self._count)
            self.metrics.sources.labels(kind="hibp").inc()
            await self.respond_and_alert()

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
            nightly=once_per_cluster(
                self.store,
                "nightly",
                period_of(cron_trigger(serve.nightly, serve.timezone)) / 2,
                self.nightly,
            ),
            poll_minutes=serve.hibp_interval_minutes if self.hibp else 0,
            poll=once_per_cluster(
                self.store, "hibp", serve.hibp_interval_minutes * 30, self.poll_hibp
            ),
            purge_at=keep.purge_at if keep.days is not None else None,
            purge=once_per_cluster(self.store, "purge", 12 * 3600, self.purge),
        )

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
        if self.options.schedule:
            sched = self.scheduler()
            sched.start()
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
