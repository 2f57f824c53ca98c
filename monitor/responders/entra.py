"""Microsoft Entra ID responder (Graph): find a user or guest, reset, revoke sessions, disable."""

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
    random_password,
    with_change_required,
)
from monitor.retry import Sleep
from monitor.settings import secret_from_env
from monitor.types import Outcome

from .rest import FromSection, RestClient, RestSection, parse_iso

log = logging.getLogger(__name__)

SELECT = (
    "id,userPrincipalName,mail,userType,creationType,accountEnabled,onPremisesSyncEnabled,"
    "externalUserState,identities,lastPasswordChangeDateTime,signInSessionsValidFromDateTime"
)
FORCE_MODES = ("change", "change_with_mfa")
SECTION = "responders.entra"


def is_external(data: Mapping[str, Any]) -> bool:
    """Signs in with a home tenant or another identity provider (B2B guests and B2B *members*
    alike): invited, redeemed or pending, `#EXT#` in the UPN, or a federated identity. An internal
    guest (userType Guest, a password of ours) is not external: it is reset like a member."""
    upn = str(data.get("userPrincipalName") or "")
    identities = data.get("identities")
    federated = isinstance(identities, list) and any(
        isinstance(i, dict) and i.get("signInType") == "federated" for i in identities
    )
    return (
        "#EXT#" in upn.upper()
        or data.get("externalUserState") is not None
        or data.get("creationType") == "Invitation"
        or federated
    )


class EntraSection(RestSection):
    """`[responders.entra]`: tenant, app registration, secret variable, Graph and login URLs."""

    tenant: str = Field(min_length=1, description="Directory (tenant) id.")
    client_id: str = Field(min_length=1, description="App registration's client id.")
    client_secret_env: str = Field(min_length=1, description="Variable holding the client secret.")
    base_url: str = Field(
        default="https://graph.microsoft.com", min_length=1, description="Microsoft Graph URL."
    )
    login_url: str = Field(
        default="https://login.microsoftonline.com",
        min_length=1,
        description="Token endpoint host.",
    )
    force_mode: Literal["change", "change_with_mfa"] = Field(
        default="change",
        description="Password change required at next sign-in, with or without MFA.",
    )


