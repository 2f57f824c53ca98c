"""E-mail notifier against a real aiosmtpd server on loopback: TLS, AUTH, parts, digests, partners."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest

from monitor.advice import ContainmentRecord, Facts, StepRecord, advise
from monitor.errors import ConfigError, ProviderError
from monitor.notify import Alert, AlertEvent, Machine, Notifier
from monitor.retry import RetryPolicy
from monitor.types import (
    CredentialKind,
    Exposure,
    ExposureStatus,
    Outcome,
    Reason,
    Secret,
    Severity,
)
from notifiers.email import EmailNotifier
from tests.servers.smtp import PASSWORD, USER, SmtpServer

PLANTED = "Planted-Mail-Pa55!"
ADMINS = ["soc@example.org", "it@example.org"]


def make_alert(
    *,
    alert_id: int = 1,
    exposure_id: int = 7,
    login: str = "partner1@gmail.com",
    host: str = "portail-partenaire.example.org",
    partner: str | None = "Acme Formation",
    contact: str | None = "security@acme.example",
    severity: Severity = Severity.CRITICAL,
    event: AlertEvent = AlertEvent.NEW,
) -> Alert:
    secret = Secret(PLANTED)
    exposure = Exposure(
        id=exposure_id,
        fingerprint=secret.fingerprint(b"k" * 32),
        kind=CredentialKind.PASSWORD,
        host=host,
        login=login,
        secret_hint=secret.hint,
        secret_length=len(secret),
        reasons=(Reason.PORTAL,),
        severity=severity,
        status=ExposureStatus.NEW,
        domain="example.org",
        portal="https://portail-partenaire.example.org/kairos",
        partner=partner,
        account_login=login,
        infected_at=datetime(2025, 3, 2, 14, 5, tzinfo=UTC),
        first_seen=datetime(2025, 3, 10, 8, 0, tzinfo=UTC),
        last_seen=datetime(2025, 3, 10, 8, 0, tzinfo=UTC),
        sightings=1,
    )
    return Alert(
        id=alert_id,
        event=event,
        exposure=exposure,
        machine=Machine(
            family="RedLine",
            infected_at=exposure.infected_at,
            country="FR",
            machine_hash="ab12" * 16,
            other_credentials=2,
        ),
        advice=advise(
            Facts(
                exposure=exposure,
                containments=(
                    ContainmentRecord(
                        provider="okta", decision="contain", status="done", dry_run=False
                    ),
                ),
                steps=(
                    StepRecord(provider="okta", step="reset_password", outcome=Outcome.DONE),
                    StepRecord(provider="okta", step="require_change", outcome=Outcome.DONE),
                    StepRecord(provider="okta", step="revoke_sessions", outcome=Outcome.DONE),
                ),
                partner_contact=contact,
                family="RedLine",
            )
        ),
        origin="dump.zip!PC1/Passwords.txt:42",
        live=True,
        action_summary="random password set, sessions revoked",
        partner_contact=contact,
    )


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def plain() -> Iterator[SmtpServer]:
    with SmtpServer("plain") as server:
        yield server


@pytest.fixture
def starttls() -> Iterator[SmtpServer]:
    with SmtpServer("starttls") as server:
        yield server


def notifier_for(server: SmtpServer, **kwargs: Any) -> EmailNotifier:
    if server.mode == "plain":
        kwargs.setdefault("security", "none")
    else:
        kwargs.setdefault("security", server.mode)
        kwargs.setdefault("tls_context", server.client_context())
        kwargs.setdefault("username", USER)
        kwargs.setdefault("password", PASSWORD)
    kwargs.setdefault("admins", ADMINS)
    kwargs.setdefault("timeout", 5.0)
    return EmailNotifier(
        host="127.0.0.1", port=server.port, sender="credwatch <cw@example.org>", **kwargs
    )


def parts(msg: EmailMessage) -> dict[str, str]:
    found = {}
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            assert isinstance(part, EmailMessage)
            found[part.get_content_type()] = part.get_content().replace("\r\n", "\n")
    return found


async def test_plain_message_has_text_and_html_parts(plain: SmtpServer) -> None:
    notifier = notifier_for(plain)
    delivery = await notifier.send(make_alert())
    assert len(plain.messages) == 1
    got = plain.messages[0]
    assert got.mail_from == "cw@example.org"
    assert got.rcpt_tos == tuple(ADMINS)
    msg = got.message()
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"] == (
        "[credwatch] CRITICAL: Leaked credential found: partner1@gmail[.]com on "
        "portail-partenaire.example.org"
    )
    assert msg["To"] == "soc@example.org, it@example.org"
    assert msg["Cc"] is None
    assert msg["X-Credwatch-Alert"] == "1"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert delivery.ref == msg["Message-ID"]
    found = parts(msg)
    assert set(found) == {"text/plain", "text/html"}
    assert "Account: partner1@gmail[.]com (monitored account)\n" in found["text/plain"]
    assert "What was done: random password set, sessions revoked\n" in found["text/plain"]
    assert '<th align="left" valign="top">What leaked</th>' in found["text/html"]
    assert PLANTED not in got.content.decode()
    assert Secret(PLANTED).hint in found["text/plain"]


async def test_starttls_with_auth(starttls: SmtpServer) -> None:
    notifier = notifier_for(starttls)
    await notifier.send(make_alert())
    assert len(starttls.messages) == 1
    assert starttls.messages[0].authenticated is True


async def test_wrong_password_is_a_final_error(starttls: SmtpServer) -> None:
    sleeps = Sleeps()
    notifier = notifier_for(starttls, password="not-the-password", sleep=sleeps)
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert info.value.retryable is False
    assert info.value.status == 535
    assert str(info.value) == "smtp: SMTPAuthenticationError 535"
    assert sleeps.delays == []
    assert starttls.messages == []


async def test_untrusted_certificate_is_a_final_error(starttls: SmtpServer) -> None:
    notifier = notifier_for(starttls, tls_context=None)
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert info.value.retryable is False
    assert str(info.value).startswith("smtp: TLS failed (")


async def test_server_without_auth_is_a_final_error(plain: SmtpServer) -> None:
    sleeps = Sleeps()
    notifier = notifier_for(
        plain, security="starttls", username=USER, password=PASSWORD, sleep=sleeps
    )
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert info.value.retryable is False
    assert sleeps.delays == []


async def test_implicit_tls() -> None:
    with SmtpServer("tls") as server:
        notifier = notifier_for(server)
        await notifier.send(make_alert())
        assert len(server.messages) == 1
        assert server.messages[0].authenticated is True


async def test_html_escapes_everything_and_subject_resists_header_injection(
    plain: SmtpServer,
) -> None:
    notifier = notifier_for(plain)
    login = "<script>alert(1)</script>\r\nBcc: victim@evil.example"
    await notifier.send(make_alert(login=login, host="a<b>.example"))
    got = plain.messages[0]
    msg = got.message()
    assert got.rcpt_tos == tuple(ADMINS)
    assert msg["Bcc"] is None
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert msg["Subject"] == (
        "[credwatch] CRITICAL: Leaked credential found: <script>alert(1)</script> Bcc: "
        "victim@evil[.]example on a<b>[.]example"
    )
    html = parts(msg)["text/html"]
    assert "<script>" not in html and "a<b>" not in html
    assert "a&lt;b&gt;[.]example" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bcc: victim@evil[.]example" in html


async def test_digest_lists_three_alerts_in_one_message(plain: SmtpServer) -> None:
    notifier = notifier_for(plain)
    alerts = [
        make_alert(alert_id=1, exposure_id=11, login="a@gmail.com", severity=Severity.MEDIUM),
        make_alert(alert_id=2, exposure_id=12, login="b@gmail.com", severity=Severity.CRITICAL),
        make_alert(alert_id=3, exposure_id=13, login="c@gmail.com", severity=Severity.HIGH),
    ]
    delivery = await notifier.send_digest(alerts)
    assert len(plain.messages) == 1
    msg = plain.messages[0].message()
    assert msg["Subject"] == "[credwatch] 3 credential exposure alerts (highest: critical)"
    assert msg["X-Credwatch-Alert"] == "1,2,3"
    assert delivery.ref == msg["Message-ID"]
    assert delivery.detail == "digest of 3 alert(s) to 2 admin(s) and 0 partner contact(s)"
    found = parts(msg)
    text = found["text/plain"]
    lines = [line for line in text.splitlines() if line[:3] in ("1. ", "2. ", "3. ")]
    assert lines == [
        f"{i}. [{sev}] Leaked credential found: password of {who}@gmail[.]com for "
        "portail-partenaire.example.org"
        for i, sev, who in ((1, "critical", "b"), (2, "high", "c"), (3, "medium", "a"))
    ]
    assert (
        "   partner Acme Formation; infected 2025-03-02 14:05 UTC; LIVE (not changed since the "
        "leak); done: random password set, sessions revoked; exposure 12"
    ) in text
    for login in ("b@gmail[.]com", "c@gmail[.]com", "a@gmail[.]com"):
        assert f"<td>{login}</td>" in found["text/html"]
    assert found["text/html"].count("<tr><td>") == 3


async def test_empty_digest_sends_nothing(plain: SmtpServer) -> None:
    delivery = await notifier_for(plain).send_digest([])
    assert delivery.detail == "nothing to send"
    assert plain.messages == []


def internals(alert: Alert) -> list[str]:
    """What a partner must never read: our ids, commands, the dump's paths, the hint."""
    e = alert.exposure
    return [
        f"exposure {e.id}",
        f"alert {alert.id}",
        str(e.id),
        "credwatch approve",
        "credwatch reject",
        "X-Credwatch-Alert",
        "dump.zip",
        "Passwords.txt",
        "PC1/",
        e.secret_hint or "",
        PLANTED[1:-1],
    ]


