"""The SIEM event: an exposure or an alert about one as an ECS document (the one home of the
mapping). The webhook posts it, `credwatch export` writes it; `monitor/siem_event.schema.json`
is its JSON schema and README.md's "SIEM events" section its field table.

ECS fields carry what ECS has a field for (who: `user.*`; where: `url.*`; the infected machine:
`host.*`; the stealer and the sightings: `threat.*`); credwatch's own facts are under
`credwatch.*`. Values are raw (receivers escape them); URLs are scrubbed (`safe_url`), the
secret is only ever its masked hint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from monitor.hint import bucket
from monitor.normalize import email_domain, safe_url
from monitor.notify import Alert, AlertEvent
from monitor.types import CredentialKind, Exposure

SCHEMA_VERSION = "1"  # credwatch.schema_version: bumped when a field changes meaning or goes
ECS_VERSION = "8.11.0"
SCHEMA_FILE = "siem_event.schema.json"

# alert event → (event.action, event.outcome, message)
_ALERTS: dict[AlertEvent, tuple[str, str, str]] = {
    AlertEvent.NEW: ("credential-exposed", "unknown", "Leaked credential found"),
    AlertEvent.UPDATED: ("credential-exposure-updated", "unknown", "Leaked credential seen again"),
    AlertEvent.CONTAINED: ("credential-contained", "success", "Leaked credential contained"),
    AlertEvent.NEEDS_ACTION: (
        "containment-incomplete",
        "failure",
        "Leaked credential not fully contained: action needed",
    ),
    AlertEvent.STALE: ("credential-stale", "success", "Leaked password already changed"),
    AlertEvent.APPROVAL: (
        "containment-approval-needed",
        "unknown",
        "Approval needed to contain a leaked credential",
    ),
    AlertEvent.FAILED: ("containment-failed", "failure", "Containment failed"),
}
STATE_ACTION = "exposure-changed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Machine:
    """The infected machine of an exposure's latest sighting (its id hashed)."""

    id_hash: str | None = None
    family: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureState:
    """An exposure as `credwatch export` sees it after a change: lifecycle, cursor, latest
    sighting."""

    exposure: Exposure
    lifecycle: str
    lifecycle_at: datetime
    change: int  # the change cursor value of the transaction that last changed it
    machine: Machine
    origin: str | None = None
    feed: str | None = None


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert_event(alert: Alert, *, thread_ref: str | None = None) -> dict[str, Any]:
    """The webhook's body: one alert about an exposure (`event.kind` "alert")."""
    action, outcome, message = _ALERTS.get(
        alert.event, (f"credential-{alert.event.value}", "unknown", "Credential exposure")
    )
    e = alert.exposure
    machine = Machine(family=alert.stealer_family, country=alert.victim_country)
    doc = _document(
        e,
        kind="alert",
        action=action,
        outcome=outcome,
        message=message,
        event_id=f"alert-{alert.id}",
        timestamp=alert.created_at or e.last_seen,
        machine=machine,
    )
    doc["credwatch"].update(
        alert_id=alert.id,
        alert_event=alert.event.value,
        origin=alert.origin or None,
        live=alert.live,
        action_summary=alert.action_summary or None,
        approve_command=alert.approve_command,
        partner_contact=alert.partner_contact,
        thread_ref=thread_ref,
    )
    return doc


def state_event(state: ExposureState) -> dict[str, Any]:
    """An export line: an exposure's state after a change (`event.kind` "state")."""
    e = state.exposure
    changed = max(e.last_seen, state.lifecycle_at)
    doc = _document(
        e,
        kind="state",
        action=STATE_ACTION,
        outcome=_state_outcome(e),
        message=f"Credential exposure {e.status.value}, {state.lifecycle}",
        event_id=f"exposure-{e.id}-{state.change}",
        timestamp=changed,
        machine=state.machine,
    )
    doc["event"]["provider"] = state.feed
    doc["credwatch"].update(
        lifecycle=state.lifecycle,
        lifecycle_at=iso(state.lifecycle_at),
        change_cursor=state.change,
        origin=state.origin,
    )
    return doc


def _state_outcome(e: Exposure) -> str:
    if e.status.value in ("contained", "stale"):
        return "success"
    if e.status.value in ("needs_action", "partially_contained"):
        return "failure"
    return "unknown"


def _document(
    e: Exposure,
    *,
    kind: str,
    action: str,
    outcome: str,
    message: str,
    event_id: str,
    timestamp: datetime,
    machine: Machine,
) -> dict[str, Any]:
    url = safe_url(e.url) if e.url else ""
    parts = urlsplit(url) if url else None
    domain = email_domain(e.login)
    return {
        "@timestamp": iso(timestamp),
        "message": message,
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": kind,
            "category": ["iam", "threat"],
            "type": ["indicator"],
            "action": action,
            "outcome": outcome,
            "severity": int(e.severity),
            "id": event_id,
            "dataset": f"credwatch.{kind}",
            "module": "credwatch",
            "provider": None,
        },
        "user": {
            "name": e.login or None,
            "email": e.login if domain else None,
            "domain": domain or None,
        },
        "url": {
            "full": url or None,
            "scheme": (parts.scheme or None) if parts else None,
            "domain": e.host or (parts.hostname if parts else None) or None,
            "path": (parts.path or None) if parts else None,
        },
        "host": {
            "id": machine.id_hash,
            "geo": {"country_iso_code": machine.country},
        },
        "threat": {
            "software": {"name": machine.family, "type": "Malware" if machine.family else None},
            "indicator": {
                "type": "url" if url else "email-addr",
                "first_seen": iso(e.first_seen),
                "last_seen": iso(e.last_seen),
                "sightings": e.sightings,
            },
        },
        "tags": ["credwatch", e.kind.value],
        "credwatch": {
            "schema_version": SCHEMA_VERSION,
            "exposure_id": e.id,
            "fingerprint": e.fingerprint,
            "kind": e.kind.value,
            "status": e.status.value,
            "severity": e.severity.label,
            "reasons": [r.value for r in e.reasons],
            "hint": e.secret_hint,
            "secret_length": bucket(e.secret_length)[0] if e.secret_length is not None else None,
            "partner": e.partner,
            "portal": safe_url(e.portal) if e.portal else None,
            "domain": e.domain,
            "account_login": e.account_login,
            "infected_at": iso(e.infected_at),
            "cookie_name": e.cookie_name if e.kind is CredentialKind.COOKIE else None,
            "cookie_expires": iso(e.cookie_expires),
            "alert_id": None,
            "alert_event": None,
            "origin": None,
            "live": None,
            "action_summary": None,
            "approve_command": None,
            "partner_contact": None,
            "thread_ref": None,
            "lifecycle": None,
            "lifecycle_at": None,
            "change_cursor": None,
        },
    }


def schema() -> dict[str, Any]:
    """The JSON schema every SIEM event validates against."""
    text = (resources.files("monitor") / SCHEMA_FILE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def columns() -> list[str]:
    """Every field as a dotted name, in the schema's order: the CSV header."""

    def walk(props: dict[str, Any], prefix: str) -> list[str]:
        names = []
        for key, spec in props.items():
            if spec.get("type") == "object":
                names.extend(walk(spec["properties"], f"{prefix}{key}."))
            else:
                names.append(f"{prefix}{key}")
        return names

    return walk(schema()["properties"], "")


def flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The document as dotted ECS field names (`user.name`), lists joined by commas: CSV rows."""
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = ",".join(str(v) for v in value)
        else:
            flat[name] = value
    return flat
