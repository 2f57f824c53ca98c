"""Slack approval buttons: configuration, the signed value, Block Kit limits, inert outcome text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.decisions import DecisionResult, Ruling
from monitor.errors import ConfigError
from monitor.notify import AlertEvent
from notifiers import slack_buttons
from notifiers.slack import SlackNotifier
from tests.servers.slack import APP_TOKEN, CHANNEL, TOKEN, block_problems, view_problems
from tests.unit.test_notify_slack import make_alert

KEY = TOKEN.encode()
BOT = {"token_env": "T", "channel": CHANNEL}
ENV = {"T": TOKEN, "A": APP_TOKEN}


@pytest.mark.parametrize(
    ("section", "env", "message"),
    [
        ({**BOT, "app_token_env": "A"}, ENV, "name who may decide"),
        ({**BOT, "deciders": ["U0ALICE01"]}, ENV, "deciders need an app-level token"),
        (
            {"webhook_url_env": "W", "app_token_env": "A", "deciders": ["U0ALICE01"]},
            {**ENV, "W": "https://hooks.slack.com/services/T/B/x"},
            "bot mode",
        ),
        ({**BOT, "app_token_env": "A", "deciders": ["alice"]}, ENV, "not a user id"),
        ({**BOT, "app_token_env": "T", "deciders": ["U0ALICE01"]}, ENV, "xapp-"),
        ({**BOT, "app_token_env": "MISSING", "deciders": ["U0ALICE01"]}, ENV, "MISSING"),
    ],
)
def test_configuration_errors_are_clear(
    section: dict[str, Any], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        SlackNotifier.from_config(section, env)
    assert message in str(info.value)
    assert TOKEN not in str(info.value) and APP_TOKEN not in str(info.value)


def test_buttons_only_on_approval_requests_in_bot_mode_with_an_app_token() -> None:
    interactive = SlackNotifier.from_config(
        {**BOT, "app_token_env": "A", "decider_group": "S0SECOPS1"}, ENV
    )
    plain = SlackNotifier.from_config(BOT, ENV)
    assert interactive.interactive and not plain.interactive
    approval = make_alert(event=AlertEvent.APPROVAL)
    body = interactive.payload(approval)
    (actions,) = [b for b in body["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        slack_buttons.APPROVE,
        slack_buttons.REJECT,
    ]
    assert block_problems(body) == []
    for event in (AlertEvent.NEW, AlertEvent.CONTAINED):
        assert all(
            b["type"] != "actions" for b in interactive.payload(make_alert(event=event))["blocks"]
        )
    assert all(b["type"] != "actions" for b in plain.payload(approval)["blocks"])


def test_a_long_hostile_summary_stays_within_the_confirm_dialog_limits() -> None:
    alert = replace(
        make_alert(event=AlertEvent.APPROVAL), action_summary="<!channel> *bold* " + "x" * 5000
    )
    block = slack_buttons.decision_block(alert, KEY)
    assert block_problems({"text": "t", "blocks": [block]}) == []
    confirm = block["elements"][0]["confirm"]["text"]["text"]
    assert "<!channel>" not in confirm and len(confirm) <= 300
    assert confirm.startswith("Exposure 7: ") and confirm.endswith("This runs now.")


@pytest.mark.parametrize(
    "value",
    ["", "7", "7.", ".abc", "7.0000", "x.y", "7.1.2", None, 7, "99999999999999999999.ab"],
)
def test_values_not_signed_by_the_key_are_refused(value: object) -> None:
    assert slack_buttons.verify(KEY, value) is None


def test_signed_values_round_trip_only_under_their_key() -> None:
    value = slack_buttons.sign(KEY, 42)
    assert slack_buttons.verify(KEY, value) == 42
    assert slack_buttons.verify(b"xoxb-rotated", value) is None
    assert slack_buttons.verify(KEY, value.replace("42.", "43.")) is None


def test_the_reject_dialog_is_one_slack_accepts() -> None:
    view = slack_buttons.reject_view(42, slack_buttons.sign(KEY, 42), CHANNEL, "1700000000.000001")
    assert view_problems(view) == []


def test_the_outcome_escapes_a_reason_and_names_the_decider() -> None:
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    rejected = DecisionResult(
        ruling=Ruling.REJECTED,
        decided_by="slack:U0ALICE01 (alice)",
        decision="rejected",
        at=at,
        reason="<!here> <https://evil.example|click>",
        outcome="containment in okta rejected, nothing changed",
    )
    text = slack_buttons.outcome_text(rejected, "U0ALICE01")
    assert text.startswith(":no_entry_sign: *Rejected by <@U0ALICE01>* at 2026-12-01 09:30 UTC")
    assert "<!here>" not in text and "<https://evil" not in text
    already = DecisionResult(
        ruling=Ruling.ALREADY, decided_by="cli:root", decision="approved", at=at
    )
    assert "Already approved by cli:root" in slack_buttons.outcome_text(already, "U0BOB0001")
    blocks = slack_buttons.decided_blocks(
        [{"type": "header"}, {"type": "actions", "block_id": slack_buttons.BLOCK_ID}], text
    )
    assert [b["type"] for b in blocks] == ["header", "section"]
