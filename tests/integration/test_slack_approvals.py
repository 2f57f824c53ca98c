"""Approvals end to end: the approval request alert, `credwatch pending`, decisions audited in
`actions`, and Approve / Reject from Slack, driven through slack_bolt's own request path and
over Socket Mode, against local fakes of Slack and Okta that answer like the real services."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest_asyncio
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from feeds.reader import FileFeed
from monitor.approvals import Approvals
from monitor.config import load_config
from monitor.outbox import deliver
from monitor.output import action_items
from monitor.pipeline import Scanner
from monitor.plugins import Family, build
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.routing import Route
from monitor.store.store import Store
from monitor.watchlist import build_watchlist
from notifiers import slack_buttons
from notifiers.slack import SlackNotifier
from notifiers.slack_actions import SlackDecisions
from tests.conftest import TEST_KEY
from tests.servers.idp import OKTA_TOKEN, FakeIdP, FakeUser, okta_app, serve
from tests.servers.slack import APP_TOKEN, CHANNEL, TOKEN, Scripted, SlackServer

PORTAL = "https://portail-partenaire.francetravail.fr/kairos"
LEAKED = "Leaked#Pass1"
ALICE = {"id": "U0ALICE01", "username": "alice", "name": "alice", "team_id": "T0TEST0000"}
BOB = {"id": "U0BOB0001", "username": "bob", "name": "bob", "team_id": "T0TEST0000"}
CAROL = {"id": "U0CAROL01", "username": "carol", "name": "carol", "team_id": "T0TEST0000"}
MALLORY = {"id": "U0MALLORY", "username": "mallory", "name": "mallory", "team_id": "T0TEST0000"}
GROUP = "S0SECOPS1"


def write_case(root: Path, okta_url: str) -> Path:
    (root / "dumps").mkdir(parents=True)
    (root / "accounts.csv").write_text(
        "login,partner,idp,idp_user_id\npartner1@gmail.com,OF38,okta,00u1\n"
    )
    (root / "credwatch.toml").write_text(
        f"""
[organisation]
name = "France Travail"
domains = ["francetravail.fr"]
portals = ["{PORTAL}"]

[[partners]]
name = "OF38"
email_domains = ["formation-isere.example"]

[accounts]
file = "accounts.csv"

[responders.okta]
base_url = "{okta_url}"
token_env = "CW_OKTA"

