"""Deliver queued alerts per channel, once each; keep them while a channel is down; dead-letter
an alert that keeps failing, so it never blocks the others."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.errors import CredwatchError
from monitor.notify import Alert, AlertEvent, Notifier
from monitor.store.records import ClaimedAlert
from monitor.store.store import Store

log = logging.getLogger(__name__)

MAX_BACKOFF = 3600.0
LEASE = 300.0  # seconds a claimed alert is held: longer than one post with its retries
MAX_ATTEMPTS = 8  # deliveries of one alert before it is dead-lettered (about 4 minutes of backoff)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    sent: int
    failed: int


def backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 2.0 ** min(attempts, 12))


async def _alert(store: Store, claimed: ClaimedAlert, contacts: dict[str, str]) -> Alert | None:
    exposure = await store.exposure_by_id(claimed.exposure_id)
    if exposure is None:
        return None
    ctx = await store.alert_context(exposure.id)
    return Alert(
        id=claimed.id,
        event=AlertEvent(claimed.event),
        exposure=exposure,
        origin=claimed.origin,
        action_summary=claimed.summary,
        partner_contact=contacts.get(exposure.partner or ""),
        victim_country=ctx.country if ctx else None,
        stealer_family=ctx.family if ctx else None,
        created_at=claimed.created_at,
    )


async def _failed(
    store: Store,
    notifier: Notifier,
    claimed: Sequence[ClaimedAlert],
    exc: CredwatchError,
    max_attempts: int,
) -> None:
    retries = [(c.id, backoff(c.attempts + 1) if exc.retryable else MAX_BACKOFF) for c in claimed]
    dead = await store.alerts_failed(retries, str(exc), max_attempts=max_attempts)
    log.warning(
        "alert delivery failed",
        extra={"channel": notifier.name, "alerts": [c.id for c in claimed], "error": str(exc)},
    )
    if dead:
        log.error(
            "alert dead-lettered after its last attempt",
            extra={"channel": notifier.name, "alerts": dead, "error": str(exc)},
        )


async def _prepare(
    store: Store, claimed: list[ClaimedAlert], contacts: dict[str, str]
) -> list[tuple[ClaimedAlert, Alert]]:
    """The claimed alerts rendered; one whose exposure is gone is recorded sent, unsent."""
    ready = []
    for c in claimed:
        alert = await _alert(store, c, contacts)
        if alert is None:
            await store.alerts_sent([c.id], None)
        else:
            ready.append((c, alert))
    return ready


async def deliver(
    store: Store,
    notifier: Notifier,
    *,
    contacts: dict[str, str] | None = None,
    batch: int = 50,
    lease: float = LEASE,
    max_attempts: int = MAX_ATTEMPTS,
) -> DeliveryReport:
    """Send what is due on `notifier.name`, oldest first. Each alert is claimed (with a lease),
    posted with no transaction open, and recorded sent right after its own post, so a kill
    re-sends at most the one in flight; digest notifiers get `batch` alerts claimed, posted once
    and recorded together. A failed alert stays queued with a backoff and holds back only its
    own exposure's later alerts; after `max_attempts` it is dead-lettered. A transient failure
    (the channel may be down) ends the round; a definite one goes on with the next alert."""
    sent = failed = 0
    contacts = contacts or {}
    digest = bool(getattr(notifier, "digest", False)) and hasattr(notifier, "send_digest")
    while True:
        claimed = await store.claim_alerts(notifier.name, limit=batch if digest else 1, lease=lease)
        if not claimed:
            return DeliveryReport(sent=sent, failed=failed)
        alerts = await _prepare(store, claimed, contacts)
        if not alerts:
            continue
        try:
            if digest:
                delivery = await notifier.send_digest([a for _, a in alerts])  # type: ignore[attr-defined]
            else:
                ((c, alert),) = alerts
                delivery = await notifier.send(alert, thread_ref=c.thread_ref)
        except CredwatchError as exc:
            await _failed(store, notifier, [c for c, _ in alerts], exc, max_attempts)
            failed += len(alerts)
            if exc.retryable:
                return DeliveryReport(sent=sent, failed=failed)
            continue
        await store.alerts_sent([c.id for c, _ in alerts], delivery.ref, delivery.detail or None)
        sent += len(alerts)
