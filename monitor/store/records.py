"""The typed rows the store hands out besides Exposure and Action: claims, counters, status."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.siem import ExposureState
from monitor.suppression import Field, Rule
from monitor.types import Action


@dataclass(frozen=True, slots=True, kw_only=True)
class Recorded:
    """What storing one match did."""

    exposure_id: int
    new_exposure: bool
    new_sighting: bool
    material: str | None  # why a known exposure deserves a new alert ("newer infection", ...)
    severity: int  # the exposure's after the batch


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredKey:
    """A fingerprint key the database knows: its id, its check value, current or previous."""

    key_id: str
    check_value: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceTotals:
    lines: int = 0
    bytes: int = 0
    records: int = 0
    matches: int = 0
    problems: int = 0
    skipped_lines: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedSource:
    """A source about to be queued: its units' byte ranges (None: one unit for the whole
    path), or, with `feed`, one poll of that API feed."""

    kind: str
    location: str
    identity: str
    spans: Sequence[tuple[int, int] | None] = (None,)
    feed: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedAlert:
    """An alert claimed for delivery: held by its lease until it is recorded sent or failed."""

    id: int
    exposure_id: int
    event: str
    origin: str
    summary: str
    created_at: datetime
    attempts: int  # attempts recorded before this one
    thread_ref: str | None  # the channel's reference of the exposure's "new" alert


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertContext:
    """The infected machine's facts (latest sighting that has them) and the leak clock's marks."""

    country: str | None
    family: str | None
    infected_at: datetime | None = None
    machine_hash: str | None = None
    other_credentials: int = 0  # other exposures the same machine leaked
    alerted_at: datetime | None = None
    contained_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainmentJob:
    """A containment claimed for a run: held by its lease until its outcome is recorded."""

    id: int
    exposure_id: int
    provider: str
    login: str
    idp_user_id: str | None
    dry_run: bool
    decided_by: str
    sessions_only: bool
    attempts: int  # runs recorded before this one
    infected_at: datetime | None
    first_seen: datetime
    host: str = ""
    portal: str | None = None  # the watched portal URL hit, when one was
    cookie_name: str | None = None
    cookie_expires: datetime | None = None
    files_dated_at: datetime | None = None  # the stealer files' own date: see leak_date


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRow:
    action: Action
    login: str
    host: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Backlog:
    """Pending work and totals, for `credwatch status` and the metrics gauges."""

    outbox: Mapping[str, int]  # alerts not yet delivered, per channel
    outbox_lag: float | None  # age in seconds of the oldest undelivered alert
    containments_pending: int
    awaiting_approval: int
    containments_failed: int
    sources_failed: int
    exposures: int
    exposures_open: int
    alerts_sent: int
    alerts_dead: int = 0  # dead-lettered: attempts exhausted, never tried again
    actions: int
    lines_ingested: int
    problems: int
    quarantined: int = 0  # dropped files given up on after their allowed attempts


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRun:
    """One source run, as `credwatch status` lists it."""

    id: int
    kind: str
    location: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    lines: int
    records: int
    matches: int
    problems: int
    error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    """What recent source runs skipped for one reason: how often, and the first few origins."""

    reason: str
    count: int
    origins: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Quarantined:
    """A dropped file given up on: where it was, how often it was tried, and why it failed."""

    location: str
    attempts: int
    reason: str | None
    quarantined_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """One audited lifecycle decision about an exposure."""

    id: int
    from_state: str
    to_state: str
    decided_by: str
    reason: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SightingRow:
    """Where an exposure was seen, and the infected machine's facts (machine id hashed)."""

    origin: str
    line: int
    feed: str
    infected_at: datetime | None
    victim_hash: str | None
    family: str | None
    country: str | None
    seen_at: datetime


def rule_from_row(row: Any) -> Rule:
    return Rule(
        id=row["id"],
        field=Field(row["field"]),
        pattern=row["pattern"],
        reason=row["reason"],
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanProgress:
    """How far a scan's units are: all of them, those closed (done or failed), those failed."""

    units: int
    closed: int
    failed: int
    lines: int
    records: int

    @property
    def finished(self) -> bool:
        return self.closed >= self.units


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainSighting:
    """One sighting of a stored exposure of a domain, for a lookup (no secret, hints neither)."""

    fingerprint: str
    kind: str
    host: str
    login: str
    url: str
    infected_at: datetime | None  # the sighting's, else the exposure's
    origin: str | None  # None: an exposure without a sighting
    victim_hash: str | None
    family: str | None
    country: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupAudit:
    """One ad-hoc lookup as audited: who asked about which domain, when, and how many results."""

    id: int
    actor: str
    domain: str
    scanned: bool
    paths: tuple[str, ...]
    since: datetime | None
    started_at: datetime
    finished_at: datetime | None  # None: interrupted
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingApproval:
    """A containment that waits for a human's approval (`credwatch pending`)."""

    exposure_id: int
    provider: str
    login: str
    dry_run: bool
    sessions_only: bool
    reason: str  # the policy's reason, e.g. "portal_account at medium"
    since: datetime
    severity: int
    host: str
    partner: str | None
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRecord:
    """The last human decision on an exposure's containment awaiting approval."""

    outcome: str  # approved | rejected
    decided_by: str
    detail: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainmentState:
    """Where one containment stands: `status` pending/done/failed/rejected, `result` the run's."""

    provider: str
    status: str
    result: str | None
    last_error: str | None
    dry_run: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Changes:
    """Exposures changed since a cursor, streamed, and the cursor the next read starts from."""

    next_cursor: int
    states: AsyncIterator[ExposureState]