[policy]
enforce = true
rules.portal_account.critical = "approve"
"""
    )
    (root / "dumps" / "base.txt").write_text(f"{PORTAL}/login:partner1@gmail.com:{LEAKED}\n")
    return root / "credwatch.toml"


@dataclass
class Case:
    pool: asyncpg.Pool
    store: Store
    idp: FakeIdP
    slack: SlackServer
    responses: Responses
    approvals: Approvals
    notifier: SlackNotifier
    decisions: SlackDecisions
    config: Path
    exposure_id: int
    message: dict[str, Any]  # the approval request as Slack holds it

    def app(self) -> Any:
        client = AsyncWebClient(token=TOKEN, base_url=self.slack.api_url + "/")
        return self.decisions.app(self.approvals, client=client)

    async def trail(self) -> list[tuple[str, str, str, str]]:
        return await audit_trail(self.pool, self.exposure_id)


async def audit_trail(pool: asyncpg.Pool, exposure_id: int) -> list[tuple[str, str, str, str]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT step, outcome, decided_by, detail FROM actions WHERE exposure_id = $1 "
            "ORDER BY id",
            exposure_id,
        )
    return [(r["step"], r["outcome"], r["decided_by"], r["detail"]) for r in rows]


@pytest_asyncio.fixture
async def case(pool: asyncpg.Pool, tmp_path: Path, workdir: Path) -> AsyncIterator[Case]:
    idp = FakeIdP()
    idp.add(FakeUser(id="00u1", login="partner1@gmail.com", email="partner1@gmail.com"))
    async with serve(okta_app(idp)) as okta_url, SlackServer() as slack:
        cfg = write_case(tmp_path, okta_url)
        config = load_config(cfg)
        store = Store(pool)
        okta = build(Family.RESPONDERS, "okta", config.responders["okta"], {"CW_OKTA": OKTA_TOKEN})
        responses = Responses(
            store, PolicyConfig.from_mapping(config.policy), {"okta": okta}, channels=("slack",)
        )
        scanner = Scanner(
            store,
            config,
            build_watchlist(config),
            feed=FileFeed(),
            key=TEST_KEY,
            channels=["slack"],
            workdir=workdir,
            planner=responses,
        )
        await scanner.scan([tmp_path / "dumps"])
        section = {
            "token_env": "CW_SLACK",
            "app_token_env": "CW_SLACK_APP",
            "channel": CHANNEL,
            "api_url": slack.api_url,
            "min_interval": 0,
            "deciders": [ALICE["id"], BOB["id"]],
            "decider_group": GROUP,
        }
        env = {"CW_SLACK": TOKEN, "CW_SLACK_APP": APP_TOKEN}
        notifier = SlackNotifier.from_config(section, env)
        slack.usergroups[GROUP] = [CAROL["id"]]
        try:
            # Even where everything is grouped, a request for a decision goes out alone.
            digest = Route(channel="slack", digest=True)
            assert (await deliver(store, notifier, route=digest)).sent == 1
            (ts,) = slack.messages
            async with pool.acquire() as conn:
                exposure_id = await conn.fetchval("SELECT id FROM exposures")
            assert notifier._decisions is not None
            yield Case(
                pool=pool,
                store=store,
                idp=idp,
                slack=slack,
                responses=responses,
                approvals=Approvals(store, responses),
                notifier=notifier,
                decisions=notifier._decisions,
                config=cfg,
                exposure_id=exposure_id,
                message=slack.messages[ts],
            )
        finally:
            await notifier.aclose()
            await responses.aclose()


def click(
    at: Case | tuple[SlackServer, dict[str, Any]],
    user: dict[str, str],
    action_id: str,
    *,
    value: str | None = None,
) -> dict[str, Any]:
    """A block_actions payload as Slack sends it when `user` clicks a button of the message
    (a case's approval request, or a given server and message)."""
    slack, message = (at.slack, at.message) if isinstance(at, Case) else at
    button = next(
        e for b in message["blocks"] if b.get("type") == "actions" for e in b["elements"]
        if e["action_id"] == action_id
    )  # fmt: skip
    trigger = f"1234567890.{len(slack.calls)}.abcdef"
    slack.trigger_ids.add(trigger)
    return {
        "type": "block_actions",
        "user": user,
        "api_app_id": "A0TEST0000",
        "token": "verification-token-unused",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": CHANNEL,
            "is_ephemeral": False,
        },
        "trigger_id": trigger,
        "team": {"id": "T0TEST0000", "domain": "credwatch-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": CHANNEL, "name": "credwatch-alerts"},
        "message": {
            "type": "message",
            "ts": message["ts"],
            "text": message["text"],
            "bot_id": "B0CREDBOT",
            "blocks": message["blocks"],
        },
        "state": {"values": {}},
        "response_url": "https://hooks.slack.com/actions/T0TEST0000/1/xyz",
        "actions": [
            {
                "action_id": action_id,
                "block_id": slack_buttons.BLOCK_ID,
                "text": button["text"],
                "value": button["value"] if value is None else value,
                "style": button.get("style"),
                "type": "button",
                "action_ts": "1700000100.000100",
            }
        ],
    }


def submitted(case: Case, user: dict[str, str], reason: str | None) -> dict[str, Any]:
    """The view_submission payload of the reject dialog Slack opened last."""
    view = case.slack.views[-1]
    return {
        "type": "view_submission",
        "team": {"id": "T0TEST0000", "domain": "credwatch-test"},
        "user": user,
        "api_app_id": "A0TEST0000",
        "token": "verification-token-unused",
        "trigger_id": "1234567890.99.submit",
        "view": {
            **view,
            "state": {
                "values": {
                    slack_buttons.REASON: {
                        slack_buttons.REASON: {"type": "plain_text_input", "value": reason}
                    }
                }
            },
            "hash": "1700000200.abcdef",
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }


async def dispatch(app: Any, body: dict[str, Any]) -> None:
    response = await app.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))
    assert response.status == 200, response.body  # acknowledged (within Slack's 3 seconds)


def okta_changes(idp: FakeIdP) -> int:
    return sum(1 for c in idp.calls if c.method in ("POST", "DELETE"))


async def test_the_request_for_approval_is_its_own_alert_with_buttons(case: Case) -> None:
    posted = case.slack.posted[0]
    header = posted["blocks"][0]["text"]["text"]
    assert header.startswith("Approval needed to contain a leaked credential")
    text = json.dumps(posted)
    assert f"credwatch approve {case.exposure_id}" in text
    assert f"credwatch reject {case.exposure_id} --reason" in text
    assert LEAKED not in text
    (actions,) = [b for b in posted["blocks"] if b["type"] == "actions"]
    approve, reject = actions["elements"]
    assert approve["confirm"]["title"]["text"] == "Approve containment?"
    assert slack_buttons.verify(TOKEN.encode(), approve["value"]) == case.exposure_id
    assert slack_buttons.verify(b"another key", approve["value"]) is None
    assert reject["value"] == approve["value"]
    (waiting,) = await case.approvals.pending()
    assert (waiting.exposure_id, waiting.login, waiting.provider) == (
        case.exposure_id,
        "partner1@gmail.com",
        "okta",
    )
    assert waiting.steps[:2] == ("reset_password", "revoke_sessions")


