"""Webhook responder: announce a compromised account to a partner portal or SOAR (signed JSON)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from monitor.errors import ProviderError
from monitor.responder import (
    STEP_BLOCK,
    STEP_RESET,
    STEP_REVOKE,
    AccountRef,
    IdentityUser,
    StepResult,
    dry_run_result,
)

from .base import Settings
from .http import HttpClient, Sleep, step_from_error, step_from_reply

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Credwatch-Signature"
TIMESTAMP_HEADER = "X-Credwatch-Timestamp"
EVENT_HEADER = "X-Credwatch-Event-Id"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` HMAC over `<timestamp>.<body>`, so a captured request cannot be replayed later."""
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class WebhookResponder:
    """The receiver owns the account: every step is a request for it to act, never a password."""

    name: ClassVar[str] = "webhook"

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        source: str = "credwatch",
        external: bool = False,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        max_delay: float = 60.0,
        sleep: Sleep | None = None,
    ) -> None:
        self._url = url
        self._secret = secret.encode("utf-8")
        self._source = source
        self._external = external
        extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        self._http = HttpClient(
            provider=self.name,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            max_delay=max_delay,
            **extra,
        )

    @classmethod
    def from_config(
        cls,
        mapping: Mapping[str, Any],
        env: Mapping[str, str] | None = None,
        sleep: Sleep | None = None,
    ) -> WebhookResponder:
        s = Settings(cls.name, mapping, env)
        responder = cls(
            url=s.text("url"),
            secret=s.secret_env("secret_env"),
            source=s.text("source", "credwatch"),
            external=s.flag("external", False),
            timeout=s.number("timeout", 10.0, minimum=0.001),
            max_retries=s.integer("max_retries", 3),
            backoff_base=s.number("backoff_base", 0.5),
            max_delay=s.number("max_delay", 60.0),
            sleep=sleep,
        )
        s.finish()
        return responder

    async def find_user(self, account: AccountRef) -> IdentityUser | None:
        """The receiver knows its accounts; we announce the one we were given."""
        user_id = account.idp_user_id or account.login or account.email
        if not user_id:
            return None
        return IdentityUser(
            provider=self.name,
            user_id=user_id,
            login=account.login,
            email=account.email,
            password_changed_at=None,
            external=self._external,
            enabled=True,
        )

    async def _announce(self, step: str, user: IdentityUser, done: str) -> StepResult:
        event_id = str(uuid.uuid4())
        payload = {
            "type": "credential_exposure",
            "event_id": event_id,
            "source": self._source,
            "requested_action": step,
            "account": {"id": user.user_id, "login": user.login, "email": user.email},
            "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            TIMESTAMP_HEADER: timestamp,
            EVENT_HEADER: event_id,
        }
        try:
            # Sent as raw bytes so the signature covers exactly what goes on the wire.
            reply = await self._http.request("POST", self._url, headers=headers, raw_body=body)
        except ProviderError as exc:
            return step_from_error(step, exc)
        return step_from_reply(step, reply, done_detail=done)

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(STEP_RESET, "ask the receiver to reset the password")
        return await self._announce(STEP_RESET, user, "receiver asked to reset the password")

    async def revoke_sessions(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(STEP_REVOKE, "ask the receiver to revoke sessions")
        return await self._announce(STEP_REVOKE, user, "receiver asked to revoke sessions")

    async def block(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(STEP_BLOCK, "ask the receiver to block the account")
        return await self._announce(STEP_BLOCK, user, "receiver asked to block the account")

    async def aclose(self) -> None:
        await self._http.aclose()
