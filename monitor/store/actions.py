"""The containment audit trail, one statement per step (implements containment.ActionLog)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from monitor.store.queries import sql
from monitor.types import Outcome


class PgActionLog:
    """Every containment attempt becomes an `actions` row; `done` steps are unique per pair."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def done_steps(self, exposure_id: int, provider: str) -> set[str]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(sql("action_done_steps"), exposure_id, provider)
        return {r["step"] for r in rows}

    async def started_at(self, exposure_id: int, provider: str, step: str) -> datetime | None:
        async with self.pool.acquire() as conn:
            when: datetime | None = await conn.fetchval(
                sql("action_started_at"), exposure_id, provider, step
            )
        return when

    async def record(
        self,
        *,
        exposure_id: int,
        provider: str,
        step: str,
        outcome: Outcome,
        retryable: bool,
        decided_by: str,
        detail: str,
        request_id: str | None,
    ) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                sql("action_record"),
                exposure_id,
                provider,
                step,
                outcome.value,
                retryable,
                decided_by,
                detail[:2000],
                request_id,
            )
