"""Okta responder: find a user, expire or reset their password, clear sessions, suspend."""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

from pydantic import Field

from monitor.errors import ProviderError
from monitor.http import HttpClient
from monitor.responder import (
    STEP_BLOCK,
    STEP_RESET,
    STEP_REVOKE,
    AccountRef,
    IdentityUser,
    StepResult,
    dry_run_result,
)
from monitor.retry import Sleep
from monitor.settings import load_section, secret_from_env
from monitor.types import Outcome

from .rest import (
    RestSection,
    parse_iso,
    raise_for_lookup,
    rest_policy,
    step_from_error,
    step_from_reply,
)

log = logging.getLogger(__name__)

SECTION = "responders.okta"
RESET_MODES = ("expire_with_temp_password", "reset_password")
_DISABLED = frozenset({"SUSPENDED", "DEPROVISIONED"})
_EXTERNAL = frozenset({"FEDERATION", "SOCIAL"})  # signs in elsewhere: block, never reset
_DIRECTORY = {"ACTIVE_DIRECTORY": "Active Directory", "LDAP": "the LDAP directory"}


class OktaSection(RestSection):
    """`[responders.okta]`: org URL, API token variable, auth scheme and reset mode."""

    base_url: str = Field(min_length=1, description="Okta org URL.")
    token_env: str = Field(min_length=1, description="Variable holding the API token.")
    auth_scheme: Literal["SSWS", "Bearer"] = Field(
        default="SSWS", description="`SSWS` (API token) or `Bearer` (OAuth)."
    )
    reset_mode: Literal["expire_with_temp_password", "reset_password"] = Field(
        default="expire_with_temp_password",
        description="Expire with a temporary password, or reset the password.",
    )


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
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._auth = f"{auth_scheme} {token}"
        self._reset_mode = reset_mode
        # Okta's 429 carries no Retry-After: it names the end of the window in X-Rate-Limit-Reset.
        self._http = HttpClient(
            provider=self.name,
            timeout=timeout,
            policy=rest_policy(
                max_retries=max_retries, backoff_base=backoff_base, max_delay=max_delay
            ),
            reset_header="X-Rate-Limit-Reset",
            request_id_headers=("X-Okta-Request-Id",),
            sleep=sleep,
        )

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], env: Mapping[str, str], *, sleep: Sleep = asyncio.sleep
    ) -> Self:
        s = load_section(OktaSection, section, section=SECTION)
        return cls(
            base_url=s.base_url,
            token=secret_from_env(SECTION, "token_env", s.token_env, env),
            auth_scheme=s.auth_scheme,
            reset_mode=s.reset_mode,
            timeout=s.timeout,
            max_retries=s.max_retries,
            backoff_base=s.backoff_base,
            max_delay=s.max_delay,
            sleep=sleep,
        )

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
            external=provider in _EXTERNAL,
            enabled=data.get("status") not in _DISABLED,
            status=str(data.get("status") or ""),
            mastered_in=_DIRECTORY.get(provider, ""),
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
                # The reset link goes to the user: with sendEmail=false it would be thrown away.
                {"sendEmail": "true", "revokeSessions": "true"},
                "password reset started (old password dead, link e-mailed), sessions revoked",
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
        if user.status not in ("", "ACTIVE"):  # Okta suspends only ACTIVE users (400 otherwise)
            return StepResult(
                step=STEP_BLOCK,
                outcome=Outcome.SKIPPED,
                detail=f"Okta suspends only ACTIVE users; this one is {user.status}",
                todo="deactivate the user in Okta or ask the partner to reset the account",
            )
        if dry_run:
            return dry_run_result(STEP_BLOCK, "suspend the user")
        uid = urllib.parse.quote(user.user_id, safe="")
        return await self._post_step(
            STEP_BLOCK, "POST", f"/api/v1/users/{uid}/lifecycle/suspend", {}, "user suspended"
        )

    async def aclose(self) -> None:
        await self._http.aclose()
