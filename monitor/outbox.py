"""Deliver queued alerts per channel, once each; keep them while a channel is down; dead-letter
an alert that keeps failing, so it never blocks the others."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from monitor import leak_clock
from monitor.alert_facts import gather_many
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
SINGLES = 100  # alerts claimed at once to be sent one by one, each recorded sent after its post
MAX_ATTEMPTS = 8  # deliveries of one alert before it is dead-lettered (about 4 minutes of backoff)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    sent: int
    failed: int


def backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 2.0 ** min(attempts, 12))


async def _failed(
    store: Store,
    notifier: Notifier,
    claimed: Sequence[ClaimedAlert],
    exc: CredwatchError,
    max_attempts: int,
) -> list[int]:
    """Record a failed post; returns the alerts it dead-lettered."""
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
    return dead


def approve_command(exposure_id: int) -> str:
    """The command that approves an exposure's containment awaiting approval."""
    return f"credwatch approve {exposure_id}"


async def _prepare(
    store: Store, claimed: list[ClaimedAlert], contacts: dict[str, str]
) -> list[tuple[ClaimedAlert, Alert]]:
    """The claimed alerts rendered; one whose exposure is gone is recorded sent, unsent."""
    exposures = await store.exposures_by_ids(sorted({c.exposure_id for c in claimed}))
    all_facts = await gather_many(
        store, [(e, contacts.get(e.partner or "")) for e in exposures.values()]
    )
    ready = []
    for c in claimed:
        exposure = exposures.get(c.exposure_id)
        if exposure is None:
            await store.alerts_sent([c.id], None)
            continue
        event = AlertEvent(c.event)
        contact = contacts.get(exposure.partner or "")
        facts = all_facts[exposure.id]
        alert = Alert(
            id=c.id,
            event=event,
            exposure=exposure,
            origin=c.origin,
            action_summary=c.summary,
            approve_command=approve_command(exposure.id) if event is AlertEvent.APPROVAL else None,
            partner_contact=contact,
            victim_country=facts.machine.country if facts.machine else None,
            stealer_family=facts.machine.family if facts.machine else None,
            created_at=c.created_at,
            machine=facts.machine,
            clock=facts.clock,
            advice=facts.advice,
        )
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
    lease: float = LEASE
    sent: int = 0
    failed: int = 0
    refs: dict[int, str] = field(default_factory=dict)  # exposure id → message to thread under
    held: set[int] = field(default_factory=set)  # exposures whose alert failed this round

    @property
    def report(self) -> DeliveryReport:
        return DeliveryReport(sent=self.sent, failed=self.failed)

    async def run(self, claimed: list[ClaimedAlert], *, claimed_at: float) -> bool:
        """Post a claimed batch: urgent ones alone, the rest grouped. False ends the round;
        what was not tried then is given back. So is what a failed alert of its exposure now
        holds back (it is claimed after it), and what the lease might not cover any more."""
        alerts = await _prepare(self.store, claimed, self.contacts)
        group = can_group(self.notifier)
        grouped = [(c, a) for c, a in alerts if group and self._grouped(a)]
        together = {c.id for c, _ in grouped}
        singles = [(c, a) for c, a in alerts if c.id not in together]
        posts = [([item], False) for item in singles]
        posts += [(g, True) for g in _groups(grouped, self.route)]
        for i, (items, as_group) in enumerate(posts):
            rest = [c.id for later, _ in posts[i + 1 :] for c, _ in later]
            if i and time.monotonic() - claimed_at > self.lease / 2:  # claim again, not outlive it
                await self.store.release_alerts([c.id for c, _ in items] + rest)
                return True
            held = [c.id for c, a in items if a.exposure.id in self.held]
            if held:
                await self.store.release_alerts(held)
                items = [(c, a) for c, a in items if a.exposure.id not in self.held]
                if not items:
                    continue
            if not await self.post(items, grouped=as_group):
                await self.store.release_alerts(rest)
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
            dead = await _failed(
                self.store, self.notifier, [c for c, _ in items], exc, self.max_attempts
            )
            self.failed += len(items)
            # Waiting for its retry, it holds back its exposure's later alerts; dead-lettered,
            # it holds back nothing (as the claim sees it).
            self.held.update(a.exposure.id for c, a in items if c.id not in dead)
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
    singles: int = SINGLES,
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
    be down) ends the round and gives back what was not tried; a definite one goes on.
    Alerts sent one by one are claimed `singles` at a time: a killed deliverer re-sends at most
    the one in flight, and the others it held are claimed again when their lease ends."""
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
        lease=lease,
    )
    urgent = route.urgent_from if grouping else 0
    while urgent <= int(Severity.CRITICAL):  # one by one, each recorded sent after its post
        at = time.monotonic()
        claimed = await store.claim_alerts(
            notifier.name, limit=singles, lease=lease, min_severity=urgent
        )
        if not claimed:
            break
        if not await state.run(claimed, claimed_at=at):
            return state.report
    while grouping and not urgent_only:
        at = time.monotonic()
        claimed = await store.claim_alerts(notifier.name, limit=batch, lease=lease)
        if not claimed or not await state.run(claimed, claimed_at=at):
            return state.report
    return state.report
