"""Okta responder: find a user, expire or reset their password, clear sessions, suspend."""

from __future__ import annotations

import contextlib
import logging
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
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
from monitor.retry_after import parse_retry_after
from monitor.types import Outcome

from .base import Settings
from .http import (
    HttpClient,
    Reply,
    Sleep,
    backoff,
    parse_iso,
    raise_for_lookup,
    step_from_error,
    step_from_reply,
)

log = logging.getLogger(__name__)

RESET_MODES = ("expire_with_temp_password", "reset_password")
_DISABLED = frozenset({"SUSPENDED", "DEPROVISIONED"})


def okta_delay(reply: Reply, attempt: int, *, base: float, cap: float) -> float | None:
    """Okta throttles with `X-Rate-Limit-Reset` (epoch seconds); measure it against `Date`."""
    if reply.status not in (429, 500, 502, 503, 504):
        return None
    after = parse_retry_after(reply.headers.get("Retry-After"))
    if after is not None:
        return after
    reset = reply.headers.get("X-Rate-Limit-Reset", "")
    if reply.status == 429 and reset.strip().isdigit():
        now = datetime.now(UTC)
        with contextlib.suppress(TypeError, ValueError, IndexError):
            now = parsedate_to_datetime(reply.headers.get("Date", ""))
        return max(0.0, int(reset) - now.timestamp()) + 0.1
    return backoff(attempt, base, cap)


class OktaResponder:
    """Okta Management API (`SSWS` API token or OAuth `Bearer` token)."""

    name: ClassVar[str] = "okta"

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        auth_scheme: str = "SSWS",
        reset_mode: str = "expire_with_temp_password",
        timeout: float = 15.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        max_delay: float = 60.0,
        sleep: Sleep | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._auth = f"{auth_scheme} {token}"
        self._reset_mode = reset_mode
        extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        self._http = HttpClient(
            provider=self.name,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            max_delay=max_delay,
            retry_rule=lambda r, a: okta_delay(r, a, base=backoff_base, cap=max_delay),
            request_id_header="X-Okta-Request-Id",
            **extra,
        )

    @classmethod
    def from_config(
        cls,
        mapping: Mapping[str, Any],
        env: Mapping[str, str] | None = None,
        sleep: Sleep | None = None,
    ) -> OktaResponder:
        s = Settings(cls.name, mapping, env)
        responder = cls(
            base_url=s.text("base_url"),
            token=s.secret_env("token_env"),
            auth_scheme=s.text("auth_scheme", "SSWS", choices=("SSWS", "Bearer")),
            reset_mode=s.text("reset_mode", RESET_MODES[0], choices=RESET_MODES),
            timeout=s.number("timeout", 15.0, minimum=0.001),
            max_retries=s.integer("max_retries", 3),
            backoff_base=s.number("backoff_base", 0.5),
            max_delay=s.number("max_delay", 60.0),
            sleep=sleep,
        )
        s.finish()
        return responder

    def _headers(self) -> dict[str, str]:
        return {"Authorization": self._auth, "Accept": "application/json"}

    def _user(self, data: Any) -> IdentityUser | None:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return None
        profile = data.get("profile") or {}
        creds = data.get("credentials") or {}
        provider = (creds.get("provider") or {}).get("type") or "OKTA"
        return IdentityUser(
            provider=self.name,
            user_id=data["id"],
            login=str(profile.get("login") or ""),
            email=profile.get("email"),
            password_changed_at=parse_iso(data.get("passwordChanged")),
            external=provider != "OKTA",
            enabled=data.get("status") not in _DISABLED,
        )

    async def find_user(self, account: AccountRef) -> IdentityUser | None:
        key = account.idp_user_id or account.login
        if key:
            reply = await self._http.request(
                "GET",
                f"{self._base}/api/v1/users/{urllib.parse.quote(key, safe='')}",
                headers=self._headers(),
            )
            raise_for_lookup(reply)
            if reply.ok:
                return self._user(reply.json())
        email = account.email
        if not email or '"' in email or "\\" in email:
            return None
        reply = await self._http.request(
            "GET",
            f"{self._base}/api/v1/users",
            headers=self._headers(),
            params={"search": f'profile.email eq "{email}"'},
        )
        raise_for_lookup(reply)
        found = reply.json() if reply.ok else None
        if not isinstance(found, list) or not found:
            return None
        if len(found) > 1:
            raise ProviderError(
                "okta: several users share that e-mail",
                retryable=False,
                request_id=reply.request_id,
            )
        return self._user(found[0])

    async def _post_step(
        self, step: str, method: str, path: str, params: dict[str, str], done: str
    ) -> StepResult:
        try:
            reply = await self._http.request(
                method, f"{self._base}{path}", headers=self._headers(), params=params
            )
        except ProviderError as exc:
            return step_from_error(step, exc)
        # The body of expire_with_temp_password holds a temporary password: never read it.
        return step_from_reply(step, reply, done_detail=done)

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        uid = urllib.parse.quote(user.user_id, safe="")
        if self._reset_mode == "reset_password":
            if dry_run:
                return dry_run_result(STEP_RESET, "start a password reset and revoke sessions")
            return await self._post_step(
                STEP_RESET,
                "POST",
                f"/api/v1/users/{uid}/lifecycle/reset_password",
                {"sendEmail": "false", "revokeSessions": "true"},
                "password reset started (old password dead), sessions revoked",
            )
        if dry_run:
            return dry_run_result(STEP_RESET, "replace the password with an expired temporary one")
        return await self._post_step(
            STEP_RESET,
            "POST",
            f"/api/v1/users/{uid}/lifecycle/expire_password_with_temp_password",
            {"revokeSessions": "true"},
            "password replaced by a discarded temporary one and expired, sessions revoked",
        )

    async def revoke_sessions(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(STEP_REVOKE, "clear sessions and OAuth tokens")
        uid = urllib.parse.quote(user.user_id, safe="")
        return await self._post_step(
            STEP_REVOKE,
            "DELETE",
            f"/api/v1/users/{uid}/sessions",
            {"oauthTokens": "true"},
            "sessions and OAuth tokens revoked",
        )

    async def block(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if not user.enabled:
            return StepResult(step=STEP_BLOCK, outcome=Outcome.DONE, detail="already suspended")
        if dry_run:
            return dry_run_result(STEP_BLOCK, "suspend the user")
        uid = urllib.parse.quote(user.user_id, safe="")
        return await self._post_step(
            STEP_BLOCK, "POST", f"/api/v1/users/{uid}/lifecycle/suspend", {}, "user suspended"
        )

    async def aclose(self) -> None:
        await self._http.aclose()