class EntraResponder(FromSection):
    """Microsoft Graph v1.0 with an app-only client-credentials token."""

    name: ClassVar[str] = "entra"
    section_model = EntraSection
    section_name = SECTION

    def __init__(
        self, section: EntraSection, env: Mapping[str, str], *, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._graph = section.base_url.rstrip("/")
        self._token_url = (
            f"{section.login_url.rstrip('/')}/{urllib.parse.quote(section.tenant, safe='')}"
            "/oauth2/v2.0/token"
        )
        self._client_id = section.client_id
        self._client_secret = secret_from_env(
            SECTION, "client_secret_env", section.client_secret_env, env
        )
        self._force_mode = section.force_mode
        # Graph throttles with 429 + Retry-After (seconds); errors carry a `request-id` header.
        self._rest = RestClient(
            self.name,
            section,
            sleep=sleep,
            token=self._fetch_token,
            request_id_headers=("request-id", "client-request-id"),
        )

    async def _fetch_token(self) -> tuple[str, float]:
        return await self._rest.token_from(
            self._token_url,
            {
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "scope": "https://graph.microsoft.com/.default",
                "grant_type": "client_credentials",
            },
        )

    def _user(self, data: Any) -> IdentityUser | None:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return None
        return IdentityUser(
            provider=self.name,
            user_id=data["id"],
            login=str(data.get("userPrincipalName") or ""),
            email=data.get("mail"),
            password_changed_at=parse_iso(data.get("lastPasswordChangeDateTime")),
            external=is_external(data),
            enabled=data.get("accountEnabled") is not False,
            mastered_in="on-premises AD" if data.get("onPremisesSyncEnabled") is True else "",
        )

    async def find_user(self, account: AccountRef) -> IdentityUser | None:
        key = account.idp_user_id or account.login
        if key:
            url = f"{self._graph}/v1.0/users/{urllib.parse.quote(key, safe='@')}"
            found = await self._rest.lookup(url, {"$select": SELECT})
            if found is not None:
                return self._user(found)
        if not account.email:
            return None
        mail = account.email.replace("'", "''")
        data = await self._rest.lookup(
            f"{self._graph}/v1.0/users", {"$filter": f"mail eq '{mail}'", "$select": SELECT}
        )
        listed = data.get("value") if isinstance(data, dict) else None
        if not isinstance(listed, list) or not listed:
            return None
        if len(listed) > 1:
            raise ProviderError("entra: several users share that e-mail", retryable=False)
        return self._user(listed[0])

    async def _call(self, step: str, method: str, path: str, body: Any, done: str) -> StepResult:
        return await self._rest.step(
            step, method, f"{self._graph}{path}", done=done, json_body=body
        )

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        flag = self._flag()
        if dry_run:
            return dry_run_result(STEP_RESET, f"set a random password with {flag}")
        uid = urllib.parse.quote(user.user_id, safe="")
        body = {"passwordProfile": {"password": random_password(), flag: True}}
        result = await self._call(
            STEP_RESET, "PATCH", f"/v1.0/users/{uid}", body, "random password set"
        )
        return with_change_required(result, f"{flag} set with the new password")

    async def require_change(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        flag = self._flag()
        if user.mastered_in:  # Graph refuses passwordProfile for synced users
            return StepResult(
                step=STEP_REQUIRE_CHANGE,
                outcome=Outcome.SKIPPED,
                detail=f"needs {user.mastered_in}: Graph cannot require a change of a synced "
                "password",
                todo=f"tick 'User must change password at next logon' in {user.mastered_in}",
            )
        if dry_run:
            return dry_run_result(STEP_REQUIRE_CHANGE, f"set {flag}")
        uid = urllib.parse.quote(user.user_id, safe="")
        return await self._call(
            STEP_REQUIRE_CHANGE,
            "PATCH",
            f"/v1.0/users/{uid}",
            {"passwordProfile": {flag: True}},
            f"{flag} set",
        )

    def _flag(self) -> str:
        return (
            "forceChangePasswordNextSignInWithMfa"
            if self._force_mode == "change_with_mfa"
            else "forceChangePasswordNextSignIn"
        )

    async def revoke_sessions(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if user.external:
            # Graph: "doesn't revoke sign-in sessions for external users, because external users
            # sign in through their home tenant".
            return StepResult(
                step=STEP_REVOKE,
                outcome=Outcome.SKIPPED,
                detail="Graph cannot revoke an external user's sessions (they sign in at their "
                "home tenant); tokens this tenant already issued last until they expire",
                todo="ask the partner's administrator to revoke the user's sessions in their "
                "home tenant (sign-in here blocked)",
            )
        if dry_run:
            return dry_run_result(STEP_REVOKE, "revoke sign-in sessions and refresh tokens")
        uid = urllib.parse.quote(user.user_id, safe="")
        return await self._call(
            STEP_REVOKE,
            "POST",
            f"/v1.0/users/{uid}/revokeSignInSessions",
            None,
            "refresh tokens and session cookies revoked (Graph applies it within minutes)",
        )

    async def block(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if not user.enabled:
            return StepResult(step=STEP_BLOCK, outcome=Outcome.DONE, detail="already disabled")
        if dry_run:
            return dry_run_result(STEP_BLOCK, "disable sign-in (accountEnabled=false)")
        uid = urllib.parse.quote(user.user_id, safe="")
        return await self._call(
            STEP_BLOCK,
            "PATCH",
            f"/v1.0/users/{uid}",
            {"accountEnabled": False},
            "sign-in blocked in this tenant",
        )

    async def aclose(self) -> None:
        await self._rest.aclose()
