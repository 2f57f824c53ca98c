"""Signed webhook notifier against a local receiver: signature, idempotency id, retries, JSON body."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
import pytest_asyncio
from aiohttp import web

from monitor import hint, siem
from monitor.errors import ConfigError, ProviderError
from monitor.notify import Alert, AlertEvent, Notifier
from monitor.retry import RetryPolicy, parse_retry_after
from monitor.signing import sign, verify_signature
from monitor.types import CredentialKind, Exposure, ExposureStatus, Reason, Secret, Severity
from notifiers.webhook import WebhookNotifier

KEY = b"webhook-test-key-0123456789abcdef"
PLANTED = "Planted-Hook-Pa55!"


def make_alert(alert_id: int = 42, **exposure: Any) -> Alert:
    secret = Secret(PLANTED)
    fields: dict[str, Any] = {
        "id": 9,
        "fingerprint": secret.fingerprint(b"k" * 32),
        "kind": CredentialKind.PASSWORD,
        "host": "portail-partenaire.example.org",
        "login": "partner1@gmail.com",
        "secret_hint": secret.hint,
        "secret_length": len(secret),
        "reasons": (Reason.PORTAL, Reason.LOGIN),
        "severity": Severity.CRITICAL,
        "status": ExposureStatus.NEW,
        "domain": "example.org",
        "portal": "https://portail-partenaire.example.org/kairos",
        "partner": "Acme Formation",
        "account_login": "partner1@gmail.com",
        "infected_at": datetime(2025, 3, 2, 14, 5, tzinfo=UTC),
        "first_seen": datetime(2025, 3, 10, 8, 0, tzinfo=UTC),
        "last_seen": datetime(2025, 3, 10, 9, 0, tzinfo=UTC),
        "sightings": 1,
        "url": "https://u:hunter2@portail-partenaire.example.org/kairos?pw=x",
    }
    fields.update(exposure)
    return Alert(
        id=alert_id,
        event=AlertEvent.NEW,
        exposure=Exposure(**fields),
        origin="dump.zip!PC1/Passwords.txt:42",
        live=None,
        action_summary="approval needed",
        approve_command="credwatch approve 9",
        created_at=datetime(2025, 3, 10, 8, 0, 1, tzinfo=UTC),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    at: float


class Receiver:
    """A SIEM-like endpoint: verifies the signature with the key, answers scripted statuses."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.statuses: deque[tuple[int, dict[str, str]]] = deque()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get("X-Credwatch-Timestamp", "")
        expected = hmac.new(KEY, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        signature = request.headers.get("X-Credwatch-Signature", "")
        self.hits.append(
            Hit(
                headers=dict(request.headers),
                body=body,
                signature_ok=hmac.compare_digest(signature, "sha256=" + expected),
                at=time.monotonic(),
            )
        )
        if self.statuses:
            status, headers = self.statuses.popleft()
            return web.Response(status=status, text=f"status {status}", headers=headers)
        return web.json_response({"accepted": True}, status=202)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/credwatch", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hooks/credwatch"


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    assert r.runner is not None
    await r.runner.cleanup()


@pytest_asyncio.fixture
async def notifier(receiver: Receiver) -> AsyncIterator[WebhookNotifier]:
    n = WebhookNotifier(url=receiver.url, key=KEY, policy=RetryPolicy(attempts=3, base=0.01))
    yield n
    await n.aclose()


async def test_signature_verifies_on_the_receiver(
    receiver: Receiver, notifier: WebhookNotifier
) -> None:
    delivery = await notifier.send(make_alert())
    assert delivery.ref == "42"
    assert delivery.detail == "HTTP 202 after 1 attempt(s)"
    [hit] = receiver.hits
    assert hit.signature_ok is True
    assert hit.headers["X-Credwatch-Delivery"] == "42"
    assert hit.headers["X-Credwatch-Event"] == "new"
    assert hit.headers["Content-Type"] == "application/json; charset=utf-8"
    timestamp = hit.headers["X-Credwatch-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 5
    assert verify_signature(
        KEY, body=hit.body, timestamp=timestamp, signature=hit.headers["X-Credwatch-Signature"]
    )
    assert not verify_signature(
        b"another-key-0123456789",
        body=hit.body,
        timestamp=timestamp,
        signature=hit.headers["X-Credwatch-Signature"],
    )
    assert not verify_signature(
        KEY,
        body=hit.body + b" ",
        timestamp=timestamp,
        signature=hit.headers["X-Credwatch-Signature"],
    )


async def test_body_is_the_alert_as_an_ecs_event_without_secrets(
    receiver: Receiver, notifier: WebhookNotifier
) -> None:
    await notifier.send(make_alert(), thread_ref="41")
    body = receiver.hits[0].body
    payload = json.loads(body)
    jsonschema.validate(payload, siem.schema(), format_checker=jsonschema.FormatChecker())
    assert payload["@timestamp"] == "2025-03-10T08:00:01Z"
    assert payload["event"]["kind"] == "alert"
    assert payload["event"]["action"] == "credential-exposed"
    assert payload["event"]["severity"] == 4
    assert payload["event"]["id"] == "alert-42"
    assert payload["user"] == {
        "name": "partner1@gmail.com",
        "email": "partner1@gmail.com",
        "domain": "gmail.com",
    }
    assert payload["url"]["domain"] == "portail-partenaire.example.org"
    assert payload["url"]["path"] == "/kairos"
    assert payload["url"]["full"] == "https://portail-partenaire.example.org/kairos"
    ours = payload["credwatch"]
    assert ours["schema_version"] == siem.SCHEMA_VERSION
    assert ours["alert_id"] == 42 and ours["exposure_id"] == 9
    assert ours["thread_ref"] == "41"
    assert ours["live"] is None
    assert ours["approve_command"] == "credwatch approve 9"
    assert ours["hint"] == Secret(PLANTED).hint
    assert ours["secret_length"] == hint.bucket(len(PLANTED))[0]  # a bucket, never exact
    assert ours["reasons"] == ["portal", "login"]
    assert ours["severity"] == "critical"
    assert ours["infected_at"] == "2025-03-02T14:05:00Z"
    assert PLANTED.encode() not in body
    assert b"hunter2" not in body and b"pw=x" not in body


@pytest.mark.parametrize("event", list(AlertEvent))
def test_every_alert_event_validates_against_the_schema(event: AlertEvent) -> None:
    alert = make_alert(
        kind=CredentialKind.COOKIE,
        cookie_name="SID",
        cookie_expires=datetime(2026, 1, 1, tzinfo=UTC),
        url="",
        login="jdupont",
    )
    notifier = WebhookNotifier(url="https://siem.example/hook", key=KEY)
    payload = json.loads(notifier.body(replace(alert, event=event, live=True)))
    jsonschema.validate(payload, siem.schema(), format_checker=jsonschema.FormatChecker())
    assert payload["user"] == {"name": "jdupont", "email": None, "domain": None}
    assert payload["url"]["full"] is None and payload["threat"]["indicator"]["type"] == "email-addr"
    assert payload["credwatch"]["alert_event"] == event.value


def test_a_payload_off_the_schema_is_refused() -> None:
    notifier = WebhookNotifier(url="https://siem.example/hook", key=KEY)
    payload = json.loads(notifier.body(make_alert()))
    payload["credwatch"]["password"] = PLANTED  # not a documented field
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, siem.schema())
    payload = json.loads(notifier.body(make_alert()))
    del payload["user"]["name"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, siem.schema())


async def test_500_then_200_is_retried_with_a_fresh_signature(
    receiver: Receiver, notifier: WebhookNotifier
) -> None:
    receiver.statuses.append((500, {}))
    delivery = await notifier.send(make_alert())
    assert delivery.detail == "HTTP 202 after 2 attempt(s)"
    assert len(receiver.hits) == 2
    assert all(h.signature_ok for h in receiver.hits)
    assert receiver.hits[0].body == receiver.hits[1].body
    assert [h.headers["X-Credwatch-Delivery"] for h in receiver.hits] == ["42", "42"]


async def test_429_retry_after_is_honoured(receiver: Receiver, notifier: WebhookNotifier) -> None:
    receiver.statuses.append((429, {"Retry-After": "1"}))
    await notifier.send(make_alert())
    assert len(receiver.hits) == 2
    assert receiver.hits[1].at - receiver.hits[0].at >= 1.0


async def test_400_is_not_retried(receiver: Receiver, notifier: WebhookNotifier) -> None:
    receiver.statuses.append((400, {}))
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert len(receiver.hits) == 1
    assert info.value.retryable is False
    assert info.value.status == 400
    assert str(info.value) == "webhook: HTTP 400"  # the body is never echoed


async def test_5xx_every_time_is_retryable(receiver: Receiver, notifier: WebhookNotifier) -> None:
    receiver.statuses.extend([(503, {}), (502, {}), (500, {})])
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert len(receiver.hits) == 3
    assert info.value.retryable is True
    assert info.value.status == 500


async def test_redirect_is_not_followed(receiver: Receiver, notifier: WebhookNotifier) -> None:
    receiver.statuses.append((307, {"Location": "http://127.0.0.1:9/elsewhere"}))
    with pytest.raises(ProviderError) as info:
        await notifier.send(make_alert())
    assert info.value.status == 307
    assert info.value.retryable is False
    assert len(receiver.hits) == 1


def test_signature_is_over_timestamp_and_body() -> None:
    expected = hmac.new(KEY, b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign(KEY, "1700000000", b"{}") == "sha256=" + expected
    sig = sign(KEY, "1700000000", b"{}")
    assert verify_signature(KEY, body=b"{}", timestamp="1700000000", signature=sig, now=1700000100)
    # a replay far from the signed time is refused, and so is a moved timestamp
    assert not verify_signature(
        KEY, body=b"{}", timestamp="1700000000", signature=sig, now=1700001000
    )
    assert not verify_signature(
        KEY, body=b"{}", timestamp="1700000050", signature=sig, now=1700000100
    )
    assert not verify_signature(KEY, body=b"{}", timestamp="soon", signature=sig)


def test_from_config_reads_key_and_url_from_the_environment() -> None:
    notifier: Notifier = WebhookNotifier.from_config(
        {"url_env": "SIEM_URL", "secret_env": "SIEM_KEY", "attempts": 5},
        {"SIEM_URL": "https://siem.example.org/hook?token=abc", "SIEM_KEY": "k" * 32},
    )
    assert repr(notifier) == "WebhookNotifier(host='siem.example.org')"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"url": "https://x.example", "secret_env": "K", "retries": 3},
            "[notifiers.webhook] retries: unknown key",
        ),
        ({"url": "https://x.example"}, "[notifiers.webhook] secret_env: missing"),
        (
            {"url": "https://x.example", "secret_env": "MISSING"},
            "[notifiers.webhook] secret_env: environment variable MISSING is not set",
        ),
        ({"secret_env": "K"}, "[notifiers.webhook] set exactly one of url and url_env"),
        (
            {"url": "http://x.example", "secret_env": "K"},
            "[notifiers.webhook] url: must be an https URL",
        ),
        (
            {"url": "https://x.example", "secret_env": "SHORT"},
            "[notifiers.webhook] secret_env: the signing key must be at least 16 bytes",
        ),
    ],
)
def test_from_config_rejects_bad_sections(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        WebhookNotifier.from_config(section, {"K": "k" * 32, "SHORT": "abc"})
    assert str(info.value) == message


def test_retry_after_parses_seconds_and_http_dates() -> None:
    now = datetime(2025, 3, 10, 8, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("Mon, 10 Mar 2025 08:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 10 Mar 2025 07:59:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after("inf") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None