async def test_approve_click_contains_under_the_clicking_user_and_a_second_does_nothing(
    case: Case,
) -> None:
    app = case.app()
    await dispatch(app, click(case, ALICE, slack_buttons.APPROVE))
    await case.slack.wait_for(lambda: case.message["ts"] in _edited(case.slack))
    user = case.idp.users["00u1"]
    assert user.must_change and user.password != LEAKED  # contained in Okta
    trail = await case.trail()
    assert trail[0] == ("approval", "approved", "slack:U0ALICE01 (alice)", "")
    assert {(step, outcome) for step, outcome, _, _ in trail[1:]} >= {("reset_password", "done")}
    assert {by for _, _, by, _ in trail} == {"slack:U0ALICE01 (alice)"}
    updated = case.slack.messages[case.message["ts"]]
    assert not [b for b in updated["blocks"] if b["type"] == "actions"]  # buttons gone
    outcome = updated["blocks"][-1]["text"]["text"]
    assert "Approved by <@U0ALICE01>" in outcome and "contained in okta" in outcome
    assert await case.approvals.pending() == []
    # A second click (another allowed user) changes nothing and says who decided.
    changes, updates = okta_changes(case.idp), _updates(case.slack)
    await dispatch(app, click(case, BOB, slack_buttons.APPROVE))
    await case.slack.wait_for(lambda: len(case.slack.ephemeral) == 1)
    (told,) = case.slack.ephemeral
    assert told["user"] == BOB["id"]
    assert "Already approved by slack:U0ALICE01 (alice)" in told["text"]
    assert okta_changes(case.idp) == changes and _updates(case.slack) == updates
    assert await case.trail() == trail


async def test_reject_asks_a_reason_in_a_dialog_and_records_it(case: Case) -> None:
    app = case.app()
    await dispatch(app, click(case, CAROL, slack_buttons.REJECT))  # a member of the user group
    await case.slack.wait_for(lambda: len(case.slack.views) == 1)
    (view,) = case.slack.views
    assert view["callback_id"] == slack_buttons.REJECT_VIEW
    assert await case.approvals.pending() != []  # opening the dialog decides nothing
    await dispatch(app, submitted(case, CAROL, "test account, known to the partner"))
    await case.slack.wait_for(lambda: case.message["ts"] in _edited(case.slack))
    assert await case.trail() == [
        ("approval", "rejected", "slack:U0CAROL01 (carol)", "test account, known to the partner")
    ]
    assert okta_changes(case.idp) == 0
    outcome = case.slack.messages[case.message["ts"]]["blocks"][-1]["text"]["text"]
    assert "Rejected by <@U0CAROL01>" in outcome and "test account, known to the partner" in outcome
    # The rejection is in `credwatch actions` / `show` (the same rows).
    (item,) = action_items(await case.store.actions(exposure_id=case.exposure_id))
    assert (item["step"], item["outcome"], item["decided_by"]) == (
        "approval",
        "rejected",
        "slack:U0CAROL01 (carol)",
    )
    exposure = await case.store.exposure_by_id(case.exposure_id)
    assert exposure is not None and exposure.status.value == "dismissed"
    (transition,) = await case.store.transitions(case.exposure_id)  # `show` lists it
    assert (transition.to_state, transition.decided_by) == ("dismissed", "slack:U0CAROL01 (carol)")
    assert transition.reason == "containment rejected: test account, known to the partner"


async def test_a_dialog_answered_elsewhere_posts_the_outcome_in_the_thread(case: Case) -> None:
    app = case.app()
    await dispatch(app, click(case, ALICE, slack_buttons.REJECT))
    await case.slack.wait_for(lambda: len(case.slack.views) == 1)
    case.decisions._messages.clear()  # another instance opened the dialog: blocks unknown here
    await dispatch(app, submitted(case, ALICE, None))
    await case.slack.wait_for(lambda: len(case.slack.posted) == 2)
    reply = case.slack.posted[1]
    assert reply["thread_ts"] == case.message["ts"]
    assert "Rejected by <@U0ALICE01>" in reply["blocks"][-1]["text"]["text"]
    assert await case.trail() == [("approval", "rejected", "slack:U0ALICE01 (alice)", "")]


