"""Deliver queued alerts per channel, in order, once each; keep them while a channel is down."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from monitor.errors import CredwatchError
from monitor.store import repo
from monitor.store.queries import sql
from notifiers.base import Alert, AlertEvent, Notifier

log = logging.getLogger(__name__)

MAX_BACKOFF = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    sent: int
    failed: int


def backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 2.0 ** min(attempts, 12))


async def deliver(
    pool: asyncpg.Pool,
    notifier: Notifier,
    *,
    contacts: dict[str, str] | None = None,
    batch: int = 50,
) -> DeliveryReport:
    """Send what is due on `notifier.name`. Stops at the first failure to keep the order."""
    sent = failed = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(sql("outbox_claim"), notifier.name, batch)
            if not rows:
                return DeliveryReport(sent=sent, failed=failed)
            for row in rows:
                exposure = await repo.exposure_by_id(conn, row["exposure_id"])
                if exposure is None:
                    await conn.execute(sql("outbox_sent"), row["id"], None)
                    continue
                ctx = await conn.fetchrow(sql("alert_context"), exposure.id)
                alert = Alert(
                    id=row["id"],
                    event=AlertEvent(row["event"]),
                    exposure=exposure,
                    origin=row["origin"],
                    action_summary=row["summary"],
                    partner_contact=(contacts or {}).get(exposure.partner or ""),
                    victim_country=ctx["country"] if ctx else None,
                    stealer_family=ctx["family"] if ctx else None,
                    created_at=row["created_at"],
                )
                try:
                    delivery = await notifier.send(alert, thread_ref=row["thread_ref"])
                except CredwatchError as exc:
                    failed += 1
                    delay = backoff(row["attempts"] + 1) if exc.retryable else MAX_BACKOFF
                    await conn.execute(sql("outbox_failed"), row["id"], str(exc)[:500], delay)
                    log.warning(
                        "alert delivery failed",
                        extra={"channel": notifier.name, "alert": row["id"], "retry_in": delay},
                    )
                    return DeliveryReport(sent=sent, failed=failed)
                await conn.execute(sql("outbox_sent"), row["id"], delivery.ref)
                sent += 1
