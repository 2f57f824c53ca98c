"""Deliver queued alerts per channel, in order, once each; keep them while a channel is down."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from monitor.errors import CredwatchError
from monitor.notify import Alert, AlertEvent, Notifier
from monitor.store import repo
from monitor.store.queries import sql

log = logging.getLogger(__name__)

MAX_BACKOFF = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    sent: int
    failed: int


def backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 2.0 ** min(attempts, 12))


async def _alert(
    conn: asyncpg.Connection, row: asyncpg.Record, contacts: dict[str, str]
) -> Alert | None:
    exposure = await repo.exposure_by_id(conn, row["exposure_id"])
    if exposure is None:
        return None
    ctx = await conn.fetchrow(sql("alert_context"), exposure.id)
    return Alert(
        id=row["id"],
        event=AlertEvent(row["event"]),
        exposure=exposure,
        origin=row["origin"],
        action_summary=row["summary"],
        partner_contact=contacts.get(exposure.partner or ""),
        victim_country=ctx["country"] if ctx else None,
        stealer_family=ctx["family"] if ctx else None,
        created_at=row["created_at"],
    )


async def _failed(
    conn: asyncpg.Connection, notifier: Notifier, rows: list[asyncpg.Record], exc: CredwatchError
) -> None:
    for row in rows:
        delay = backoff(row["attempts"] + 1) if exc.retryable else MAX_BACKOFF
        await conn.execute(sql("outbox_failed"), row["id"], str(exc)[:500], delay)
    log.warning(
        "alert delivery failed",
        extra={"channel": notifier.name, "alerts": [r["id"] for r in rows], "error": str(exc)},
    )


async def deliver(
    pool: asyncpg.Pool,
    notifier: Notifier,
    *,
    contacts: dict[str, str] | None = None,
    batch: int = 50,
) -> DeliveryReport:
    """Send what is due on `notifier.name`, oldest first. Stops at the first failure to keep
    the order; what failed stays queued with a backoff. Digest notifiers get one batch per call."""
    sent = failed = 0
    contacts = contacts or {}
    digest = bool(getattr(notifier, "digest", False)) and hasattr(notifier, "send_digest")
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = list(await conn.fetch(sql("outbox_claim"), notifier.name, batch))
            if not rows:
                return DeliveryReport(sent=sent, failed=failed)
            alerts: list[tuple[asyncpg.Record, Alert]] = []
            for row in rows:
                alert = await _alert(conn, row, contacts)
                if alert is None:
                    await conn.execute(sql("outbox_sent"), row["id"], None)
                else:
                    alerts.append((row, alert))
            if digest and alerts:
                try:
                    delivery = await notifier.send_digest([a for _, a in alerts])  # type: ignore[attr-defined]
                except CredwatchError as exc:
                    await _failed(conn, notifier, [r for r, _ in alerts], exc)
                    return DeliveryReport(sent=sent, failed=failed + len(alerts))
                for row, _ in alerts:
                    await conn.execute(sql("outbox_sent"), row["id"], delivery.ref)
                sent += len(alerts)
                continue
            for row, alert in alerts:
                try:
                    delivery = await notifier.send(alert, thread_ref=row["thread_ref"])
                except CredwatchError as exc:
                    await _failed(conn, notifier, [row], exc)
                    return DeliveryReport(sent=sent, failed=failed + 1)
                await conn.execute(sql("outbox_sent"), row["id"], delivery.ref)
                sent += 1