async def test_a_user_not_allowed_is_refused_and_nothing_is_decided(case: Case) -> None:
    app = case.app()
    await dispatch(app, click(case, MALLORY, slack_buttons.APPROVE))
    await case.slack.wait_for(lambda: len(case.slack.ephemeral) == 1)
    assert case.slack.ephemeral[0]["user"] == MALLORY["id"]
    assert "not allowed" in case.slack.ephemeral[0]["text"]
    await dispatch(app, click(case, MALLORY, slack_buttons.REJECT))
    await case.slack.wait_for(lambda: len(case.slack.ephemeral) == 2)
    assert case.slack.views == []  # no dialog for them either
    assert await case.trail() == [] and okta_changes(case.idp) == 0
    assert [w.exposure_id for w in await case.approvals.pending()] == [case.exposure_id]


async def test_an_unknown_user_group_allows_nobody(case: Case) -> None:
    case.slack.usergroups.clear()  # Slack answers {"ok": false, "error": "no_such_subteam"}
    await dispatch(case.app(), click(case, CAROL, slack_buttons.APPROVE))
    await case.slack.wait_for(lambda: len(case.slack.ephemeral) == 1)
    assert "not allowed" in case.slack.ephemeral[0]["text"]
    assert await case.trail() == [] and okta_changes(case.idp) == 0


async def test_a_forged_button_value_is_refused(case: Case) -> None:
    app = case.app()
    forged = f"{case.exposure_id}.{'0' * 32}"
    await dispatch(app, click(case, ALICE, slack_buttons.APPROVE, value=forged))
    await case.slack.wait_for(lambda: len(case.slack.ephemeral) == 1)
    assert "not signed by credwatch" in case.slack.ephemeral[0]["text"]
    assert await case.trail() == [] and okta_changes(case.idp) == 0


async def test_a_click_after_a_cli_decision_says_who_decided(case: Case) -> None:
    assert await case.responses.approve(
        case.exposure_id, who="cli:root", reject=True, reason="former staff"
    )
    await dispatch(case.app(), click(case, ALICE, slack_buttons.APPROVE))
    await case.slack.wait_for(lambda: len(case.slack.ephemeral) == 1)
    text = case.slack.ephemeral[0]["text"]
    assert "Already rejected by cli:root" in text and "former staff" in text
    # Reject too: told at once, no dialog to fill in for nothing.
    await dispatch(case.app(), click(case, ALICE, slack_buttons.REJECT))
    await case.slack.wait_for(lambda: len(case.slack.ephemeral) == 2)
    assert "Already rejected by cli:root" in case.slack.ephemeral[1]["text"]
    assert case.slack.views == [] and okta_changes(case.idp) == 0


async def test_slack_refusals_leave_the_decision_true(case: Case) -> None:
    app = case.app()
    # The dialog cannot open (Slack answers ok: false): the clicker is told, nothing decided.
    case.slack.script(Scripted(body={"ok": False, "error": "expired_trigger_id"}))
    await dispatch(app, click(case, ALICE, slack_buttons.REJECT))
    await case.slack.wait_for(lambda: len(case.slack.ephemeral) == 1)
    assert "expired_trigger_id" in case.slack.ephemeral[0]["text"]
    assert await case.trail() == []
    # The message cannot be updated: the approval stands and is audited all the same.
    case.slack.messages.pop(case.message["ts"])  # deleted in Slack meanwhile
    await dispatch(app, click(case, ALICE, slack_buttons.APPROVE))
    await case.slack.wait_for(lambda: any(c.path == "/api/chat.update" for c in case.slack.calls))
    assert (await case.trail())[0][:3] == ("approval", "approved", "slack:U0ALICE01 (alice)")
    assert case.idp.users["00u1"].must_change


async def test_socket_mode_click_is_acknowledged_and_applied(case: Case) -> None:
    task = asyncio.create_task(case.notifier.listen(case.approvals))
    try:
        await case.slack.wait_for(lambda: case.slack.connections == 1)
        envelope = case.slack.send_interactive(click(case, ALICE, slack_buttons.APPROVE))
        await case.slack.wait_for(
            lambda: any(a["envelope_id"] == envelope for a in case.slack.acks)
        )
        await case.slack.wait_for(lambda: case.message["ts"] in _edited(case.slack))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert (await case.trail())[0][:3] == ("approval", "approved", "slack:U0ALICE01 (alice)")
    assert case.idp.users["00u1"].must_change


def cli(*args: str, dsn: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        CREDWATCH_DSN=dsn,
        CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
        CREDWATCH_HOME=str(home),
        CW_OKTA=OKTA_TOKEN,
    )
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


