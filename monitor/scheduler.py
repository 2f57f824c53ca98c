"""Nightly scans and periodic polls for `credwatch serve` (APScheduler 3.x), run once per cluster."""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.store.queries import sql

log = logging.getLogger(__name__)


def slot_of(now: datetime, seconds: int) -> datetime:
    """The firing a moment belongs to: time rounded down to `seconds` (UTC)."""
    ts = int(now.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(ts, UTC)


async def claim_run(pool: asyncpg.Pool, job: str, slot: datetime) -> bool:
    """True for exactly one process of the cluster per (job, slot)."""
    async with pool.acquire() as conn:
        got = await conn.fetchval(sql("run_claim"), job, slot, socket.gethostname())
    return got is not None


async def finish_run(pool: asyncpg.Pool, job: str, slot: datetime) -> None:
    async with pool.acquire() as conn:
        await conn.execute(sql("run_finish"), job, slot)


def once_per_cluster(
    pool: asyncpg.Pool, job: str, granularity: int, work: Callable[[], Awaitable[None]]
) -> Callable[[], Awaitable[None]]:
    """Wrap `work` so that when several daemons fire it in the same slot, only one runs it."""

    async def run() -> None:
        slot = slot_of(datetime.now(UTC), granularity)
        if not await claim_run(pool, job, slot):
            log.info(
                "scheduled run taken by another process",
                extra={"job": job, "slot": slot.isoformat()},
            )
            return
        try:
            await work()
        finally:
            await finish_run(pool, job, slot)

    return run


def build_scheduler(
    *,
    timezone: str,
    nightly_cron: str,
    nightly: Callable[[], Awaitable[None]],
    poll_minutes: int = 0,
    poll: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIOScheduler:
    """Create (not start: start it inside the running loop) the scheduler with its jobs."""
    sched = AsyncIOScheduler(
        timezone=timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    trigger = CronTrigger.from_crontab(nightly_cron, timezone=timezone)
    sched.add_job(nightly, trigger, id="nightly-scan", replace_existing=True)
    if poll is not None and poll_minutes > 0:
        sched.add_job(
            poll, IntervalTrigger(minutes=poll_minutes, timezone=timezone), id="hibp-poll"
        )
    return sched
