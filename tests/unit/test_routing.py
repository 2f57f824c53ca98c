"""Per-channel routing (severity, partner, match kind), grouping, and the grouped Slack message."""

from __future__ import annotations

import json

import pytest

from monitor.routing import Route, Routes, plugin_keys
from monitor.settings import SettingError
from monitor.types import CredentialKind, LeakedCredential, Match, Reason, Severity
from notifiers.slack_digest import slack_digest
from tests.servers.slack import block_problems
from tests.unit.test_render import make_alert


def match(severity: Severity, *, partner: str | None = None, portal: bool = False) -> Match:
    cred = LeakedCredential(
        kind=CredentialKind.PASSWORD,
        url="https://a.example.org/",
        host="a.example.org",
        path="/",
        login="x@gmail.com",
        secret=None,
        origin="f.txt",
    )
    reasons = (Reason.PORTAL,) if portal else (Reason.HOST,)
    return Match(credential=cred, reasons=reasons, severity=severity, partner=partner)


@pytest.mark.parametrize(
    ("section", "m", "wanted"),
    [
        ({}, match(Severity.LOW), True),
        ({"min_severity": "high"}, match(Severity.MEDIUM), False),
        ({"min_severity": "high"}, match(Severity.HIGH), True),
        ({"min_severity": "high"}, match(Severity.CRITICAL), True),
        ({"partners": ["Acme"]}, match(Severity.HIGH, partner="Acme"), True),
        ({"partners": ["Acme"]}, match(Severity.HIGH, partner="Other"), False),
        ({"partners": ["Acme"]}, match(Severity.HIGH), False),
        ({"partners": [""]}, match(Severity.HIGH), True),
        ({"kinds": ["portal_unknown"]}, match(Severity.HIGH, portal=True), True),
        ({"kinds": ["portal_unknown"]}, match(Severity.HIGH), False),
        ({"kinds": ["host"], "min_severity": "critical"}, match(Severity.HIGH), False),
    ],
)
def test_route_wants(section: dict[str, object], m: Match, wanted: bool) -> None:
    assert Route.from_section("slack", section).wants(m) is wanted


@pytest.mark.parametrize(
    ("section", "severity", "grouped"),
    [
        ({}, Severity.HIGH, True),
        ({}, Severity.CRITICAL, False),
        ({"group_below": "medium"}, Severity.LOW, True),
        ({"group_below": "medium"}, Severity.MEDIUM, False),
        ({"digest": True}, Severity.CRITICAL, True),
    ],
)
def test_route_grouped(section: dict[str, object], severity: Severity, grouped: bool) -> None:
    assert Route.from_section("slack", section).grouped(severity) is grouped


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"min_severity": "urgent"}, "min_severity: must be low, medium, high or critical"),
        ({"kinds": ["portal"]}, "kinds: unknown match kind"),
        ({"group_by": "day"}, "group_by: must be scan or partner"),
        ({"digest": "yes"}, "digest:"),
    ],
)
def test_bad_routing_keys_name_the_channel_and_key(
    section: dict[str, object], problem: str
) -> None:
    with pytest.raises(SettingError) as caught:
        Route.from_section("slack", section)
    assert f"[notifiers.slack] {problem}" in str(caught.value)


def test_routing_keys_are_not_the_notifiers_own() -> None:
    section = {"token_env": "T", "channel": "C", "min_severity": "high", "digest": True}
    assert plugin_keys(section) == {"token_env": "T", "channel": "C"}


def test_channels_for_a_match() -> None:
    routes = Routes(
        routes=(
            Route(channel="slack", min_severity=Severity.HIGH),
            Route(channel="email"),
            Route(channel="partners", partners=frozenset({"Acme"})),
        )
    )
    assert routes.channels_for(match(Severity.MEDIUM)) == ("email",)
    assert routes.channels_for(match(Severity.HIGH, partner="Acme")) == (
        "slack",
        "email",
        "partners",
    )


def test_grouped_message_is_inert_worst_first_and_within_slack_limits() -> None:
    alerts = [
        make_alert(severity=Severity.LOW, login="<!channel> @here x@evil.example", host="h.test"),
        make_alert(severity=Severity.HIGH, host="https://evil.example/<@U123>"),
    ] + [make_alert(severity=Severity.MEDIUM) for _ in range(120)]
    body = slack_digest(alerts)
    assert not block_problems(body)
    text = json.dumps(body)
    assert "<!channel>" not in text and "<@U123>" not in text and "@here" not in text
    assert "evil[.]example" in text and "https://" not in text
    assert "[high]" in body["blocks"][1]["text"]["text"]  # worst first
    assert body["blocks"][-1]["type"] == "context"  # the ones that did not fit are counted
    assert "more" in body["blocks"][-1]["elements"][0]["text"]
