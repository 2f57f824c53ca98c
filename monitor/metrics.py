"""`credwatch serve`'s Prometheus metrics (prometheus_client) and its /healthz, /readyz and
/metrics endpoints. /metrics and /healthz answer with the database down; /readyz says why the
daemon is not ready (database unreachable, migrations missing)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from monitor import leak_clock
from monitor.store.migrate import available
from monitor.store.records import Backlog
from monitor.store.store import UNAVAILABLE, Store

log = logging.getLogger(__name__)
DB_TIMEOUT = 3.0  # seconds a scrape or a readiness probe waits for PostgreSQL


@dataclass(slots=True)
class StoreSnapshot:
    """What the database said at the last scrape; `backlog` None when it did not answer."""

    backlog: Backlog | None = None
    outcomes: Mapping[tuple[str, str], int] = field(default_factory=dict)


class _StoreCollector(Collector):
    """The database gauges of the last scrape; none (and `database_up` 0) when it is down."""

    def __init__(self, snapshot: StoreSnapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterable[GaugeMetricFamily]:
        b = self._snapshot.backlog
        yield GaugeMetricFamily(
            "credwatch_database_up",
            "1 when PostgreSQL answered this scrape.",
            value=int(b is not None),
        )
        if b is None:
            return
        for name, text, value in (
            ("credwatch_exposures", "Exposures stored.", b.exposures),
            (
                "credwatch_exposures_open",
                "Exposures not yet handled (status new).",
                b.exposures_open,
            ),
            ("credwatch_containments_pending", "Containments due to run.", b.containments_pending),
            (
                "credwatch_containments_awaiting_approval",
                "Containments waiting for an admin.",
                b.awaiting_approval,
            ),
            ("credwatch_containments_failed", "Containments that failed.", b.containments_failed),
            ("credwatch_sources_failed", "Sources whose reading failed.", b.sources_failed),
            (
                "credwatch_outbox_oldest_pending_age_seconds",
                "Age of the oldest alert not yet delivered (0 when none).",
                b.outbox_lag or 0.0,
            ),
        ):
            yield GaugeMetricFamily(name, text, value=value)
        pending = GaugeMetricFamily(
            "credwatch_outbox_pending", "Alerts not yet delivered, per channel.", labels=["channel"]
        )
        for channel, n in sorted(b.outbox.items()):
            pending.add_metric([channel], n)
        yield pending
        steps = GaugeMetricFamily(
            "credwatch_containment_steps",
            "Containment steps in the audit trail, per identity provider and result.",
            labels=["provider", "result"],
        )
        for (provider, result), n in sorted(self._snapshot.outcomes.items()):
            steps.add_metric([provider, result], n)
        yield steps


def _version() -> str:
    try:
        return version("credwatch")
    except PackageNotFoundError:
        return "unknown"


class Metrics:
    """This daemon's counters since it started, its timestamps, and the database gauges."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        Info("credwatch_build", "The running credwatch.", registry=r).info({"version": _version()})
        self.lines = Counter("credwatch_lines_ingested", "Lines read by this daemon.", registry=r)
        self.sources = Counter(
            "credwatch_sources", "Sources (files, API queries) processed.", ["kind"], registry=r
        )
        self.exposures_new = Counter("credwatch_exposures_new", "New exposures found.", registry=r)
        self.sightings = Counter("credwatch_sightings", "Sightings stored.", registry=r)
        self.alerts_sent = Counter("credwatch_alerts_sent", "Alerts delivered.", registry=r)
        self.alerts_failed = Counter(
            "credwatch_alerts_failed", "Alert deliveries that failed (kept for retry).", registry=r
        )
        self.containments = Counter(
            "credwatch_containments", "Containment runs attempted.", registry=r
        )
        self.errors = Counter(
            "credwatch_errors", "Errors in the daemon's work, per kind.", ["kind"], registry=r
        )
        self.quarantined = Counter(
            "credwatch_dropped_files_quarantined",
            "Dropped files given up on after their retries (see `credwatch status`).",
            registry=r,
        )
        self.nightly_runs = Counter(
            "credwatch_nightly_runs", "Nightly scans this daemon ran for the cluster.", registry=r
        )
        self.purged = Counter(
            "credwatch_purged_rows",
            "Rows the scheduled retention purge deleted, per kind (exposures, sightings, alerts, "
            "scan_hits, problems).",
            ["kind"],
            registry=r,
        )
        self.purge_runs = Counter(
            "credwatch_purge_runs", "Retention purges this daemon ran for the cluster.", registry=r
        )
        self.last_scan = Gauge(
            "credwatch_last_scan_success_timestamp_seconds",
            "When a scan last finished without error (Unix time; 0 never).",
            registry=r,
        )
        self.last_nightly = Gauge(
            "credwatch_last_nightly_success_timestamp_seconds",
            "When a nightly run last finished without error (Unix time; 0 never).",
            registry=r,
        )
        self.heartbeat = Gauge(
            "credwatch_work_loop_heartbeat_timestamp_seconds",
            "When the work loop last made progress (a tick, or bytes read by a scan).",
            registry=r,
        )
        self.started = time.time()
        self.beat()
        self.snapshot = StoreSnapshot()
        r.register(_StoreCollector(self.snapshot))
        for histogram in leak_clock.HISTOGRAMS:  # observed where the moments are recorded
            r.register(histogram)

    def beat(self) -> None:
        """The loop made progress (a long scan calls this as it reads)."""
        self.last_beat = time.time()
        self.heartbeat.set(self.last_beat)

    async def refresh(self, store: Store) -> None:
        """Read the database gauges for this scrape; on failure they are left out, not stale."""
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                backlog = await store.backlog()
                outcomes = await store.action_outcomes()
        except UNAVAILABLE as exc:
            log.debug("metrics without the database", extra={"error": _reason(exc)})
            self.snapshot.backlog = None
            self.snapshot.outcomes = {}
            return
        self.snapshot.backlog = backlog
        self.snapshot.outcomes = outcomes


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


async def readiness(store: Store) -> str | None:
    """None when ready; otherwise why not (database unreachable, migrations not applied)."""
    try:
        async with asyncio.timeout(DB_TIMEOUT):
            applied = await store.migrations_applied()
    except UNAVAILABLE as exc:
        return f"database unreachable: {_reason(exc)}"
    missing = [m.name for m in available() if m.version not in applied]
    if missing:
        return f"migrations not applied: {', '.join(missing)} (run `credwatch db migrate`)"
    return None


def app(metrics: Metrics, store: Store) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        # Liveness: answering at all proves the process and its event loop respond. A long scan
        # is progress (see the heartbeat gauge), not a reason to be restarted.
        return web.json_response(
            {
                "status": "ok",
                "uptime": round(time.time() - metrics.started),
                "last_progress_age": round(time.time() - metrics.last_beat, 1),
            }
        )

    async def readyz(_: web.Request) -> web.Response:
        reason = await readiness(store)
        if reason is not None:
            return web.json_response({"status": "not ready", "reason": reason}, status=503)
        # A quarantined file needs a human, but the service itself is ready: say it, stay 200.
        try:
            quarantined: int | None = await store.quarantine_count()
        except UNAVAILABLE:
            quarantined = None
        return web.json_response({"status": "ready", "quarantined_files": quarantined})

    async def prometheus(_: web.Request) -> web.Response:
        await metrics.refresh(store)
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    application = web.Application()
    application.router.add_get("/healthz", healthz)
    application.router.add_get("/readyz", readyz)
    application.router.add_get("/metrics", prometheus)
    return application
