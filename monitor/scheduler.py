"""Nightly scans and periodic polls for `credwatch serve` (APScheduler 3.x): when they fire, and
which firing a run belongs to (the daemon records each firing once per cluster)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)
PURGE_JOB = "retention-purge"


def scheduled_time(trigger: CronTrigger, now: datetime | None = None) -> datetime:
    """The firing a job run at `now` belongs to: the trigger's latest time at or before `now`
    (time-zone aware, in the trigger's zone). Every daemon computes the same one, however
    late its scheduler got to it, so a firing is recorded once under it."""
    now = now or datetime.now(trigger.timezone)
    back = timedelta(seconds=2 * period_of(trigger) + 1)
    at = trigger.get_next_fire_time(None, now - back)
    last = None
    while at is not None and at <= now:
        last = at
        at = trigger.get_next_fire_time(at, at + timedelta(microseconds=1))
    return last or now


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """A 5-field crontab, or 6 fields with seconds first."""
    fields = expr.split()
    if len(fields) == 6:
        second, minute, hour, day, month, dow = fields
        return CronTrigger(
            second=second, minute=minute, hour=hour, day=day, month=month,
            day_of_week=dow, timezone=timezone,
        )  # fmt: skip
    return CronTrigger.from_crontab(expr, timezone=timezone)


def period_of(trigger: CronTrigger) -> float:
    """Seconds between two firings of the trigger (from now)."""
    now = datetime.now(UTC)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(microseconds=1)) if first else None
    return (second - first).total_seconds() if first and second else 86400.0


def daily_trigger(at: str, timezone: str) -> CronTrigger:
    """Every day at `at` (HH:MM) in the time zone."""
    hour, _, minute = at.partition(":")
    return CronTrigger(hour=int(hour), minute=int(minute), timezone=timezone)


def build_scheduler(
    *,
    timezone: str,
    nightly_cron: str,
    nightly: Callable[[], Awaitable[None]],
    poll_minutes: int = 0,
    poll: Callable[[], Awaitable[None]] | None = None,
    purge_at: str | None = None,
    purge: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIOScheduler:
    """Create (not start: start it inside the running loop) the scheduler with its jobs. The
    retention purge is scheduled daily at `purge_at` when both it and `purge` are given."""
    sched = AsyncIOScheduler(
        timezone=timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    trigger = cron_trigger(nightly_cron, timezone)
    sched.add_job(nightly, trigger, id="nightly-scan", replace_existing=True)
    if poll is not None and poll_minutes > 0:
        sched.add_job(
            poll, IntervalTrigger(minutes=poll_minutes, timezone=timezone), id="hibp-poll"
        )
    if purge is not None and purge_at is not None:
        sched.add_job(purge, daily_trigger(purge_at, timezone), id=PURGE_JOB)
    return sched
