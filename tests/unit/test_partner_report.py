"""A partner's message and report: their words, inert dump text, none of our internals."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from monitor import partner_report
from monitor.advice import Facts, advise
from monitor.notify import Machine
from monitor.types import CredentialKind, Exposure, ExposureStatus, Reason, Secret, Severity

SECRET = Secret("Partner-Report-Pa55!")


def exposure(**over: object) -> Exposure:
    fields: dict[str, object] = {
        "id": 90210,
        "fingerprint": SECRET.fingerprint(b"k" * 32),
        "kind": CredentialKind.PASSWORD,
        "host": "<b>evil.example</b>",
        "login": "agent@acme.example",
        "secret_hint": SECRET.hint,
        "secret_length": len(SECRET),
        "reasons": (Reason.EMAIL_DOMAIN,),
        "severity": Severity.HIGH,
        "status": ExposureStatus.NEW,
        "domain": None,
        "portal": None,
        "partner": "Acme",
        "account_login": None,
        "infected_at": datetime(2025, 5, 1, 10, 0, tzinfo=UTC),
        "first_seen": datetime(2025, 5, 3, 9, 0, tzinfo=UTC),
        "last_seen": datetime(2025, 5, 3, 9, 0, tzinfo=UTC),
        "sightings": 1,
    }
    fields.update(over)
    return Exposure(**fields)  # type: ignore[arg-type]


def test_dump_text_is_inert_and_our_internals_stay_out() -> None:
    e = exposure()
    machine = Machine(
        family="<script>alert(1)</script>",
        infected_at=e.infected_at,
        country="https://evil.example/x",
        machine_hash="cafe" * 16,
        other_credentials=5,
    )
    item = partner_report.item(e, machine, advise(Facts(exposure=e, family=machine.family)))
    html = partner_report.html_document("Acme", [item])
    text = partner_report.text("Acme", [item])
    assert "<script" not in html and "<b>evil" not in html  # plain text needs no escaping
    for out in (html, text):
        assert "https://evil" not in out
        assert "90210" not in out and "cafe" not in out and SECRET.hint not in out
        assert "credwatch" not in out and "other credential" not in out
    assert "hxxps[://]evil[.]example/x" in text
    assert "&lt;b&gt;evil[.]example&lt;/b&gt;" in html
    assert "<code>agent@acme.example</code>" in html
    assert set(re.findall(r"<(/?[a-z0-9]+)", html.split("<body", 1)[1])) <= {
        "h2", "/h2", "p", "/p", "ol", "/ol", "ul", "/ul", "li", "/li", "b", "/b", "code",
        "/code", "/body", "/html",
    }  # fmt: skip


def test_a_cookie_says_until_when_and_what_the_user_must_do() -> None:
    e = exposure(
        kind=CredentialKind.COOKIE,
        host="portail.example.org",
        reasons=(Reason.PORTAL,),
        portal="https://portail.example.org/kairos",
        cookie_name="JSESSIONID",
        cookie_expires=datetime(2026, 2, 1, tzinfo=UTC),
    )
    item = partner_report.item(e, None, advise(Facts(exposure=e)))
    text = partner_report.text("Acme", [item], since=datetime(2025, 1, 1, tzinfo=UTC))
    assert (
        "1. A session cookie of agent@acme[.]example for our portal "
        "https://portail.example.org/kairos, valid until 2026-02-01 00:00 UTC"
    ) in text
    assert "since 2025-01-01 00:00 UTC" in text
    assert (
        "Have agent@acme[.]example sign out of every session, and change every password saved "
        "on that machine."
    ) in text
    assert "Reset the password" not in text  # the password is not what leaked
    assert "What we did: Nothing has been changed on our side yet." in text
