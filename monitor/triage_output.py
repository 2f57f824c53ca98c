"""What `credwatch show` and `credwatch suppress list` print: one exposure's story, the rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from monitor.output import safe
from monitor.store.records import ActionRow, SightingRow, Transition
from monitor.suppression import Rule
from monitor.types import Exposure


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureStory:
    """Everything `show` tells about one exposure (hints only, never a secret)."""

    exposure: Exposure
    state: str
    state_at: datetime
    sightings: Sequence[SightingRow]
    actions: Sequence[ActionRow]
    history: Sequence[Transition]


def _day(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


def story_json(s: ExposureStory) -> dict[str, Any]:
    e = s.exposure
    return {
        "id": e.id,
        "state": s.state,
        "status": e.status.value,
        "severity": e.severity.label,
        "kind": e.kind.value,
        "login": e.login,
        "host": e.host,
        "partner": e.partner,
        "secret_hint": e.secret_hint,
        "infected_at": e.infected_at.isoformat() if e.infected_at else None,
        "first_seen": e.first_seen.isoformat(),
        "last_seen": e.last_seen.isoformat(),
        "sightings": [
            {
                "origin": r.origin,
                "line": r.line,
                "family": r.family,
                "country": r.country,
                "victim": r.victim_hash,
                "seen_at": r.seen_at.isoformat(),
            }
            for r in s.sightings
        ],
        "actions": [
            {
                "step": a.action.step,
                "outcome": a.action.outcome.value,
                "by": a.action.decided_by,
                "at": a.action.created_at.isoformat(),
            }
            for a in s.actions
        ],
        "history": [
            {
                "from": t.from_state,
                "to": t.to_state,
                "by": t.decided_by,
                "reason": t.reason,
                "at": t.created_at.isoformat(),
            }
            for t in s.history
        ],
    }


def print_story(s: ExposureStory) -> None:
    e, out = s.exposure, Console(width=200, highlight=False)
    out.print(
        f"exposure {e.id}: {e.kind.value} of {safe(e.login or '-')} for {safe(e.host or '-')}"
    )
    out.print(
        f"  {s.state} since {_day(s.state_at)}; containment {e.status.value}; {e.severity.label};"
        f" partner {safe(e.partner or '-')}; secret {e.secret_hint or '-'}"
    )
    out.print(f"  infected {_day(e.infected_at)}; first seen {_day(e.first_seen)}")
    sights = Table(title="Sightings")
    for col in ("seen", "origin", "family", "country", "machine"):
        sights.add_column(col)
    for r in s.sightings:
        where = f"{r.origin}:{r.line}" if r.line else r.origin
        sights.add_row(_day(r.seen_at), safe(where), safe(r.family or "-"),
                       safe(r.country or "-"), (r.victim_hash or "-")[:12])  # fmt: skip
    out.print(sights)
    history = Table(title="History")
    for col in ("at", "by", "what", "why"):
        history.add_column(col)
    rows = [(a.action.created_at, a.action.decided_by,
             f"{a.action.provider} {a.action.step} {a.action.outcome.value}", a.action.detail)
            for a in s.actions]  # fmt: skip
    rows += [(t.created_at, t.decided_by, f"{t.from_state} → {t.to_state}", t.reason)
             for t in s.history]  # fmt: skip
    for at, by, what, why in sorted(rows, key=lambda r: r[0]):
        history.add_row(_day(at), safe(by), safe(what), safe(why)[:100])
    out.print(history)


def print_rules(rules: Sequence[Rule]) -> None:
    table = Table(title="Suppression rules")
    for col in ("id", "field", "pattern", "reason", "by", "since"):
        table.add_column(col)
    for r in rules:
        table.add_row(str(r.id), r.field.value, safe(r.pattern), safe(r.reason),
                      safe(r.created_by), _day(r.created_at))  # fmt: skip
    Console(width=200).print(table)
