"""The SIEM event: export states validate against the schema, every field is documented in the
README's table, and the CSV columns are the schema's fields."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from monitor import siem
from monitor.types import CredentialKind, Exposure, ExposureStatus, Reason, Severity

README = Path(__file__).resolve().parents[2] / "README.md"


def exposure(**fields: object) -> Exposure:
    base: dict[str, object] = {
        "id": 7,
        "fingerprint": "f" * 64,
        "kind": CredentialKind.PASSWORD,
        "host": "intranet.example.org",
        "login": "jdupont@example.org",
        "secret_hint": "P***3",
        "secret_length": 9,
        "reasons": (Reason.HOST,),
        "severity": Severity.HIGH,
        "status": ExposureStatus.CONTAINED,
        "domain": "example.org",
        "portal": None,
        "partner": None,
        "account_login": None,
        "infected_at": None,
        "first_seen": datetime(2026, 1, 2, tzinfo=UTC),
        "last_seen": datetime(2026, 2, 3, tzinfo=UTC),
        "sightings": 2,
        "url": "https://intranet.example.org/session/abcdefghijklmnop1234567890/view?t=1",
    }
    base.update(fields)
    return Exposure(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "state",
    [
        siem.ExposureState(
            exposure=exposure(),
            lifecycle="resolved",
            lifecycle_at=datetime(2026, 2, 4, tzinfo=UTC),
            change=123456,
            machine=siem.Machine(id_hash="ab12", family="Lumma", country="FR"),
            origin="dump.zip!PC1/Passwords.txt:4",
            feed="files",
        ),
        siem.ExposureState(
            exposure=exposure(
                kind=CredentialKind.COOKIE,
                url="",
                login="",
                cookie_name="SID",
                status=ExposureStatus.NEEDS_ACTION,
            ),
            lifecycle="open",
            lifecycle_at=datetime(2026, 2, 4, tzinfo=UTC),
            change=1,
            machine=siem.Machine(),
        ),
    ],
)
def test_export_states_validate_and_mask(state: siem.ExposureState) -> None:
    doc = siem.state_event(state)
    jsonschema.validate(doc, siem.schema(), format_checker=jsonschema.FormatChecker())
    assert doc["@timestamp"] == "2026-02-04T00:00:00Z"  # the latest of seen and decided
    assert doc["credwatch"]["change_cursor"] == state.change
    assert doc["event"]["id"] == f"exposure-7-{state.change}"
    if state.exposure.url:
        assert doc["url"]["path"] == "/session/***/view"
        assert doc["event"]["outcome"] == "success"
        assert doc["host"] == {"id": "ab12", "geo": {"country_iso_code": "FR"}}
    else:
        assert doc["user"]["name"] is None and doc["event"]["outcome"] == "failure"


def documented_fields() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### SIEM events", 1)[1].split("\n### ", 1)[0]
    fields: set[str] = set()
    for row in re.findall(r"^\| (.+?) \|", section, flags=re.MULTILINE):
        fields.update(re.findall(r"`([@a-z_.]+)`", row))
    return fields


def test_every_field_is_documented_and_every_documented_field_exists() -> None:
    assert documented_fields() == set(siem.columns())


def test_csv_columns_are_the_flattened_fields() -> None:
    state = siem.ExposureState(
        exposure=exposure(),
        lifecycle="open",
        lifecycle_at=datetime(2026, 1, 2, tzinfo=UTC),
        change=5,
        machine=siem.Machine(),
    )
    flat = siem.flatten(siem.state_event(state))
    assert list(flat) == siem.columns()
    assert flat["credwatch.reasons"] == "host" and flat["tags"] == "credwatch,password"
