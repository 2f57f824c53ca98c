"""Google Workspace responder (Admin SDK): random password + change at next login, sign-out, suspend."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import Field

from monitor.errors import ConfigError, ProviderError
from monitor.http import TRANSIENT_STATUSES, HttpClient, Reply
from monitor.responder import (
    STEP_BLOCK,
    STEP_RESET,
    STEP_REVOKE,
    AccountRef,
    IdentityUser,
    StepResult,
    dry_run_result,
    random_password,
)
from monitor.retry import Sleep
from monitor.settings import SettingError, load_section, secret_from_env
from monitor.types import Outcome

from .rest import (
    BearerToken,
    RestSection,
    parse_iso,
    parse_token_reply,
    raise_for_lookup,
    rest_policy,
    step_from_error,
    step_from_reply,
)

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


def google_retryable(reply: Reply) -> bool:
    """429/5xx, and 403 with a rate-limit reason, back off (Google promises no Retry-After)."""
    if reply.status == 403:
        data = reply.json()
        err = data.get("error") if isinstance(data, dict) else None
        errors = err.get("errors") if isinstance(err, dict) else None
        reasons = {e.get("reason") for e in errors or [] if isinstance(e, dict)}
        return bool(reasons & _RATE_REASONS)
    return reply.status in TRANSIENT_STATUSES


class GoogleResponder:
    """Admin SDK Directory + Reports with a domain-wide-delegated service account."""

    name: ClassVar[str] = "google"

    def __init__(
        self,
        *,
        service_account: Mapping[str, Any],
        subject: str,
        base_url: str = "https://admin.googleapis.com",
        timeout: float = 15.0,
        max_retries: int = 3,
        backoff_base: float = 1.0,
        max_delay: float = 60.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        try:
            self._issuer = str(service_account["client_email"])
            self._key_pem = str(service_account["private_key"])
        except KeyError as exc:
            raise ConfigError(f"google service account JSON lacks {exc.args[0]}") from None
        self._token_url = str(
            service_account.get("token_uri") or "https://oauth2.googleapis.com/token"
        )
        self._subject = subject
        self._base = base_url.rstrip("/")
        self._http = HttpClient(
            provider=self.name,
            timeout=timeout,
            policy=rest_policy(
                max_retries=max_retries, backoff_base=backoff_base, max_delay=max_delay
            ),
            retry_on=google_retryable,
            sleep=sleep,
        )
        self._token = BearerToken(self._fetch_token)

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], env: Mapping[str, str], *, sleep: Sleep = asyncio.sleep
    ) -> Self:
        s = load_section(GoogleSection, section, section=SECTION)
        raw = secret_from_env(SECTION, "service_account_env", s.service_account_env, env)
        try:
            account = json.loads(raw)
        except ValueError:
            raise SettingError(
                SECTION, "service_account_env", "service account JSON is not valid JSON"
            ) from None
        if not isinstance(account, dict):
            raise SettingError(
                SECTION, "service_account_env", "service account JSON must be an object"
            )
        return cls(
            service_account=account,
            subject=s.subject,
            base_url=s.base_url,
            timeout=s.timeout,
            max_retries=s.max_retries,
            backoff_base=s.backoff_base,
            max_delay=s.max_delay,
            sleep=sleep,
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
        reply = await self._http.request(
            "POST", self._token_url, form={"grant_type": JWT_BEARER, "assertion": assertion}
        )
        return parse_token_reply(reply, self.name)

    async def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self._token.get()}", "Accept": "application/json"}

    def _user_url(self, key: str) -> str:
        return f"{self._base}/admin/directory/v1/users/{urllib.parse.quote(key, safe='@')}"

    async def _password_changed(self, user_key: str) -> Any:
        """Latest `password_edit` login-audit event; None when none is reported (180-day window)."""
        reply = await self._http.request(
            "GET",
            f"{self._base}/admin/reports/v1/activity/users/{urllib.parse.quote(user_key, safe='@')}"
            "/applications/login",
            headers=await self._headers(),
            params={"eventName": "password_edit", "maxResults": "1"},
        )
        raise_for_lookup(reply)
        data = reply.json() if reply.ok else None
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            return None
        return (items[0].get("id") or {}).get("time")

    async def find_user(self, account: AccountRef) -> IdentityUser | None:
        data: Any = None
        for key in (account.idp_user_id, account.login, account.email):
            if not key:
                continue
            reply = await self._http.request(
                "GET", self._user_url(key), headers=await self._headers()
            )
            if reply.status == 401:
                self._token.forget()
            raise_for_lookup(reply)
            if reply.ok:
                data = reply.json()
                break
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return None
        primary = str(data.get("primaryEmail") or "")
        changed = await self._password_changed(primary or data["id"])
        return IdentityUser(
            provider=self.name,
            user_id=data["id"],
            login=primary,
            email=primary or None,
            password_changed_at=parse_iso(changed),
            external=False,
            enabled=data.get("suspended") is not True,
        )

    async def _call(self, step: str, method: str, url: str, body: Any, done: str) -> StepResult:
        try:
            reply = await self._http.request(
                method, url, headers=await self._headers(), json_body=body
            )
        except ProviderError as exc:
            return step_from_error(step, exc)
        if reply.status == 401:
            self._token.forget()
        return step_from_reply(step, reply, done_detail=done)

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(
                STEP_RESET, "set a random password with changePasswordAtNextLogin"
            )
        body = {"password": random_password(), "changePasswordAtNextLogin": True}
        return await self._call(
            STEP_RESET,
            "PATCH",
            self._user_url(user.user_id),
            body,
            "random password set, change required at next login",
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
        await self._http.aclose()
