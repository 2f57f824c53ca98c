"""Rendering of alerts: inert hostile text, Slack limits, e-mail subject/text/HTML and JSON payload."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.notify import Alert, AlertEvent
from monitor.types import CredentialKind, Exposure, ExposureStatus, Reason, Secret, Severity
from notifiers import render
from tests.servers.slack import block_problems

PLANTED = "Planted-Render-Pa55!"


def make_alert(
    *,
    event: AlertEvent = AlertEvent.NEW,
    origin: str = "dump.zip!PC1/Passwords.txt:42",
    live: bool | None = True,
    action: str = "random password set, sessions revoked",
    approve: str | None = None,
    family: str | None = None,
    country: str | None = None,
    **exposure: Any,
) -> Alert:
    secret = Secret(PLANTED)
    fields: dict[str, Any] = {
        "id": 5,
        "fingerprint": secret.fingerprint(b"k" * 32),
        "kind": CredentialKind.PASSWORD,
        "host": "portail-partenaire.example.org",
        "login": "partner1@gmail.com",
        "secret_hint": secret.hint,
        "secret_length": len(secret),
        "reasons": (Reason.PORTAL,),
        "severity": Severity.HIGH,
        "status": ExposureStatus.NEW,
        "domain": "example.org",
        "portal": None,
        "partner": "Acme",
        "account_login": None,
        "infected_at": datetime(2025, 3, 2, 14, 5, tzinfo=UTC),
        "first_seen": datetime(2025, 3, 10, 8, 0, tzinfo=UTC),
        "last_seen": datetime(2025, 3, 10, 8, 0, tzinfo=UTC),
        "sightings": 1,
    }
    fields.update(exposure)
    return Alert(
        id=3,
        event=event,
        exposure=Exposure(**fields),
        origin=origin,
        live=live,
        action_summary=action,
        approve_command=approve,
        stealer_family=family,
        victim_country=country,
    )


def facts(alert: Alert) -> dict[str, str]:
    return {f.label: render.plain(f.value) for f in render.describe(alert).facts}


def slack_texts(message: dict[str, Any]) -> list[str]:
    texts = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [f["text"] for f in block.get("fields", [])]
        texts += [e["text"] for e in block.get("elements", [])]
    return texts


def test_clean_removes_controls_bidi_and_invisible_characters() -> None:
    assert render.clean("a\r\nb\tc\x00d") == "a b c d"
    assert render.clean("evil\u202egpj.exe") == "evil gpj.exe"
    assert render.clean("pay\u200bpal\ufeff.com") == "pay pal .com"
    assert render.clean("  lots   of\n\nspace ") == "lots of space"
    assert render.clean("x\udcff") == "x"
    assert render.clean(None) == ""
    assert render.clean("abcdef", 4) == "abc…"


def test_defang_makes_links_unclickable() -> None:
    assert render.defang("https://evil.example/login") == "hxxps[://]evil[.]example/login"
    assert render.defang("HTTP://a.b") == "HxxP[://]a[.]b"
    assert render.defang("ftp://files.example") == "fxp[://]files[.]example"
    assert render.defang("user@mail.example") == "user@mail[.]example"


def test_mrkdwn_escape_and_mentions() -> None:
    assert render.mrkdwn_escape("<!channel> & <@U1> <https://x|y>") == (
        "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;"
    )
    assert render.mrkdwn_escape("@here @Channel @everyone @hereby") == (
        "@\u2060here @\u2060Channel @\u2060everyone @hereby"
    )


def test_fit_mrkdwn_never_cuts_an_entity_or_a_code_span_in_half() -> None:
    assert render.fit_mrkdwn("abc&amp;def", 6) == "abc…"
    assert render.fit_mrkdwn("abc&amp;def", 9) == "abc&amp;…"
    assert render.fit_mrkdwn("ab `code span`", 9) == "ab …"
    assert render.fit_mrkdwn("short", 10) == "short"


def test_facts_for_a_password() -> None:
    got = facts(make_alert(family="RedLine", country="FR"))
    assert got == {
        "What leaked": "password P…!(16–23)",
        "Account": "partner1@gmail[.]com",
        "Partner": "Acme",
        "Host / portal": "portail-partenaire.example.org · under example.org",
        "Infected machine": "RedLine, infected 2025-03-02 14:05 UTC, FR",
        "Password status": "LIVE (not changed since the leak)",
        "Severity": "high (matched by portal)",
        "Seen": "1 time, first 2025-03-10 08:00 UTC, last 2025-03-10 08:00 UTC",
        "Leak clock": "infected 2025-03-02 14:05 UTC → first seen 2025-03-10 08:00 UTC "
        "(+7 d 17 h) → alerted now → contained not yet",
    }


def test_facts_for_a_cookie_a_hash_and_an_account() -> None:
    cookie = make_alert(
        kind=CredentialKind.COOKIE,
        cookie_name="SESSIONID",
        cookie_expires=datetime(2026, 1, 1, tzinfo=UTC),
        live=None,
    )
    assert facts(cookie)["What leaked"] == (
        "session cookie SESSIONID P…!(16–23), expires 2026-01-01 00:00 UTC"
    )
    assert facts(cookie)["Password status"] == "unknown (no identity provider answer yet)"
    hashed = make_alert(kind=CredentialKind.HASH, secret_hint=None, secret_length=None, live=False)
    assert facts(hashed)["What leaked"] == "password hash"
    assert facts(hashed)["Password status"] == "stale (changed after the leak)"
    account = make_alert(
        kind=CredentialKind.ACCOUNT, secret_hint=None, secret_length=None, partner=None
    )
    assert facts(account)["What leaked"] == "account named by an exposure source (no secret known)"
    assert facts(account)["Partner"] == "none (own staff or unknown)"
    combo = facts(make_alert(infected_at=None))  # a combo list names no machine
    assert combo["Infected machine"] == "not known (no stealer log named the machine)"


def test_every_event_has_a_title() -> None:
    titles = {e: render.describe(make_alert(event=e)).title for e in AlertEvent}
    assert titles == {
        AlertEvent.NEW: "Leaked credential found",
        AlertEvent.UPDATED: "Leaked credential seen again",
        AlertEvent.CONTAINED: "Leaked credential contained",
        AlertEvent.NEEDS_ACTION: "Leaked credential not fully contained: action needed",
        AlertEvent.STALE: "Leaked password already changed",
        AlertEvent.APPROVAL: "Approval needed to contain a leaked credential",
        AlertEvent.FAILED: "Containment failed",
    }


def test_portal_and_monitored_account_are_shown() -> None:
    alert = make_alert(
        portal="https://portail-partenaire.example.org/kairos",
        account_login="p.one@partner.example",
        url="https://portail-partenaire.example.org/kairos/login",
    )
    got = facts(alert)
    assert got["Host / portal"] == (
        "portail-partenaire.example.org · portal "
        "https://portail-partenaire.example.org/kairos · under example.org"
    )
    assert got["Account"] == "partner1@gmail[.]com (monitored account p.one@partner.example)"


def test_slack_message_shows_approval_command_in_code() -> None:
    message = render.slack_message(
        make_alert(event=AlertEvent.APPROVAL, approve="credwatch approve 5")
    )
    assert message["blocks"][0]["text"]["text"] == (
        "Approval needed to contain a leaked credential (high)"
    )
    assert message["blocks"][3]["text"]["text"] == (
        "*What was done:* random password set, sessions revoked\n"
        "*To approve containment:* `credwatch approve 5`"
    )


def test_subject_and_digest_subject() -> None:
    alert = make_alert(login="a\r\nBcc: x@y.example", host="h.example")
    assert render.subject(alert) == (
        "[credwatch] HIGH: Leaked credential found: a Bcc: x@y[.]example on h.example"
    )
    assert render.digest_subject([alert]) == (
        "[credwatch] 1 credential exposure alert (highest: high)"
    )
    assert render.subject(make_alert(login="x" * 500), prefix="[cw]").startswith(
        "[cw] HIGH: Leaked credential found: xxx"
    )
    assert render.subject(make_alert(login="x" * 500, host="h.example")) == (
        f"[credwatch] HIGH: Leaked credential found: {'x' * 79}… on h.example"
    )
    long_prefix = render.subject(make_alert(), prefix="p" * 300)
    assert len(long_prefix) == render.SUBJECT_MAX


def test_html_body_escapes_hostile_text() -> None:
    html = render.html_body(
        make_alert(login='"><img src=x onerror=alert(1)>', origin="<script>x</script>")
    )
    assert "<img" not in html and "<script>" not in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Seen in &lt;script&gt;x&lt;/script&gt; · exposure 5 · alert 3" in html


def test_payload_is_json_with_the_hint_only() -> None:
    payload = render.alert_payload(make_alert(url="https://a:b@h.example/x?pw=1"))
    text = json.dumps(payload)
    assert PLANTED not in text
    assert payload["exposure"]["secret_hint"] == Secret(PLANTED).hint
    assert payload["exposure"]["url"] == "https://h.example/x"
    assert payload["exposure"]["infected_at"] == "2025-03-02T14:05:00Z"
    assert payload["exposure"]["cookie_expires"] is None
    assert payload["created_at"] is None
    assert sorted(payload) == [
        "action_summary",
        "alert_id",
        "approve_command",
        "created_at",
        "event",
        "exposure",
        "live",
        "origin",
        "partner_contact",
        "schema",
        "stealer_family",
        "thread_ref",
        "title",
        "victim_country",
    ]


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert render.when(datetime(2025, 1, 2, 3, 4)) == "2025-01-02 03:04 UTC"
    assert render.when(None) == "unknown"


_PIECES = [*"<>&@!|*_~`.:/\\\r\n\t ", "\u202e", "\u200b", "é", "channel", "here", "http"]
hostile_text = st.lists(st.sampled_from(_PIECES), max_size=200).map("".join) | st.text(max_size=200)


@settings(max_examples=150, deadline=None)
@given(login=hostile_text, host=hostile_text, origin=hostile_text, action=hostile_text)
def test_any_hostile_text_stays_inert_and_within_limits(
    login: str, host: str, origin: str, action: str
) -> None:
    alert = make_alert(
        login=login, host=host, origin=origin, action=action, cookie_name=login, family=origin
    )
    message = render.slack_message(alert)
    assert block_problems(message) == []
    assert len(json.dumps(message)) < 12000
    for text in slack_texts(message):
        assert "<" not in text and ">" not in text
        assert not re.search(r"(?i)@(channel|here|everyone)\b", text)
        assert not re.search(r"(?i)https?://", text)
        assert "\u202e" not in text
    subject = render.subject(alert)
    assert "\r" not in subject and "\n" not in subject
    html = render.html_body(alert)
    body = html.split("<body", 1)[1]
    assert set(re.findall(r"<(/?[a-z0-9]+)", body)) <= {
        "h2",
        "/h2",
        "p",
        "/p",
        "table",
        "/table",
        "tr",
        "/tr",
        "th",
        "/th",
        "td",
        "/td",
        "code",
        "/code",
        "b",
        "/b",
        "small",
        "/small",
        "/body",
        "/html",
    }
    json.dumps(render.alert_payload(alert))


def with_advice(alert: Alert) -> Alert:
    from dataclasses import replace

    from monitor.advice import ContainmentRecord, Facts, StepRecord, advise
    from monitor.types import Outcome

    advice = advise(
        Facts(
            exposure=alert.exposure,
            containments=[
                ContainmentRecord(provider="okta", decision="contain", status="done", dry_run=False)
            ],
            steps=[
                StepRecord(provider="okta", step="revoke_sessions", outcome=Outcome.DONE),
                StepRecord(
                    provider="okta",
                    step="reset_password",
                    outcome=Outcome.FAILED,
                    detail="okta: HTTP 403",
                ),
            ],
        )
    )
    return replace(alert, advice=advice)


def test_what_to_do_now_leads_every_channel_and_own_identifiers_are_code() -> None:
    alert = with_advice(
        make_alert(
            login="jdupont@example.org",
            reasons=(Reason.PORTAL, Reason.EMAIL_DOMAIN),
            url="https://evil.example/phish",
            infected_at=None,
        )
    )
    message = render.slack_message(alert)
    todo = message["blocks"][2]["text"]["text"]
    assert todo == (
        "*What to do now:*\n• Reset the password of `jdupont@example.org` in okta by hand and "
        "require a change (okta: HTTP 403)."
    )
    assert message["blocks"][1]["text"]["text"].startswith(
        "Password of `jdupont@example.org` for `portail-partenaire.example.org`."
    )
    text = render.text_body(alert)
    assert "What to do now:\n- Reset the password of jdupont@example.org in okta" in text
    html = render.html_body(alert)
    assert "<li>Reset the password of <code>jdupont@example.org</code> in okta" in html
    # a foreign login from the dump stays plain, defanged text, never code
    foreign = with_advice(make_alert(login="x@evil.example", url="https://evil.example/p"))
    foreign_todo = render.slack_message(foreign)["blocks"][2]["text"]["text"]
    assert "Reset the password of x@evil[.]example in okta" in foreign_todo
    assert "x@evil[.]example for" in render.slack_message(foreign)["text"]
    assert "`x@evil" not in render.slack_message(foreign)["blocks"][1]["text"]["text"]
