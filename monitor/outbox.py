"""Deliver queued alerts per channel, once each; keep them while a channel is down; dead-letter
an alert that keeps failing, so it never blocks the others."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from monitor import leak_clock
from monitor.alert_facts import gather
from monitor.errors import CredwatchError
from monitor.notify import Alert, AlertEvent, Notifier, can_group
from monitor.routing import Route
from monitor.store.records import ClaimedAlert
from monitor.store.store import Store
from monitor.types import Severity

log = logging.getLogger(__name__)

MAX_BACKOFF = 3600.0
LEASE = 300.0  # seconds a claimed alert is held: longer than one post with its retries
GROUP_MAX = 1000  # alerts claimed at once to be grouped: one message per partner per round
MAX_ATTEMPTS = 8  # deliveries of one alert before it is dead-lettered (about 4 minutes of backoff)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    sent: int
    failed: int


def backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 2.0 ** min(attempts, 12))


def approve_command(exposure_id: int) -> str:
    """The command that approves an exposure's containment awaiting approval."""
    return f"credwatch approve {exposure_id}"


async def _alert(store: Store, claimed: ClaimedAlert, contacts: dict[str, str]) -> Alert | None:
    exposure = await store.exposure_by_id(claimed.exposure_id)
    if exposure is None:
        return None
    event = AlertEvent(claimed.event)
    contact = contacts.get(exposure.partner or "")
    facts = await gather(store, exposure, partner_contact=contact)
    return Alert(
        id=claimed.id,
        event=event,
        exposure=exposure,
        origin=claimed.origin,
        action_summary=claimed.summary,
        approve_command=approve_command(exposure.id) if event is AlertEvent.APPROVAL else None,
        partner_contact=contact,
        victim_country=facts.machine.country if facts.machine else None,
        stealer_family=facts.machine.family if facts.machine else None,
        created_at=claimed.created_at,
        machine=facts.machine,
        clock=facts.clock,
        advice=facts.advice,
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


def _groups(
    alerts: Sequence[tuple[ClaimedAlert, Alert]], route: Route
) -> list[list[tuple[ClaimedAlert, Alert]]]:
    """Grouped alerts, one group per partner ("" the organisation) or one for the round."""
    groups: dict[str, list[tuple[ClaimedAlert, Alert]]] = {}
    for c, alert in alerts:
        key = (alert.exposure.partner or "") if route.by_partner else ""
        groups.setdefault(key, []).append((c, alert))
    return [groups[k] for k in sorted(groups)]


@dataclass(slots=True, kw_only=True)
class _Round:
    """One channel's delivery round: what went out, what failed, where follow-ups thread."""

    store: Store
    notifier: Notifier
    route: Route
    contacts: dict[str, str]
    max_attempts: int
    sent: int = 0
    failed: int = 0
    refs: dict[int, str] = field(default_factory=dict)  # exposure id → message to thread under

    @property
    def report(self) -> DeliveryReport:
        return DeliveryReport(sent=self.sent, failed=self.failed)

    async def run(self, claimed: list[ClaimedAlert]) -> bool:
        """Post a claimed batch: urgent ones alone, the rest grouped. False ends the round;
        what was not tried then is given back."""
        alerts = await _prepare(self.store, claimed, self.contacts)
        group = can_group(self.notifier)
        grouped = [(c, a) for c, a in alerts if group and self._grouped(a)]
        together = {c.id for c, _ in grouped}
        singles = [(c, a) for c, a in alerts if c.id not in together]
        posts = [([item], False) for item in singles]
        posts += [(g, True) for g in _groups(grouped, self.route)]
        for i, (items, as_group) in enumerate(posts):
            if not await self.post(items, grouped=as_group):
                await self.store.release_alerts(
                    [c.id for rest, _ in posts[i + 1 :] for c, _ in rest]
                )
                return False
        return True

    def _grouped(self, alert: Alert) -> bool:
        """A request for a decision always goes alone: it is answered message by message."""
        return alert.event is not AlertEvent.APPROVAL and self.route.grouped(
            alert.exposure.severity
        )

    async def post(self, items: list[tuple[ClaimedAlert, Alert]], *, grouped: bool) -> bool:
        """Post `items` as one message (grouped) or the single alert; False ends the round."""
        try:
            if grouped and can_group(self.notifier):
                delivery = await self.notifier.send_digest([a for _, a in items])
            else:
                ((c, alert),) = items
                thread = c.thread_ref or self.refs.get(alert.exposure.id)
                delivery = await self.notifier.send(alert, thread_ref=thread)
        except CredwatchError as exc:
            await _failed(self.store, self.notifier, [c for c, _ in items], exc, self.max_attempts)
            self.failed += len(items)
            return not exc.retryable
        first = await self.store.alerts_sent(
            [c.id for c, _ in items], delivery.ref, delivery.detail or None
        )
        for seen_at, alerted_at, contained_at in first:
            leak_clock.alerted(seen_at, alerted_at, contained_at)
        self.sent += len(items)
        for _, alert in items:
            if delivery.ref:
                self.refs.setdefault(alert.exposure.id, delivery.ref)
        return True


async def deliver(
    store: Store,
    notifier: Notifier,
    *,
    route: Route | None = None,
    contacts: dict[str, str] | None = None,
    urgent_only: bool = False,
    batch: int = GROUP_MAX,
    lease: float = LEASE,
    max_attempts: int = MAX_ATTEMPTS,
) -> DeliveryReport:
    """Send what is due on `notifier.name`, oldest first. Alerts are claimed (with a lease),
    posted with no transaction open, and recorded sent right after their own post, so a kill
    re-sends at most the message in flight. The channel's `route` says which alerts go out one
    by one (their follow-ups threaded under them) and which are grouped, one message per partner
    (or per round); `urgent_only` sends only the ones-by-one and leaves the rest to be grouped
    later. A failed alert stays queued with a backoff and holds back only its own exposure's
    later alerts; after `max_attempts` it is dead-lettered. A transient failure (the channel may
    be down) ends the round and gives back what was not tried; a definite one goes on."""
    route = route or Route(channel=notifier.name)
    if getattr(notifier, "digest", False) and not route.digest:
        route = replace(route, digest=True)  # the notifier's own digest mode (e-mail)
    grouping = can_group(notifier)
    state = _Round(
        store=store,
        notifier=notifier,
        route=route,
        contacts=contacts or {},
        max_attempts=max_attempts,
    )
    urgent = route.urgent_from if grouping else 0
    while urgent <= int(Severity.CRITICAL):  # one by one: a kill leaves only one leased
        claimed = await store.claim_alerts(notifier.name, limit=1, lease=lease, min_severity=urgent)
        if not claimed:
            break
        if not await state.run(claimed):
            return state.report
    while grouping and not urgent_only:
        claimed = await store.claim_alerts(notifier.name, limit=batch, lease=lease)
        if not claimed or not await state.run(claimed):
            return state.report
    return state.report
