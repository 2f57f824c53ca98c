"""Webhook responder: signed JSON announcements to a local receiver, never a password."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest_asyncio

from monitor.containment import ContainmentStatus, contain
from monitor.responder import AccountRef, PortalRef
from monitor.responders.webhook import WebhookResponder
from monitor.types import Outcome
from tests.servers.idp import FakeIdP, MemoryActionLog, RecordingSleep, answer, serve, webhook_app

SECRET = "hook-signing-secret"
PATH = "/hooks/credwatch"


@dataclass
class Hook:
    idp: FakeIdP
    url: str
    sleep: RecordingSleep

    def responder(self, **extra: object) -> WebhookResponder:
        cfg = {"url": f"{self.url}{PATH}", "secret_env": "CW_HOOK", "timeout": 0.5, **extra}
        return WebhookResponder.from_config(cfg, env={"CW_HOOK": SECRET}, sleep=self.sleep)


@pytest_asyncio.fixture
async def hook() -> AsyncIterator[Hook]:
    idp = FakeIdP()
    async with serve(webhook_app(idp)) as url:
        yield Hook(idp, url, RecordingSleep())


async def test_contain_announces_each_step_signed(hook: Hook) -> None:
    r, log = hook.responder(), MemoryActionLog()
    account = AccountRef(login="partner1@gmail.com", email="partner1@gmail.com", idp_user_id="p-42")
    try:
        result = await contain(
            exposure_id=1,
            account=account,
            infected_at=datetime(2026, 3, 1, tzinfo=UTC),
            first_seen=None,
            responder=r,
            log=log,
            dry_run=False,
            decided_by="policy",
        )
    finally:
        await r.aclose()
    assert result.status is ContainmentStatus.CONTAINED
    calls = hook.idp.calls_to("POST", PATH)
    assert [c.json()["requested_action"] for c in calls] == [
        "reset_password",
        "require_change",
        "revoke_sessions",
    ]
    for call in calls:
        ts = call.headers["X-Credwatch-Timestamp"]
        expected = hmac.new(
            SECRET.encode(), ts.encode() + b"." + call.body, hashlib.sha256
        ).hexdigest()
        assert call.headers["X-Credwatch-Signature"] == f"sha256={expected}"
        body = call.json()
        assert set(body) == {"type", "event_id", "source", "requested_action", "account", "sent_at"}
        assert body["account"] == {
            "id": "p-42",
            "login": "partner1@gmail.com",
            "email": "partner1@gmail.com",
        }
        assert body["event_id"] == call.headers["X-Credwatch-Event-Id"]
        assert b'password"' not in call.body.replace(b"reset_password", b"")


async def test_external_receiver_gets_block(hook: Hook) -> None:
    r, log = hook.responder(external=True), MemoryActionLog()
    try:
        result = await contain(
            exposure_id=2,
            account=AccountRef(login="bob@partner.example"),
            infected_at=None,
            first_seen=None,
            responder=r,
            log=log,
            dry_run=False,
            decided_by="policy",
        )
    finally:
        await r.aclose()
    assert result.status is ContainmentStatus.BLOCKED
    assert [c.json()["requested_action"] for c in hook.idp.calls] == ["block", "revoke_sessions"]


async def test_retry_after_then_2xx_and_4xx_not_retried(hook: Hook) -> None:
    hook.idp.script("POST", PATH, answer(429, "busy", {"Retry-After": "1"}), answer(204))
    r = hook.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@gmail.com"))
        assert user is not None
        ok = await r.revoke_sessions(user, dry_run=False)
        hook.idp.script("POST", PATH, answer(401, "bad signature"))
        refused = await r.revoke_sessions(user, dry_run=False)
        dry = await r.block(user, dry_run=True)
    finally:
        await r.aclose()
    assert ok.outcome is Outcome.DONE and hook.sleep.delays == [1.0]
    assert (refused.outcome, refused.retryable, refused.detail) == (
        Outcome.FAILED,
        False,
        "HTTP 401",
    )
    assert dry.outcome is Outcome.DRY_RUN
    assert len(hook.idp.calls) == 3


PORTAL_REF = PortalRef(portal="https://portal.example.test/app", cookie_name="JSESSIONID")


async def test_portal_hook_done_only_when_the_portal_confirms(hook: Hook) -> None:
    r = hook.responder()
    user = await r.find_user(AccountRef(login="partner1@gmail.com"))
    assert user is not None
    confirmed = await r.end_portal_sessions(user, PORTAL_REF, dry_run=False)
    assert confirmed.outcome is Outcome.DONE
    assert confirmed.detail == "https://portal.example.test/app confirmed the user's sessions ended"
    sent = hook.idp.calls_to("POST", PATH)[-1].json()
    assert sent["requested_action"] == "end_portal_sessions"
    assert sent["portal"] == {"url": PORTAL_REF.portal, "cookie_name": "JSESSIONID"}

    hook.idp.script("POST", PATH, answer(202, {"received": True}))
    queued = await r.end_portal_sessions(user, PORTAL_REF, dry_run=False)
    assert queued.outcome is Outcome.SKIPPED
    assert "did not confirm" in queued.detail and "partner1@gmail.com" in queued.todo

    hook.idp.script("POST", PATH, answer(403, {"error": "forbidden"}))
    refused = await r.end_portal_sessions(user, PORTAL_REF, dry_run=False)
    assert (refused.outcome, refused.detail) == (Outcome.FAILED, "HTTP 403 forbidden")

    dry = await r.end_portal_sessions(user, PORTAL_REF, dry_run=True)
    assert dry.outcome is Outcome.DRY_RUN
    await r.aclose()