async def test_pending_cli_lists_what_waits(case: Case, dsn: str, tmp_path: Path) -> None:
    config = ("--config", str(case.config), "--json")
    res = await asyncio.to_thread(cli, "pending", *config, dsn=dsn, home=tmp_path)
    assert res.returncode == 0, res.stderr
    (row,) = [json.loads(line) for line in res.stdout.splitlines()]
    assert row["exposure_id"] == case.exposure_id and row["login"] == "partner1@gmail.com"
    assert row["provider"] == "okta" and row["severity"] == "critical"
    assert row["steps"][:2] == ["reset_password", "revoke_sessions"] and row["since"]
    assert row["approve"] == f"credwatch approve {case.exposure_id}"
    res = await asyncio.to_thread(
        cli, "pending", "--config", str(case.config), dsn=dsn, home=tmp_path
    )
    assert res.returncode == 0 and "partner1@gmail.com" in res.stdout
    await case.responses.approve(case.exposure_id, who="cli:root", reject=True, reason="test")
    res = await asyncio.to_thread(cli, "pending", *config, dsn=dsn, home=tmp_path)
    assert res.returncode == 0 and res.stdout == ""
    res = await asyncio.to_thread(
        cli, "approve", str(case.exposure_id), "--config", str(case.config), dsn=dsn, home=tmp_path
    )
    assert res.returncode == 2 and "already rejected by cli:root" in res.stderr
    res = await asyncio.to_thread(cli, "actions", *config, dsn=dsn, home=tmp_path)
    (action,) = [json.loads(line) for line in res.stdout.splitlines()]
    assert (action["step"], action["outcome"], action["decided_by"], action["detail"]) == (
        "approval",
        "rejected",
        "cli:root",
        "test",
    )


def _edited(slack: SlackServer) -> set[str]:
    return {ts for ts, m in slack.messages.items() if m.get("edited")}


def _updates(slack: SlackServer) -> int:
    return sum(1 for c in slack.calls if c.path == "/api/chat.update")


async def test_serve_hears_a_slack_approval_over_socket_mode(
    pool: asyncpg.Pool, dsn: str, tmp_path: Path
) -> None:
    """`credwatch serve` as a real process: a dropped file's approval request goes to Slack
    with buttons; an Approve click arriving over Socket Mode contains the account."""
    idp = FakeIdP()
    idp.add(FakeUser(id="00u1", login="partner1@gmail.com", email="partner1@gmail.com"))
    async with serve(okta_app(idp)) as okta_url, SlackServer() as slack:
        cfg = write_case(tmp_path, okta_url)
        (tmp_path / "drop").mkdir()
        cfg.write_text(
            cfg.read_text()
            + f"""
[notifiers.slack]
token_env = "CW_SLACK"
app_token_env = "CW_SLACK_APP"
channel = "{CHANNEL}"
api_url = "{slack.api_url}"
min_interval = 0
deciders = ["{ALICE["id"]}"]

[serve]
watch_dir = "{tmp_path / "drop"}"
metrics_port = 0
settle_seconds = 0.3
outbox_interval_seconds = 0.2
"""
        )
        env = dict(
            os.environ,
            CREDWATCH_DSN=dsn,
            CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
            CREDWATCH_HOME=str(tmp_path),
            CW_OKTA=OKTA_TOKEN,
            CW_SLACK=TOKEN,
            CW_SLACK_APP=APP_TOKEN,
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "monitor.cli", "serve", "--config", str(cfg),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await slack.wait_for(lambda: slack.connections == 1, timeout=30)
            (tmp_path / "drop" / "base.txt").write_text(
                (tmp_path / "dumps" / "base.txt").read_text()
            )
            await slack.wait_for(lambda: len(slack.posted) == 1, timeout=30)
            (ts,) = slack.messages
            async with pool.acquire() as conn:
                exposure_id = await conn.fetchval("SELECT id FROM exposures")
            clicked = click((slack, slack.messages[ts]), ALICE, slack_buttons.APPROVE)
            envelope = slack.send_interactive(clicked)
            await slack.wait_for(lambda: any(a["envelope_id"] == envelope for a in slack.acks))
            await slack.wait_for(lambda: ts in _edited(slack), timeout=30)
            assert idp.users["00u1"].must_change
            trail = await audit_trail(pool, exposure_id)
            assert trail[0][:3] == ("approval", "approved", "slack:U0ALICE01 (alice)")
            assert ("reset_password", "done") in {(step, out) for step, out, _, _ in trail}
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 0, err.decode()
        assert TOKEN not in err.decode() and APP_TOKEN not in err.decode()