async def test_partner_contact_gets_its_own_message_never_the_internal_alert(
    plain: SmtpServer,
) -> None:
    notifier = notifier_for(plain, partner_contacts=True)
    one = make_alert(alert_id=61, exposure_id=48151, partner="Acme", contact="sec@acme.example")
    two = make_alert(
        alert_id=62,
        exposure_id=48152,
        partner="Beta",
        contact="Sec@Beta.example",
        login="x@beta.example",
    )
    own = make_alert(alert_id=63, exposure_id=48153, partner=None, contact=None, login="s@x.org")
    assert notifier.recipients_for(one) == ADMINS
    for alert in (one, two, own):
        delivery = await notifier.send(alert)
    assert delivery.detail == "mailed to 2 recipient(s)"
    envelopes = [(m.message()["X-Credwatch-Alert"], m.rcpt_tos) for m in plain.messages]
    assert envelopes == [
        ("61", tuple(ADMINS)),
        (None, ("sec@acme.example",)),
        ("62", tuple(ADMINS)),
        (None, ("sec@beta.example",)),
        ("63", tuple(ADMINS)),
    ]
    assert all(m.message()["Cc"] is None for m in plain.messages)
    acme = plain.messages[1].message()
    assert acme["Subject"] == "Security notice for Acme: a credential of your users leaked"
    raw = plain.messages[1].content.decode()
    text = parts(acme)["text/plain"]
    for planted in [*internals(one), "beta", "Beta", "x@beta"]:
        assert planted not in raw, planted
    assert "credwatch" not in text and "credwatch" not in parts(acme)["text/html"]
    assert "The password of `partner1@gmail[.]com`" not in text  # plain text: no markup
    assert "The password of partner1@gmail[.]com for our portal " in text
    assert (
        "From: a machine infected by RedLine stealer malware on 2025-03-02 14:05 UTC in FR" in text
    )
    assert "ab12" not in raw  # not even the hashed machine id
    assert "What we did: We replaced the password on our side and ended the account's" in text
    assert "Clean or reinstall the infected machine (it runs RedLine stealer malware)" in text
    assert "<code>https://portail-partenaire.example.org/kairos</code>" in parts(acme)["text/html"]


