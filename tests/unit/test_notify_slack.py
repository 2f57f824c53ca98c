"""Slack notifier against a local server that answers like Slack: modes, errors, retries, escaping."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from monitor.errors import ConfigError, ProviderError
from monitor.notify import Alert, AlertEvent, Delivery, Notifier
from monitor.retry import RetryPolicy
from monitor.types import CredentialKind, Exposure, ExposureStatus, Reason, Secret, Severity
from notifiers.slack import SlackNotifier
from tests.servers.slack import CHANNEL, TOKEN, Scripted, SlackServer, block_problems

PLANTED = "Planted-Pa55word!9"


def make_alert(
    *,
    alert_id: int = 1,
    event: AlertEvent = AlertEvent.NEW,
    login: str = "partner1@gmail.com",
    host: str = "portail-partenaire.example.org",
    origin: str = "dump.zip!PC1/Passwords.txt:42",
    live: bool | None = True,
    **exposure: Any,
) -> Alert:
    secret = Secret(PLANTED)
    fields: dict[str, Any] = {
        "id": 7,
        "fingerprint": secret.fingerprint(b"k" * 32),
        "kind": CredentialKind.PASSWORD,
        "host": host,
        "login": login,
        "secret_hint": secret.hint,
        "secret_length": len(secret),
        "reasons": (Reason.PORTAL, Reason.LOGIN),
        "severity": Severity.CRITICAL,
        "status": ExposureStatus.NEW,
        "domain": "example.org",
        "portal": "https://portail-partenaire.example.org/kairos",
        "partner": "Acme Formation",
        "account_login": login,
        "infected_at": datetime(2025, 3, 2, 14, 5, tzinfo=UTC),
        "first_seen": datetime(2025, 3, 10, 8, 0, tzinfo=UTC),
        "last_seen": datetime(2025, 3, 11, 8, 0, tzinfo=UTC),
        "sightings": 2,
        "url": f"https://{host}/kairos/login",
    }
    fields.update(exposure)
    return Alert(
        id=alert_id,
        event=event,
        exposure=Exposure(**fields),
        origin=origin,
        live=live,
        action_summary="dry run: would set a random password and revoke sessions",
        approve_command="credwatch approve 7",
    )


@pytest_asyncio.fixture
async def server() -> AsyncIterator[SlackServer]:
    async with SlackServer() as s:
        yield s


Make = Callable[..., SlackNotifier]


@pytest_asyncio.fixture
async def make() -> AsyncIterator[Make]:
    made: list[SlackNotifier] = []

    def build(**kwargs: Any) -> SlackNotifier:
        kwargs.setdefault("min_interval", 0.0)
        notifier = SlackNotifier(**kwargs)
        made.append(notifier)
        return notifier

    yield build
    for notifier in made:
        await notifier.aclose()


def bot(make: Make, server: SlackServer, **kwargs: Any) -> SlackNotifier:
    kwargs.setdefault("channel", CHANNEL)
    return make(token=TOKEN, api_url=server.api_url, **kwargs)


def all_bodies(server: SlackServer) -> str:
    return "\n".join(c.body.decode() for c in server.calls)


async def test_webhook_mode_posts_block_kit_and_returns_no_ref(
    server: SlackServer, make: Make
) -> None:
    notifier = make(webhook_url=server.webhook_url)
    delivery = await notifier.send(make_alert())
    assert delivery == Delivery(ref=None, detail="posted by incoming webhook")
    assert len(server.calls) == 1
    call = server.calls[0]
    assert call.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "Authorization" not in call.headers
    payload = server.posted[0]
    assert "channel" not in payload
    assert payload["unfurl_links"] is False
    assert payload["text"] == (
        "Leaked credential found (critical): password of partner1@gmail.com for "
        "portail-partenaire.example.org; LIVE (not changed since the leak)"
    )
    blocks = payload["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "section", "section", "context"]
    assert blocks[0]["text"] == {
        "type": "plain_text",
        "text": "Leaked credential found (critical)",
        "emoji": False,
    }
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert fields[0] == "*What leaked:*\npassword `P…9(16–23)`"
    assert fields[1] == "*Account:*\n`partner1@gmail.com` (monitored account)"
    assert fields[2] == "*Partner:*\nAcme Formation"
    assert fields[3] == (
        "*Host / portal:*\n`portail-partenaire.example.org` · portal "
        "`https://portail-partenaire.example.org/kairos` · under `example.org`"
    )
    assert fields[4] == "*Infected machine:*\nunknown stealer, infected 2025-03-02 14:05 UTC"
    assert blocks[3]["text"]["text"] == (
        "*What was done:* dry run: would set a random password and revoke sessions\n"
        "*To approve containment:* `credwatch approve 7`"
    )
    assert blocks[4]["elements"][0]["text"] == (
        "Seen in dump[.]zip!PC1/Passwords[.]txt:42 · exposure 7 · alert 1"
    )


async def test_bot_mode_posts_to_channel_and_returns_ts(server: SlackServer, make: Make) -> None:
    notifier = bot(make, server)
    delivery = await notifier.send(make_alert())
    assert delivery.ref == "1700000000.000001"
    call = server.calls[0]
    assert call.path == "/api/chat.postMessage"
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.payload["channel"] == CHANNEL
    assert "thread_ts" not in call.payload


async def test_follow_up_threads_under_first_message(server: SlackServer, make: Make) -> None:
    notifier = bot(make, server)
    first = await notifier.send(make_alert(alert_id=1))
    follow = await notifier.send(
        make_alert(alert_id=2, event=AlertEvent.CONTAINED), thread_ref=first.ref
    )
    failed = await notifier.send(
        make_alert(alert_id=3, event=AlertEvent.FAILED), thread_ref=first.ref
    )
    assert first.ref == "1700000000.000001"
    assert server.calls[1].payload["thread_ts"] == "1700000000.000001"
    assert "reply_broadcast" not in server.calls[1].payload
    assert server.calls[2].payload["thread_ts"] == "1700000000.000001"
    assert server.calls[2].payload["reply_broadcast"] is True
    # the thread root stays the reference for further follow-ups
    assert follow.ref == "1700000000.000001"
    assert follow.detail == "ts 1700000000.000002 in C0CREDWATCH, thread 1700000000.000001"
    assert failed.ref == "1700000000.000001"


async def test_webhook_mode_cannot_thread_and_posts_plain(server: SlackServer, make: Make) -> None:
    notifier = make(webhook_url=server.webhook_url)
    delivery = await notifier.send(make_alert(event=AlertEvent.CONTAINED), thread_ref="1.2")
    assert delivery.ref is None
    assert "thread_ts" not in server.calls[0].payload


async def test_ok_false_on_http_200_is_an_error(server: SlackServer, make: Make) -> None:
    notifier = bot(make, server, channel="C0WRONG")
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert str(info.value) == "slack chat.postMessage: channel_not_found"
    assert info.value.retryable is False
    assert info.value.status == 200
    assert len(server.calls) == 1


async def test_ok_false_ratelimited_is_retryable(server: SlackServer, make: Make) -> None:
    server.script(Scripted(body={"ok": False, "error": "ratelimited"}))
    notifier = bot(make, server)
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert str(info.value) == "slack chat.postMessage: ratelimited"
    assert info.value.retryable is True


async def test_429_retry_after_is_honoured(server: SlackServer, make: Make) -> None:
    server.script(Scripted(status=429, headers={"Retry-After": "1"}, body="rate_limited"))
    notifier = bot(make, server)
    delivery = await notifier.send(make_alert())
    assert delivery.ref == "1700000000.000001"
    assert len(server.calls) == 2
    assert server.calls[1].at - server.calls[0].at >= 1.0
    assert server.calls[0].body == server.calls[1].body


async def test_webhook_429_then_ok(server: SlackServer, make: Make) -> None:
    server.script(Scripted(status=429, headers={"Retry-After": "1"}, body="rate_limited"))
    notifier = make(webhook_url=server.webhook_url)
    await notifier.send(make_alert())
    assert len(server.calls) == 2
    assert server.calls[1].at - server.calls[0].at >= 1.0
    assert len(server.posted) == 1


async def test_long_retry_after_is_left_to_the_scheduler(server: SlackServer, make: Make) -> None:
    server.script(Scripted(status=429, headers={"Retry-After": "120"}, body="rate_limited"))
    notifier = bot(make, server, policy=RetryPolicy(max_wait=5))
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert info.value.retryable is True
    assert info.value.status == 429
    assert str(info.value) == (
        "slack chat.postMessage: asked to wait 120s, more than 5s (HTTP 429)"
    )
    assert len(server.calls) == 1


async def test_retries_are_bounded(server: SlackServer, make: Make) -> None:
    server.script(*[Scripted(status=503, headers={"Retry-After": "0"}, body="down")] * 5)
    notifier = bot(make, server, policy=RetryPolicy(attempts=3))
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert info.value.retryable is True
    assert info.value.status == 503
    assert len(server.calls) == 3


async def test_webhook_error_is_status_and_text_and_hides_the_url(
    server: SlackServer, make: Make
) -> None:
    server.script(Scripted(status=400, body="invalid_payload"))
    notifier = make(webhook_url=server.webhook_url)
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert str(info.value) == "slack webhook: HTTP 400 invalid_payload"
    assert info.value.retryable is False
    assert info.value.status == 400
    assert len(server.calls) == 1
    assert "services" not in repr(notifier)


async def test_unreachable_server_is_retryable(make: Make) -> None:
    notifier = make(
        webhook_url="http://127.0.0.1:9/services/T/B/secretpart",
        policy=RetryPolicy(attempts=2, base=0.01),
    )
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert info.value.retryable is True
    assert "secretpart" not in str(info.value)
    assert str(info.value).startswith("slack webhook: gave up after 2 attempts (")


async def test_hostile_text_is_escaped_and_mentions_neutralised(
    server: SlackServer, make: Make
) -> None:
    alert = make_alert(
        login="<!channel> <https://evil.example|click> & co @here",
        host="evil.example",
        origin="x.zip!<@U0ADMIN> <!here|here>/Passwords.txt",
        cookie_name="<b>",
        url="https://user:hunter2@evil.example/p?token=abc#frag",
    )
    notifier = bot(make, server)
    await notifier.send(alert)
    body = all_bodies(server)
    payload = server.calls[0].payload
    texts = json.dumps(payload, ensure_ascii=False)
    assert "<!channel>" not in texts
    assert "<https://" not in texts
    assert "<@U0ADMIN>" not in texts
    assert "<!here" not in texts
    assert "@here" not in texts  # a word joiner sits between @ and here
    assert "@\u2060here" in texts
    assert "https://evil" not in texts
    assert "hunter2" not in body and "token=abc" not in body
    assert payload["blocks"][2]["fields"][1]["text"] == (
        "*Account:*\n&lt;!channel&gt; &lt;hxxps[://]evil[.]example|click&gt; &amp; co @\u2060here"
        " (monitored account)"
    )
    assert payload["text"].startswith(
        "Leaked credential found (critical): password of &lt;!channel&gt; "
    )
    assert server.posted, "the server accepted the message"


async def test_planted_password_never_leaves(server: SlackServer, make: Make) -> None:
    notifier = bot(make, server)
    hint = Secret(PLANTED).hint
    await notifier.send(make_alert())
    await notifier.send(make_alert(event=AlertEvent.APPROVAL), thread_ref="1700000000.000001")
    webhook = make(webhook_url=server.webhook_url)
    await webhook.send(make_alert(kind=CredentialKind.COOKIE, cookie_name="sid"))
    body = all_bodies(server)
    assert len(server.calls) == 3
    assert PLANTED not in body
    assert PLANTED[1:-2] not in body
    assert body.count(json.dumps(hint)[1:-1]) == 3  # the hint as the JSON bodies escape it


async def test_huge_hostile_values_stay_within_slack_limits(
    server: SlackServer, make: Make
) -> None:
    big = "&<>" * 4000
    alert = make_alert(
        login=big,
        host="a." * 5000,
        origin=big,
        partner=big,
        url=big,
        portal=big,
        domain=big,
    )
    alert = Alert(
        id=1,
        event=AlertEvent.NEW,
        exposure=alert.exposure,
        origin=big,
        action_summary=big,
        approve_command=big,
        stealer_family=big,
        victim_country=big,
    )
    notifier = bot(make, server)
    delivery = await notifier.send(alert)
    assert delivery.ref == "1700000000.000001"
    payload = server.calls[0].payload
    assert block_problems(payload) == []
    assert len(json.dumps(payload)) < 12000
    # no half-escaped entity left at a cut
    for block in payload["blocks"][1:]:
        for text in [block.get("text", {}).get("text", "")] + [
            f["text"] for f in block.get("fields", []) + block.get("elements", [])
        ]:
            assert "&amp…" not in text and "&lt…" not in text and "&g…" not in text


async def test_posts_are_paced_per_channel(server: SlackServer, make: Make) -> None:
    notifier = bot(make, server, min_interval=0.3)
    await notifier.send(make_alert(alert_id=1))
    await notifier.send(make_alert(alert_id=2))
    assert server.calls[1].at - server.calls[0].at >= 0.3


def test_from_config_webhook_mode_reads_the_url_from_the_environment() -> None:
    notifier = SlackNotifier.from_config(
        {"webhook_url_env": "CREDWATCH_SLACK_WEBHOOK", "timeout": 5},
        {"CREDWATCH_SLACK_WEBHOOK": "https://hooks.slack.com/services/T/B/sekret"},
    )
    assert notifier.mode == "webhook"
    assert "sekret" not in repr(notifier)


def test_from_config_bot_mode() -> None:
    notifier = SlackNotifier.from_config(
        {"token_env": "SLACK_TOKEN", "channel": "C1", "attempts": 2},
        {"SLACK_TOKEN": "xoxb-1"},
    )
    channel: Notifier = notifier
    assert channel.name == "slack"
    assert notifier.mode == "bot"
    assert repr(notifier) == "SlackNotifier(mode='bot', channel='C1')"


@pytest.mark.parametrize(
    ("section", "env", "message"),
    [
        (
            {"webhook_url_env": "W", "colour": "red"},
            {"W": "https://h/x"},
            "[notifiers.slack] colour: unknown key",
        ),
        (
            {"webhook_url_env": "W"},
            {},
            "[notifiers.slack] webhook_url_env: environment variable W is not set",
        ),
        ({}, {}, "[notifiers.slack] set exactly one of webhook_url_env and token_env"),
        (
            {"webhook_url_env": "W", "token_env": "T", "channel": "C"},
            {"W": "https://h/x", "T": "xoxb"},
            "[notifiers.slack] set exactly one of webhook_url_env and token_env",
        ),
        (
            {"token_env": "T"},
            {"T": "xoxb"},
            "[notifiers.slack] bot mode (token_env) needs a channel",
        ),
        (
            {"webhook_url_env": "W"},
            {"W": "http://hooks.example/x"},
            "[notifiers.slack] the incoming webhook URL must be an https URL",
        ),
        (
            {"webhook_url_env": "W", "timeout": "soon"},
            {"W": "https://h/x"},
            "[notifiers.slack] timeout: input should be a valid number",
        ),
    ],
)
def test_from_config_rejects_bad_sections(
    section: dict[str, Any], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        SlackNotifier.from_config(section, env)
    assert str(info.value) == message


MARKS_LOGIN = "*bold* _it_ ~strike~ `code` <!here> x@evil.example"
MARKS_INERT = "∗bold∗ ˍitˍ ∼strike∼ ˋcodeˋ &lt;!here&gt; x@evil[.]example"


def _mrkdwn_texts(payload: dict[str, Any]) -> list[str]:
    texts = [payload["text"]]
    for block in payload["blocks"]:
        text = block.get("text", {})
        if text.get("type") == "mrkdwn":
            texts.append(text["text"])
        texts += [f["text"] for f in block.get("fields", []) + block.get("elements", [])]
    return texts


@pytest.mark.parametrize("grouped", [False, True])
async def test_emphasis_marks_from_a_dump_stay_inert(
    server: SlackServer, make: Make, grouped: bool
) -> None:
    alert = make_alert(
        login=MARKS_LOGIN,
        host="*a*_b_~c~`d`.example",
        origin="x.zip!*PC*/_P_~`.txt",
        cookie_name="_ga*",
    )
    notifier = bot(make, server)
    if grouped:
        await notifier.send_digest([alert, make_alert(alert_id=2)])
    else:
        await notifier.send(alert)
    payload = server.calls[0].payload
    assert block_problems(payload) == []
    texts = _mrkdwn_texts(payload)
    joined = "\n".join(texts)
    for raw in ("*bold*", "_it_", "~strike~", "`code`", "*a*", "_b_", "~c~", "`d`"):
        assert raw not in joined
    assert MARKS_INERT in joined
    assert "∗a∗ˍbˍ∼c∼ˋdˋ[.]example" in joined
    if not grouped:
        assert "*Account:*" in joined  # the notifier's own markup is kept
        assert f"`{Secret(PLANTED).hint}`" in joined  # the masked hint stays a code span
        assert "x[.]zip!∗PC∗/ˍPˍ∼ˋ[.]txt" in joined
    else:
        assert "*[critical]*" in joined
