"""Okta responder: find a user, expire or reset their password, clear sessions, suspend."""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field

from monitor.errors import ProviderError
from monitor.responder import (
    STEP_BLOCK,
    STEP_REQUIRE_CHANGE,
    STEP_RESET,
    STEP_REVOKE,
    AccountRef,
    IdentityUser,
    StepResult,
    dry_run_result,
    with_change_required,
)
from monitor.retry import Sleep
from monitor.settings import secret_from_env
from monitor.types import Outcome

from .rest import FromSection, RestClient, RestSection, parse_iso

log = logging.getLogger(__name__)

SECTION = "responders.okta"
RESET_MODES = ("expire_with_temp_password", "reset_password")
_DISABLED = frozenset({"SUSPENDED", "DEPROVISIONED"})
_EXTERNAL = frozenset({"FEDERATION", "SOCIAL"})  # signs in elsewhere: block, never reset
_DIRECTORY = {"ACTIVE_DIRECTORY": "Active Directory", "LDAP": "the LDAP directory"}
_ALREADY_CHANGING = {  # statuses in which a new password is already required
    "PASSWORD_EXPIRED": "already PASSWORD_EXPIRED: a change is required at sign-in",
    "RECOVERY": "already in RECOVERY: a new password must be set through the reset",
}


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


class OktaResponder(FromSection):
    """Okta Management API (`SSWS` API token or OAuth `Bearer` token)."""

    name: ClassVar[str] = "okta"
    section_model = OktaSection
    section_name = SECTION

    def __init__(
        self, section: OktaSection, env: Mapping[str, str], *, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._base = section.base_url.rstrip("/")
        self._reset_mode = section.reset_mode
        token = secret_from_env(SECTION, "token_env", section.token_env, env)
        # Okta's 429 carries no Retry-After: it names the end of the window in X-Rate-Limit-Reset.
        self._rest = RestClient(
            self.name,
            section,
            sleep=sleep,
            headers={"Authorization": f"{section.auth_scheme} {token}"},
            reset_header="X-Rate-Limit-Reset",
            request_id_headers=("X-Okta-Request-Id",),
        )

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
            found = await self._rest.lookup(
                f"{self._base}/api/v1/users/{urllib.parse.quote(key, safe='')}"
            )
            if found is not None:
                return self._user(found)
        email = account.email
        if not email or '"' in email or "\\" in email:
            return None
        listed = await self._rest.lookup(
            f"{self._base}/api/v1/users", {"search": f'profile.email eq "{email}"'}
        )
        if not isinstance(listed, list) or not listed:
            return None
        if len(listed) > 1:
            raise ProviderError("okta: several users share that e-mail", retryable=False)
        return self._user(listed[0])

    async def _post_step(
        self, step: str, method: str, path: str, params: dict[str, str], done: str
    ) -> StepResult:
        # The body of expire_password_with_temp_password holds a temporary password: never read.
        return await self._rest.step(step, method, f"{self._base}{path}", done=done, params=params)

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        uid = urllib.parse.quote(user.user_id, safe="")
        if self._reset_mode == "reset_password":
            if dry_run:
                return dry_run_result(STEP_RESET, "start a password reset and revoke sessions")
            started = await self._post_step(
                STEP_RESET,
                "POST",
                f"/api/v1/users/{uid}/lifecycle/reset_password",
                # The reset link goes to the user: with sendEmail=false it would be thrown away.
                {"sendEmail": "true", "revokeSessions": "true"},
                "password reset started (old password dead, link e-mailed), sessions revoked",
            )
            return with_change_required(
                started, "RECOVERY: a new password must be set through the e-mailed link"
            )
        if dry_run:
            return dry_run_result(STEP_RESET, "replace the password with an expired temporary one")
        replaced = await self._post_step(
            STEP_RESET,
            "POST",
            f"/api/v1/users/{uid}/lifecycle/expire_password_with_temp_password",
            {"revokeSessions": "true"},
            "password replaced by a discarded temporary one, sessions revoked",
        )
        return with_change_required(replaced, "PASSWORD_EXPIRED: a change is required at sign-in")

    async def require_change(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        """Expire the password (PASSWORD_EXPIRED). Okta writes the expiry through to Active
        Directory for AD-sourced users (delegated authentication finds it there); an LDAP-sourced
        password it cannot reach."""
        if user.mastered_in and user.mastered_in != _DIRECTORY["ACTIVE_DIRECTORY"]:
            return StepResult(
                step=STEP_REQUIRE_CHANGE,
                outcome=Outcome.SKIPPED,
                detail=f"needs {user.mastered_in}: Okta does not expire a password there",
                todo=f"require a password change in {user.mastered_in}",
            )
        settled = _ALREADY_CHANGING.get(user.status)
        if settled:
            return StepResult(step=STEP_REQUIRE_CHANGE, outcome=Outcome.DONE, detail=settled)
        if dry_run:
            return dry_run_result(STEP_REQUIRE_CHANGE, "expire the password")
        uid = urllib.parse.quote(user.user_id, safe="")
        reach = " (Okta expires it in Active Directory too)" if user.mastered_in else ""
        return await self._post_step(
            STEP_REQUIRE_CHANGE,
            "POST",
            f"/api/v1/users/{uid}/lifecycle/expire_password",
            {},
            f"password expired: a change is required at the next sign-in{reach}",
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
        await self._rest.aclose()