async def test_partner_digest_carries_only_its_partners_exposures(plain: SmtpServer) -> None:
    notifier = notifier_for(plain, partner_contacts=True)
    alerts = [
        make_alert(
            alert_id=1, exposure_id=48161, login="a1@acme.example", contact="sec@acme.example"
        ),
        make_alert(alert_id=2, login="b1@beta.example", partner="Beta", contact="sec@beta.example"),
        make_alert(alert_id=3, login="a2@acme.example", contact="sec@acme.example"),
    ]
    delivery = await notifier.send_digest(alerts)
    assert delivery.detail == "digest of 3 alert(s) to 2 admin(s) and 2 partner contact(s)"
    sent = {m.rcpt_tos: m.message() for m in plain.messages}
    assert set(sent) == {tuple(ADMINS), ("sec@acme.example",), ("sec@beta.example",)}
    assert sent[tuple(ADMINS)]["X-Credwatch-Alert"] == "1,2,3"
    acme = sent[("sec@acme.example",)]
    assert acme["X-Credwatch-Alert"] is None
    assert (
        acme["Subject"].strip()  # the header may be folded before its first word
        == "Security notice for Acme Formation: 2 credentials of your users leaked"
    )
    text = parts(acme)["text/plain"]
    assert "a1@acme[.]example" in text and "a2@acme[.]example" in text
    assert "beta" not in text.lower()
    for planted in internals(alerts[0]):
        assert planted not in acme.as_string(), planted


