"""The audit trail and containment plans on PostgreSQL (implements containment.ActionLog)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from monitor.store.queries import sql
from monitor.types import Action, Outcome


class PgActionLog:
    """Every containment attempt becomes an `actions` row; `done` steps are unique per pair."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def done_steps(self, exposure_id: int, provider: str) -> set[str]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(sql("action_done_steps"), exposure_id, provider)
        return {r["step"] for r in rows}

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


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRow:
    action: Action
    login: str
    host: str


async def list_actions(
    conn: asyncpg.Connection, *, exposure_id: int | None = None, limit: int = 200
) -> list[ActionRow]:
    rows = await conn.fetch(sql("actions_list"), exposure_id, limit)
    return [ActionRow(action=Action.from_row(r), login=r["login"], host=r["host"]) for r in rows]


async def plan_containment(conn: asyncpg.Connection, **values: Any) -> int | None:
    return await conn.fetchval(  # type: ignore[no-any-return]
        sql("containment_plan"),
        values["exposure_id"],
        values["provider"],
        values["decision"],
        values["dry_run"],
        values["status"],
        values["decided_by"],
        values["reason"],
        values["login"],
        values["idp_user_id"],
        values.get("sessions_only", False),
    )
