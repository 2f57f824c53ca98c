"""Retention: how long personal data is kept, and the purge that deletes what is older.

What one purge does (monitor/store/sql/purge_*.sql; closed exposures in batches, one
transaction each, then the old rows of what is kept):
- deletes exposures resolved or dismissed (by a human, a suppression rule, or the policy and
  never reopened) before the cut-off and not seen since, with their sightings, alerts and
  scan hits;
- keeps the audit trail about them (containment steps, containments, lifecycle transitions)
  as facts without personal data: the exposure's fingerprint instead of its id, logins and
  directory ids cleared, logins and URLs in free texts replaced by the fingerprint; a
  containment still waiting is withdrawn;
- deletes, for every exposure kept, its sightings older than the cut-off except the latest
  (the infected machine's facts an open case needs), and its alerts delivered or dead-lettered
  before the cut-off except its announcement (follow-ups thread under it);
- deletes problems (refused input lines) and scan hits older than the cut-off;
- deletes what ad-hoc lookups read by workers left behind when they died (started a day ago or
  more; monitor/lookup_work.py), whatever the cut-off.
Open and acknowledged exposures are never deleted: purge never closes a case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.errors import CredwatchError
from monitor.store.purge import PurgeCounts
from monitor.store.store import Store

_DURATION = re.compile(r"(\d{1,6})([dwy])")
_UNIT_DAYS = {"d": 1, "w": 7, "y": 365}
MIN_DAYS = 1
MAX_DAYS = 100 * 365


class RetentionError(CredwatchError):
    """A retention period that makes no sense."""


def parse_duration(text: str) -> timedelta:
    """`90d`, `12w` or `1y` as a period of whole days (a year is 365 days); anything else, a
    period under a day or over a century is refused."""
    m = _DURATION.fullmatch(text.strip().lower())
    if m is None:
        raise RetentionError(
            f"not a retention period: {text!r} (a number of days, weeks or years: 90d, 12w, 1y)"
        )
    return period_of_days(int(m[1]) * _UNIT_DAYS[m[2]], shown=text.strip())


def period_of_days(days: int, *, shown: str | None = None) -> timedelta:
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise RetentionError(
            f"retention period out of range: {shown or f'{days}d'} "
            f"(from {MIN_DAYS} day to {MAX_DAYS // 365} years)"
        )
    return timedelta(days=days)


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgeReport:
    cutoff: datetime
    dry_run: bool
    counts: PurgeCounts

    def as_dict(self) -> dict[str, object]:
        c = self.counts
        return {
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "deleted": c.deleted(),
            "anonymised": {
                "actions": c.actions_anonymised,
                "transitions": c.transitions_anonymised,
                "containments": c.containments_anonymised,
            },
            "kept_open": c.kept_open,
        }


async def purge(
    store: Store, period: timedelta, *, now: datetime | None = None, dry_run: bool = False
) -> PurgeReport:
    """Purge what is older than `period` (see the module's docstring)."""
    cutoff = (now or datetime.now(UTC)) - period
    counts = await store.purge(cutoff, dry_run=dry_run)
    if not dry_run:  # what ad-hoc lookups that died left behind (monitor/lookup_work.py)
        await store.lookup_rows().sweep()
    return PurgeReport(cutoff=cutoff, dry_run=dry_run, counts=counts)
