"""`credwatch serve` and `credwatch watch`: the long-running loop that ingests, contains and alerts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from monitor import metrics as metrics_mod
from monitor.app import App
from monitor.dropfolder import DropFolder, DropRetry
from monitor.errors import CredwatchError, resource_fault
from monitor.feed import ApiFeed
from monitor.pipeline import Sighting, identity_of
from monitor.scheduler import build_scheduler, cron_trigger, once_per_cluster, period_of
from monitor.store.store import DatabaseError, DatabaseUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonOptions:
    watch_dir: Path | None
    schedule: bool = True
    serve_metrics: bool = True
    retry: DropRetry = field(default_factory=DropRetry)


class Daemon:
    def __init__(self, *, app: App, options: DaemonOptions, hibp: ApiFeed | None = None) -> None:
        self.app = app
        self.config = app.config
        self.store = app.store
        self.scanner = app.scanner
        self.options = options
        self.hibp = hibp
        self.metrics = metrics_mod.Metrics()
        self._busy = asyncio.Lock()  # one unit of work at a time per daemon

    # -- units of work ------------------------------------------------------------------

    def _count(self, s: Sighting) -> None:
        self.metrics.inc("credwatch_sightings_total")
        if s.new_exposure:
            self.metrics.inc("credwatch_exposures_new_total")

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
                result = await self.scanner.scan_path(path, on_sighting=self._count, kind="watch")
            except Exception as exc:
                await self._failed(path, identity, attempts, exc)
                return False
            except BaseException:  # stopped from outside: the attempt is not the file's fault
                await asyncio.shield(self.store.drop_deferred(identity, "stopped", retry_in=0))
                raise
            await self.store.drop_done(identity)
            self.metrics.inc("credwatch_sources_total")
            self.metrics.inc("credwatch_lines_ingested_total", result.totals.lines)
            self.metrics.inc("credwatch_errors_total", result.totals.problems)
            log.info(
                "dropped file scanned",
                extra={"path": str(path), "matches": result.totals.matches},
            )
            return True

    async def _failed(self, path: Path, identity: str, attempts: int, exc: Exception) -> None:
        """Blame the machine or the file for a failed attempt, and act on it."""
        self.metrics.inc("credwatch_errors_total")
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
            self.metrics.inc("credwatch_quarantined_total")
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
        self.metrics.inc("credwatch_quarantined_total")
        log.error("dropped file quarantined", extra={"path": str(path), "error": reason})

    async def respond_and_alert(self) -> None:
        done = await self.app.respond_and_alert()
        self.metrics.inc("credwatch_containments_total", done.containments)
        self.metrics.inc("credwatch_alerts_sent_total", done.sent)
        self.metrics.inc("credwatch_alerts_failed_total", done.failed)

    async def nightly(self) -> None:
        sources = [p for p in self.config.serve.sources if p.exists()]
        missing = [p for p in self.config.serve.sources if not p.exists()]
        for p in missing:
            log.warning("nightly source missing", extra={"path": str(p)})
            self.metrics.inc("credwatch_errors_total")
        async with self._busy:
            self.metrics.inc("credwatch_nightly_runs_total")
            for result in await self.scanner.scan(sources, on_sighting=self._count, kind="nightly"):
                self.metrics.inc("credwatch_sources_total")
                self.metrics.inc("credwatch_lines_ingested_total", result.totals.lines)
            await self.respond_and_alert()

    async def poll_hibp(self) -> None:
        if self.hibp is None:
            return
        async with self._busy:
            await self.scanner.ingest(self.hibp, on_sighting=self._count)
            self.metrics.inc("credwatch_sources_total")
            await self.respond_and_alert()

    # -- the loop -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        runner = None
        sched = None
        if self.options.serve_metrics:
            runner = web.AppRunner(metrics_mod.app(self.metrics, self.store), access_log=None)
            await runner.setup()
            site = web.TCPSite(
                runner, self.config.serve.metrics_host, self.config.serve.metrics_port
            )
            await site.start()
            log.info("metrics listening", extra={"port": self.config.serve.metrics_port})
        if self.options.schedule:
            sched = build_scheduler(
                timezone=self.config.serve.timezone,
                nightly_cron=self.config.serve.nightly,
                nightly=once_per_cluster(
                    self.store,
                    "nightly",
                    period_of(cron_trigger(self.config.serve.nightly, self.config.serve.timezone))
                    / 2,
                    self.nightly,
                ),
                poll_minutes=self.config.serve.hibp_interval_minutes if self.hibp else 0,
                poll=once_per_cluster(
                    self.store,
                    "hibp",
                    self.config.serve.hibp_interval_minutes * 30,
                    self.poll_hibp,
                ),
            )
            sched.start()
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
                except Exception as exc:  # the loop outlives any one failure; the next tick retries
                    self.metrics.inc("credwatch_errors_total")
                    log.error("work loop error", extra={"error": _reason(exc)})
                self.metrics.last_tick = time.time()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)
        finally:
            if sched is not None:
                sched.shutdown(wait=False)
            # Let a scheduled job in hand finish or abandon: its source stays unfinished and
            # is read again next time (sightings and alerts are deduplicated).
            async with self._busy:
                pass
            if runner is not None:
                await runner.cleanup()

    async def _tick(self, drop: DropFolder | None, stop: asyncio.Event) -> None:
        if drop is not None:
            for path in drop.ready():
                if stop.is_set():
                    return  # between units: nothing half-done
                async with self._busy:
                    try:
                        await self.ingest_file(path)
                    except Exception as exc:  # the store failed us: this file waits, not the rest
                        self.metrics.inc("credwatch_errors_total")
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