async def test_partner_contacts_off_means_admins_only(plain: SmtpServer) -> None:
    notifier = notifier_for(plain)
    assert notifier.recipients_for(make_alert()) == ADMINS
    await notifier.send(make_alert())
    bad = make_alert(contact="evil\r\nBcc: x@y.example")
    await notifier_for(plain, partner_contacts=True).send(bad)
    assert [m.rcpt_tos for m in plain.messages] == [tuple(ADMINS), tuple(ADMINS)]


async def test_follow_up_replies_in_the_same_thread(plain: SmtpServer) -> None:
    notifier = notifier_for(plain)
    first = await notifier.send(make_alert(alert_id=1))
    second = await notifier.send(
        make_alert(alert_id=2, event=AlertEvent.CONTAINED), thread_ref=first.ref
    )
    assert second.ref == first.ref
    reply = plain.messages[1].message()
    assert reply["In-Reply-To"] == first.ref
    assert reply["References"] == first.ref


async def test_a_refused_recipient_is_recorded_for_that_recipient_only(plain: SmtpServer) -> None:
    plain.sink.refuse["it@example.org"] = "550 5.1.1 no such user"
    sleeps = Sleeps()
    delivery = await notifier_for(plain, sleep=sleeps).send(make_alert())
    assert delivery.detail == "mailed to 1 recipient(s); refused: it@example.org (550)"
    assert len(plain.messages) == 1
    assert plain.messages[0].rcpt_tos == ("soc@example.org",)
    assert sleeps.delays == []


async def test_one_message_id_per_alert_on_every_attempt(plain: SmtpServer) -> None:
    notifier = notifier_for(plain)
    await notifier.send(make_alert(alert_id=7))
    await notifier.send(make_alert(alert_id=7))  # a re-send after a kill: the same id
    await notifier.send(make_alert(alert_id=8))
    ids = [m.message()["Message-ID"] for m in plain.messages]
    assert ids[0] == ids[1] != ids[2]


async def test_4xx_is_retried(plain: SmtpServer) -> None:
    plain.sink.data_replies.append("451 4.3.0 try again later")
    sleeps = Sleeps()
    await notifier_for(plain, sleep=sleeps, policy=RetryPolicy(base=0.5, jitter=0)).send(
        make_alert()
    )
    assert plain.sink.data_attempts == 2
    assert len(plain.messages) == 1
    assert sleeps.delays == [0.5]


async def test_5xx_is_not_retried(plain: SmtpServer) -> None:
    plain.sink.data_replies.append("554 5.6.0 message refused")
    sleeps = Sleeps()
    with pytest.raises(ProviderError) as info:
        await notifier_for(plain, sleep=sleeps).send(make_alert())
    assert info.value.retryable is False
    assert info.value.status == 554
    assert plain.sink.data_attempts == 1
    assert sleeps.delays == []


async def test_4xx_every_time_ends_retryable(plain: SmtpServer) -> None:
    plain.sink.data_replies.extend(["451 4.3.0 later"] * 3)
    sleeps = Sleeps()
    with pytest.raises(ProviderError) as info:
        await notifier_for(
            plain, sleep=sleeps, policy=RetryPolicy(attempts=3, base=1.0, jitter=0)
        ).send(make_alert())
    assert info.value.retryable is True
    assert info.value.status == 451
    assert sleeps.delays == [1.0, 2.0]


async def test_connection_refused_is_retried_then_retryable() -> None:
    sleeps = Sleeps()
    notifier = EmailNotifier(
        host="127.0.0.1",
        port=9,
        sender="cw@example.org",
        admins=ADMINS,
        security="none",
        timeout=2.0,
        policy=RetryPolicy(attempts=2),
        sleep=sleeps,
    )
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert info.value.retryable is True
    assert str(info.value) == "smtp: gave up after 2 attempts (SMTPConnectError)"
    assert len(sleeps.delays) == 1
    await notifier.aclose()


