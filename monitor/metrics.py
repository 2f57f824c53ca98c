"""Process counters and the /healthz and Prometheus /metrics endpoints of `credwatch serve`."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

from monitor.store.store import Store


@dataclass(slots=True)
class Metrics:
    """In-process counters (this daemon since it started); database gauges are read per scrape."""

    counters: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.time)
    last_tick: float = field(default_factory=time.time)

    def inc(self, name: str, amount: int = 1) -> None:
        self.counters[name] += amount


_HELP = {
    "credwatch_lines_ingested_total": "Lines read by this daemon.",
    "credwatch_sources_total": "Sources (files, API queries) processed by this daemon.",
    "credwatch_exposures_new_total": "New exposures found by this daemon.",
    "credwatch_sightings_total": "Sightings stored by this daemon.",
    "credwatch_alerts_sent_total": "Alerts delivered by this daemon.",
    "credwatch_alerts_failed_total": "Alert deliveries that failed (kept for retry).",
    "credwatch_containments_total": "Containment runs by this daemon.",
    "credwatch_errors_total": "Errors in scheduled work (skipped inputs included).",
    "credwatch_nightly_runs_total": "Nightly scans this daemon ran (claimed for the cluster).",
}


async def render(metrics: Metrics, store: Store) -> str:
    lines: list[str] = []
    for name, text in _HELP.items():
        lines += [
            f"# HELP {name} {text}",
            f"# TYPE {name} counter",
            f"{name} {metrics.counters[name]}",
        ]
    backlog = await store.backlog()
    gauges = {
        "credwatch_exposures": backlog.exposures,
        "credwatch_exposures_open": backlog.exposures_open,
        "credwatch_containments_pending": backlog.containments_pending,
        "credwatch_containments_awaiting_approval": backlog.awaiting_approval,
        "credwatch_actions": backlog.actions,
        "credwatch_outbox_lag_seconds": float(backlog.outbox_lag or 0.0),
    }
    for name, value in gauges.items():
        lines += [f"# TYPE {name} gauge", f"{name} {value}"]
    lines.append("# TYPE credwatch_outbox_pending gauge")
    for channel, n in sorted(backlog.outbox.items()):
        lines.append(f'credwatch_outbox_pending{{channel="{channel}"}} {n}')
    return "\n".join(lines) + "\n"


def app(metrics: Metrics, store: Store, *, max_tick_age: float = 60.0) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        try:
            await store.ping()
        except Exception:
            return web.json_response({"status": "database unreachable"}, status=503)
        if time.time() - metrics.last_tick > max_tick_age:
            return web.json_response({"status": "work loop stalled"}, status=503)
        return web.json_response({"status": "ok", "uptime": round(time.time() - metrics.started)})

    async def prometheus(_: web.Request) -> web.Response:
        return web.Response(text=await render(metrics, store), content_type="text/plain")

    application = web.Application()
    application.router.add_get("/healthz", healthz)
    application.router.add_get("/metrics", prometheus)
    return application
