"""Webhook responder: announce a compromised account to a partner portal or SOAR (signed JSON).

As a portal's session hook (`portals = [...]` in its section) it asks the portal to end the
user's sessions; only a reply `{"sessions_ended": true}` confirms it (202 or any other 2xx is
"asked, not confirmed")."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field

from monitor.errors import ProviderError
from monitor.http import Reply
from monitor.responder import (
    STEP_BLOCK,
    STEP_PORTAL,
    STEP_REQUIRE_CHANGE,
    STEP_RESET,
    STEP_REVOKE,
    AccountRef,
    IdentityUser,
    PortalRef,
    StepResult,
    dry_run_result,
)
from monitor.retry import Sleep
from monitor.settings import secret_from_env
from monitor.signing import signed_headers
from monitor.types import Outcome

from .rest import FromSection, RestClient, RestSection, step_from_error, step_from_reply

log = logging.getLogger(__name__)

SECTION = "responders.webhook"
EVENT_HEADER = "X-Credwatch-Event-Id"


class WebhookSection(RestSection):
    """`[responders.webhook]`: receiver URL, signing-secret variable, how we name ourselves."""

    url: str = Field(min_length=1, description="Receiver URL.")
    secret_env: str = Field(min_length=1, description="Variable holding the signing secret.")
    source: str = Field(
        default="credwatch", min_length=1, description="How credwatch names itself in requests."
    )
    external: bool = Field(
        default=False, description="Users it answers for are external (blocked, not reset)."
    )
    timeout: float = Field(default=10.0, ge=0.001, description="Seconds per request.")


class WebhookResponder(FromSection):
    """The receiver owns the account: every step is a request for it to act, never a password."""

    name: ClassVar[str] = "webhook"
    section_model = WebhookSection
    section_name = SECTION

    def __init__(
        self, section: WebhookSection, env: Mapping[str, str], *, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._url = section.url
        self._secret = secret_from_env(
            SECTION, "secret_env", section.secret_env, env, strip=False
        ).encode("utf-8")
        self._source = section.source
        self._external = section.external
        self._rest = RestClient(self.name, section, sleep=sleep)

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

    async def _announce(
        self, step: str, user: IdentityUser, done: str, extra: Mapping[str, Any] | None = None
    ) -> StepResult:
        try:
            reply = await self._send(step, user, extra or {})
        except ProviderError as exc:
            return step_from_error(step, exc)
        return step_from_reply(step, reply, done_detail=done)

    async def _send(self, step: str, user: IdentityUser, extra: Mapping[str, Any]) -> Reply:
        event_id = str(uuid.uuid4())
        payload = {
            **extra,
            "type": "credential_exposure",
            "event_id": event_id,
            "source": self._source,
            "requested_action": step,
            "account": {"id": user.user_id, "login": user.login, "email": user.email},
            "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")

        def headers() -> dict[str, str]:  # a fresh timestamp and signature on every attempt
            return {
                "Content-Type": "application/json",
                **signed_headers(self._secret, body),
                EVENT_HEADER: event_id,
            }

        # Sent as raw bytes so the signature covers exactly what goes on the wire.
        return await self._rest.http.request("POST", self._url, headers=headers, raw_body=body)

    async def end_portal_sessions(
        self, user: IdentityUser, portal: PortalRef, *, dry_run: bool
    ) -> StepResult:
        """Ask the portal to end every session of `user`; done only when it confirms."""
        if dry_run:
            return dry_run_result(STEP_PORTAL, f"ask {portal.portal} to end the user's sessions")
        where = {"portal": {"url": portal.portal, "cookie_name": portal.cookie_name}}
        try:
            reply = await self._send(STEP_PORTAL, user, where)
        except ProviderError as exc:
            return step_from_error(STEP_PORTAL, exc)
        data = reply.json() if reply.ok else None
        if isinstance(data, dict) and data.get("sessions_ended") is True:
            return StepResult(
                step=STEP_PORTAL,
                outcome=Outcome.DONE,
                detail=f"{portal.portal} confirmed the user's sessions ended",
                request_id=reply.request_id,
            )
        if reply.ok:
            return StepResult(
                step=STEP_PORTAL,
                outcome=Outcome.SKIPPED,
                detail=f"{portal.portal} took the request (HTTP {reply.status}) but did not "
                "confirm the sessions ended",
                request_id=reply.request_id,
                todo=f"confirm with the {portal.portal} team that every session of "
                f"{user.login} is ended",
            )
        return step_from_reply(STEP_PORTAL, reply, done_detail="")

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(STEP_RESET, "ask the receiver to reset the password")
        return await self._announce(STEP_RESET, user, "receiver asked to reset the password")

    async def require_change(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(STEP_REQUIRE_CHANGE, "ask the receiver to require a new password")
        return await self._announce(
            STEP_REQUIRE_CHANGE, user, "receiver asked to require a new password at next sign-in"
        )

    async def revoke_sessions(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(STEP_REVOKE, "ask the receiver to revoke sessions")
        return await self._announce(STEP_REVOKE, user, "receiver asked to revoke sessions")

    async def block(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(STEP_BLOCK, "ask the receiver to block the account")
        return await self._announce(STEP_BLOCK, user, "receiver asked to block the account")

    async def aclose(self) -> None:
        await self._rest.aclose()
