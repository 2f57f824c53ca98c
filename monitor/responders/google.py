"""Google Workspace responder (Admin SDK): random password + change at next login, sign-out, suspend."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import Field

from monitor.errors import ConfigError
from monitor.http import TRANSIENT_STATUSES, Reply
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
from monitor.settings import SettingError, secret_from_env
from monitor.types import Outcome

from .rest import FromSection, RestClient, RestSection, parse_iso, raise_for_lookup

log = logging.getLogger(__name__)

SCOPES = (
    "https://www.googleapis.com/auth/admin.directory.user",
    "https://www.googleapis.com/auth/admin.directory.user.security",
    "https://www.googleapis.com/auth/admin.reports.audit.readonly",
)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_RATE_REASONS = frozenset({"userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"})
SECTION = "responders.google"


class GoogleSection(RestSection):
    """`[responders.google]`: service-account JSON variable, the admin to act as, API URL."""

    service_account_env: str = Field(
        min_length=1, description="Variable holding the service account's JSON key."
    )
    subject: str = Field(min_length=1, description="The admin the service account acts as.")
    base_url: str = Field(
        default="https://admin.googleapis.com", min_length=1, description="Admin SDK URL."
    )
    backoff_base: float = Field(
        default=1.0, ge=0, description="First retry delay, in seconds (doubles each time)."
    )
    domains: tuple[str, ...] = Field(
        default=(),
        description="The customer's domains (default: the subject's); a 403 for an address "
        "outside them means the user is not here.",
    )
    password_events_days: int = Field(
        default=180,
        ge=1,
        le=180,
        description="Days of audit events read for the last password change (Reports keeps 180).",
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_jwt(claims: Mapping[str, Any], private_key_pem: str) -> str:
    """An RS256 JWT (RFC 7519) signed with the service account's key."""
    key = serialization.load_pem_private_key(private_key_pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("google service account key is not an RSA key")
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(dict(claims), separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"


def _service_account(raw: str) -> Mapping[str, Any]:
    try:
        account = json.loads(raw)
    except ValueError:
        raise SettingError(
            SECTION, "service_account_env", "service account JSON is not valid JSON"
        ) from None
    if not isinstance(account, dict):
        raise SettingError(SECTION, "service_account_env", "service account JSON must be an object")
    return account


def google_retryable(reply: Reply) -> bool:
    """429/5xx, and 403 with a rate-limit reason, back off (Google promises no Retry-After)."""
    if reply.status == 403:
        data = reply.json()
        err = data.get("error") if isinstance(data, dict) else None
        errors = err.get("errors") if isinstance(err, dict) else None
        reasons = {e.get("reason") for e in errors or [] if isinstance(e, dict)}
        return bool(reasons & _RATE_REASONS)
    return reply.status in TRANSIENT_STATUSES


class GoogleResponder(FromSection):
    """Admin SDK Directory + Reports with a domain-wide-delegated service account."""

    name: ClassVar[str] = "google"
    section_model = GoogleSection
    section_name = SECTION

    def __init__(
        self, section: GoogleSection, env: Mapping[str, str], *, sleep: Sleep = asyncio.sleep
    ) -> None:
        account = _service_account(
            secret_from_env(SECTION, "service_account_env", section.service_account_env, env)
        )
        try:
            self._issuer = str(account["client_email"])
            self._key_pem = str(account["private_key"])
        except KeyError as exc:
            raise ConfigError(f"google service account JSON lacks {exc.args[0]}") from None
        self._token_url = str(account.get("token_uri") or "https://oauth2.googleapis.com/token")
        self._subject = section.subject
        self._domains = frozenset(
            d.lower() for d in section.domains or (section.subject.rpartition("@")[2],)
        )
        self._window = timedelta(days=section.password_events_days)
        self._base = section.base_url.rstrip("/")
        self._rest = RestClient(
            self.name, section, sleep=sleep, token=self._fetch_token, retry_on=google_retryable
        )

    async def _fetch_token(self) -> tuple[str, float]:
        now = int(time.time())
        assertion = sign_jwt(
            {
                "iss": self._issuer,
                "sub": self._subject,
                "scope": " ".join(SCOPES),
                "aud": self._token_url,
                "iat": now,
                "exp": now + 3600,
            },
            self._key_pem,
        )
        return await self._rest.token_from(
            self._token_url, {"grant_type": JWT_BEARER, "assertion": assertion}
        )

    def _user_url(self, key: str) -> str:
        return f"{self._base}/admin/directory/v1/users/{urllib.parse.quote(key, safe='@')}"

    def _ours(self, key: str) -> bool:
        """Is `key` an address in the customer's domains (an id is taken as ours)?"""
        return "@" not in key or key.rpartition("@")[2].lower() in self._domains

    async def _latest_event(self, application: str, params: Mapping[str, str]) -> datetime | None:
        since = datetime.now(UTC) - self._window
        data = await self._rest.lookup(
            f"{self._base}/admin/reports/v1/activity/users/{application}",
            {**params, "startTime": since.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "maxResults": "1"},
        )
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            return None
        return parse_iso((items[0].get("id") or {}).get("time"))

    async def _password_changed(self, user_key: str, email: str) -> datetime | None:
        """The latest password change in the audit window: the user's own (`password_edit`,
        user accounts audit) or an admin's (`CHANGE_PASSWORD`, admin audit, by USER_EMAIL).
        None when neither is reported in the window."""
        quoted = urllib.parse.quote(user_key, safe="@")
        own = await self._latest_event(
            f"{quoted}/applications/user_accounts", {"eventName": "password_edit"}
        )
        admin = (
            await self._latest_event(
                "all/applications/admin",
                {"eventName": "CHANGE_PASSWORD", "filters": f"USER_EMAIL=={email}"},
            )
            if email
            else None
        )
        known = [when for when in (own, admin) if when is not None]
        return max(known) if known else None

    async def find_user(self, account: AccountRef) -> IdentityUser | None:
        data: Any = None
        for key in (account.idp_user_id, account.login, account.email):
            if not key:
                continue
            reply = await self._rest.send("GET", self._user_url(key))
            if reply.status == 403 and not self._ours(key):
                # Google answers 403, not 404, for an address outside the customer's domains.
                continue
            raise_for_lookup(reply)
            if reply.ok:
                data = reply.json()
                break
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return None
        primary = str(data.get("primaryEmail") or "")
        changed = await self._password_changed(primary or data["id"], primary)
        return IdentityUser(
            provider=self.name,
            user_id=data["id"],
            login=primary,
            email=primary or None,
            password_changed_at=changed,
            external=False,
            enabled=data.get("suspended") is not True,
        )

    async def _call(self, step: str, method: str, url: str, body: Any, done: str) -> StepResult:
        return await self._rest.step(step, method, url, done=done, json_body=body)

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(
                STEP_RESET, "set a random password with changePasswordAtNextLogin"
            )
        body = {"password": random_password(), "changePasswordAtNextLogin": True}
        result = await self._call(
            STEP_RESET, "PATCH", self._user_url(user.user_id), body, "random password set"
        )
        return with_change_required(result, "changePasswordAtNextLogin set with the password")

    async def require_change(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(STEP_REQUIRE_CHANGE, "set changePasswordAtNextLogin")
        return await self._call(
            STEP_REQUIRE_CHANGE,
            "PATCH",
            self._user_url(user.user_id),
            {"changePasswordAtNextLogin": True},
            "changePasswordAtNextLogin set",
        )

    async def revoke_sessions(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(STEP_REVOKE, "sign the user out of all web and device sessions")
        return await self._call(
            STEP_REVOKE,
            "POST",
            f"{self._user_url(user.user_id)}/signOut",
            None,
            "signed out of all sessions",
        )

    async def block(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if not user.enabled:
            return StepResult(step=STEP_BLOCK, outcome=Outcome.DONE, detail="already suspended")
        if dry_run:
            return dry_run_result(STEP_BLOCK, "suspend the user")
        return await self._call(
            STEP_BLOCK,
            "PATCH",
            self._user_url(user.user_id),
            {"suspended": True},
            "user suspended",
        )

    async def aclose(self) -> None:
        await self._rest.aclose()