def test_from_config_reads_the_password_from_the_environment() -> None:
    notifier = EmailNotifier.from_config(
        {
            "host": "smtp.example.org",
            "sender": "credwatch@example.org",
            "to": ["soc@example.org"],
            "username": "credwatch",
            "password_env": "CREDWATCH_SMTP_PASSWORD",
            "mode": "digest",
            "partner_contacts": True,
        },
        {"CREDWATCH_SMTP_PASSWORD": "pw"},
    )
    channel: Notifier = notifier
    assert channel.name == "email"
    assert notifier.digest is True
    assert notifier.partner_contacts is True
    assert repr(notifier) == (
        "EmailNotifier(host='smtp.example.org', port=587, security='starttls')"
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"sender": "a@b.example", "to": ["c@d.example"]}, "[notifiers.email] host: missing"),
        (
            {"host": "h", "sender": "a@b.example", "to": ["c@d.example"], "smtp_host": "x"},
            "[notifiers.email] smtp_host: unknown key",
        ),
        (
            {
                "host": "h",
                "sender": "a@b.example",
                "to": ["c@d.example"],
                "username": "u",
                "password_env": "NOPE",
            },
            "[notifiers.email] password_env: environment variable NOPE is not set",
        ),
        (
            {
                "host": "h",
                "sender": "a@b.example",
                "to": ["c@d.example"],
                "security": "none",
                "username": "u",
                "password_env": "P",
            },
            "[notifiers.email] username needs security starttls or tls",
        ),
        (
            {"host": "h", "sender": "a@b.example", "to": []},
            "[notifiers.email] to must list at least one address",
        ),
        (
            {"host": "h", "sender": "a@b.example", "to": ["x\r\ny@z.example"]},
            "[notifiers.email] to: 'x y@z.example' is not an address",
        ),
        (
            {"host": "h", "sender": "nobody", "to": ["c@d.example"]},
            "[notifiers.email] sender is not an e-mail address",
        ),
        (
            {"host": "h", "sender": "a@b.example", "to": ["c@d.example"], "mode": "weekly"},
            "[notifiers.email] mode must be each or digest",
        ),
    ],
)
def test_from_config_rejects_bad_sections(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        EmailNotifier.from_config(section, {"P": "pw"})
    assert str(info.value) == message


async def test_plain_text_part_keeps_hostile_text_on_its_line_and_unclickable(
    plain: SmtpServer,
) -> None:
    login = "*b* _i_ ~s~ `c`\r\nWhat was done: nothing\u202e https://evil.example/x <b>"
    await notifier_for(plain).send(make_alert(login=login, host="evil.example"))
    found = parts(plain.messages[0].message())
    text, html = found["text/plain"], found["text/html"]
    # the portal, the organisation's own, is shown as it is; the dump's URL is defanged
    assert "\u202e" not in text and "https://evil" not in text
    assert "https://portail-partenaire.example.org/kairos" in text
    assert [line for line in text.splitlines() if line.startswith("What was done:")] == [
        "What was done: random password set, sessions revoked"
    ]
    account = [line for line in text.splitlines() if line.startswith("Account: ")]
    assert account == [
        "Account: *b* _i_ ~s~ `c` What was done: nothing hxxps[://]evil[.]example/x <b> "
        "(monitored account)"
    ]
    ours = ("<b>What was done:</b>", "<b>What to do now:</b>")
    assert html.count("<b>") == sum(html.count(b) for b in ours) and "&lt;b&gt;" in html
    assert "\u202e" not in html and "https://evil" not in html


async def test_digest_plain_text_keeps_each_alert_on_its_lines(plain: SmtpServer) -> None:
    login = "x\r\n2. [critical] forged line\u2028 https://evil.example"
    await notifier_for(plain).send_digest([make_alert(login=login), make_alert(alert_id=2)])
    text = parts(plain.messages[0].message())["text/plain"]
    numbered = [line for line in text.splitlines() if line[:3] in ("1. ", "2. ", "3. ")]
    assert len(numbered) == 2
    assert "x 2[.] [critical] forged line hxxps[://]evil[.]example" in numbered[0] + numbered[1]
    assert "\u2028" not in text and "https://" not in text
