"""Okta responder: find a user, expire or reset their password, clear sessions, suspend.

The calls follow the user's status. A LOCKED_OUT user cannot sign in only until the lockout ends
(it ends by itself after the policy's delay, by self-service unlock, or by an admin), and Okta
documents that an unlocked user "can sign in with their current password": the lockout contains
nothing, the password must still be replaced. Okta does not document whether it resets the
password of a LOCKED_OUT user, nor whether that ends the lockout. So the reset is tried first
(the leaked password never works again meanwhile); when Okta refuses it for the user's status
(403 E0000038), the user is unlocked (documented: LOCKED_OUT to ACTIVE, Okta-sourced users only)
and the reset sent again at once; when Okta accepts it, the user is read back, and a user still
LOCKED_OUT is reported as not done, with what an admin must check.

The other statuses, from Okta's Users API reference:
- SUSPENDED users "can only be unsuspended or deactivated" and cannot sign in; once unsuspended,
  the leaked password works again. Unsuspending here would undo an admin's block (and Okta's
  suspend, for ACTIVE users only, could not restore it after a reset): nothing is sent, and the
  admin is told to replace the password when unsuspending.
- DEPROVISIONED (deactivated) users cannot sign in. No reset is documented for them, and one that
  took effect could let the user sign in again: nothing is sent; the password is still to
  replace if the user is ever activated again.
- STAGED and PROVISIONED users have not completed activation and cannot sign in. Without a
  password credential (the user object shows `credentials.password` when one is set) there is
  nothing to replace, and nothing is claimed replaced. With one, it signs in once the user is
  activated; no reset before activation is documented, so nothing is sent and an admin is told.
- RECOVERY users cannot sign in until the reset flow sets a new password; PASSWORD_EXPIRED users
  sign in with the current (leaked) password and must then change it, so whoever signs in first
  chooses the next one. Okta documents no answer to a reset in either status: it is tried, and a
  refusal is a failure that says what the leaked password can still do.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar, Literal

from pydantic import Field

from monitor.errors import ProviderError
from monitor.http import Reply
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

from .rest import (
    FromSection,
    RestClient,
    RestSection,
    error_detail,
    parse_iso,
    step_from_error,
    step_from_reply,
)

log = logging.getLogger(__name__)

SECTION = "responders.okta"
RESET_MODES = ("expire_with_temp_password", "reset_password")
_DISABLED = frozenset({"SUSPENDED", "DEPROVISIONED"})  # cannot sign in
_EXTERNAL = frozenset({"FEDERATION", "SOCIAL"})  # signs in elsewhere: block, never reset
_DIRECTORY = {"ACTIVE_DIRECTORY": "Active Directory", "LDAP": "the LDAP directory"}
_LOCKED = "LOCKED_OUT"
_WRONG_STATUS = "E0000038"  # 403: "This operation is not allowed in the user's current status."
_LOCKED_TODO = (
    "the user is LOCKED_OUT in Okta and the lockout ends by itself: unlock the user in Okta "
    "and reset the password at once (Admin Console: Unlock, then Reset Password)"
)
_SUSPENDED, _DEPROVISIONED = "SUSPENDED", "DEPROVISIONED"
_UNACTIVATED = frozenset({"STAGED", "PROVISIONED"})  # activation pending: no sign-in yet
_TRIED = frozenset({"RECOVERY", "PASSWORD_EXPIRED"})  # reset tried; Okta's answer undocumented
_UNSUSPEND_FIRST = (
    "keep the user suspended until its password is replaced: when unsuspending it, reset the "
    "password at once (Admin Console: Unsuspend, then Reset Password), or deactivate the user"
)
_ACTIVATE_FIRST = (
    "nothing while the user stays deactivated; if it is ever activated again, reset the "
    "password at once (Admin Console: Activate, then Reset Password)"
)
_HELD = {  # statuses in which no reset is sent: (what that means, what a human must do)
    _SUSPENDED: (
        "not reset: the user is SUSPENDED in Okta and cannot sign in now, but the leaked "
        "password signs in again once the user is unsuspended (Okta resets no suspended user; "
        "unsuspending it here would undo an admin's block)",
        _UNSUSPEND_FIRST,
    ),
    _DEPROVISIONED: (
        "already deactivated: the user is DEPROVISIONED in Okta and nothing signs in; the leaked "
        "password was not replaced (Okta documents no reset of a deactivated user, and one that "
        "took effect could let it sign in again)",
        _ACTIVATE_FIRST,
    ),
}
_REFUSED = {  # a reset Okta refused for the status: (what the leaked password can do, to do)
    "RECOVERY": (
        "Okta refused a new reset while the user is in RECOVERY ({why}): the leaked password "
        "does not sign in until the pending reset sets a new one, but it was not replaced",
        "confirm with the user that the pending password reset is theirs and have it completed "
        "now; if it is not, reset the password in Okta again (Admin Console: Reset Password)",
    ),
    "PASSWORD_EXPIRED": (
        "Okta refused the reset while the user is PASSWORD_EXPIRED ({why}): the leaked password "
        "still signs in, and whoever signs in with it first chooses the next password",
        "reset the password in Okta now (Admin Console: Reset Password)",
    ),
}
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
        held = _HELD.get(user.status)
        if held is not None:  # no call: a dry run is told the same
            return StepResult(
                step=STEP_RESET, outcome=Outcome.SKIPPED, detail=held[0], todo=held[1]
            )
        if user.status in _UNACTIVATED:
            return await self._unactivated(user, dry_run=dry_run)
        if dry_run:
            what = (
                "start a password reset and revoke sessions"
                if self._reset_mode == "reset_password"
                else "replace the password with an expired temporary one"
            )
            if user.status == _LOCKED:
                what += " (unlocking the LOCKED_OUT user first if Okta refuses it)"
            return dry_run_result(STEP_RESET, what)
        first = await self._reset(user)
        if user.status in _TRIED:
            return self._tried(user, first)
        if user.status != _LOCKED:
            return self._reset_result(first)
        if isinstance(first, Reply) and first.ok:
            return await self._confirm_unlocked(user, self._reset_result(first))
        if not _wrong_status(first):
            return replace(self._reset_result(first), todo=_LOCKED_TODO)
        return await self._unlock_then_reset(user, first)

    async def _reset(self, user: IdentityUser) -> Reply | ProviderError:
        """The configured reset call, answered or not."""
        uid = urllib.parse.quote(user.user_id, safe="")
        if self._reset_mode == "reset_password":
            # The reset link goes to the user: with sendEmail=false it would be thrown away.
            path, params = "reset_password", {"sendEmail": "true", "revokeSessions": "true"}
        else:
            # The answer holds a temporary password: it is never read.
            path, params = "expire_password_with_temp_password", {"revokeSessions": "true"}
        return await self._send(f"/api/v1/users/{uid}/lifecycle/{path}", params)

    async def _send(self, path: str, params: dict[str, str]) -> Reply | ProviderError:
        try:
            return await self._rest.send("POST", f"{self._base}{path}", params=params)
        except ProviderError as exc:
            return exc

    def _reset_result(self, answer: Reply | ProviderError) -> StepResult:
        if isinstance(answer, ProviderError):
            return step_from_error(STEP_RESET, answer)
        if self._reset_mode == "reset_password":
            started = step_from_reply(
                STEP_RESET,
                answer,
                done_detail="password reset started (old password dead, link e-mailed), "
                "sessions revoked",
            )
            return with_change_required(
                started, "RECOVERY: a new password must be set through the e-mailed link"
            )
        replaced = step_from_reply(
            STEP_RESET,
            answer,
            done_detail="password replaced by a discarded temporary one, sessions revoked",
        )
        return with_change_required(replaced, "PASSWORD_EXPIRED: a change is required at sign-in")

    def _tried(self, user: IdentityUser, answer: Reply | ProviderError) -> StepResult:
        """A reset of a RECOVERY or PASSWORD_EXPIRED user, whose answer Okta does not document."""
        result = self._reset_result(answer)
        if result.outcome is Outcome.DONE:
            return replace(result, detail=f"{result.detail} (was {user.status})")
        if not _wrong_status(answer):
            return result
        detail, todo = _REFUSED[user.status]
        return replace(result, detail=detail.format(why=_answer_text(answer)), todo=todo)

    async def _unactivated(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        """A STAGED or PROVISIONED user: no password to replace, or one only an admin can
        replace before the user is activated."""
        if dry_run:
            return dry_run_result(
                STEP_RESET,
                f"not reset the {user.status} user (activation not completed): only check whether "
                "it has a password that would sign in once it is activated",
            )
        uid = urllib.parse.quote(user.user_id, safe="")
        try:
            found = await self._rest.lookup(f"{self._base}/api/v1/users/{uid}")
        except ProviderError as exc:
            return step_from_error(STEP_RESET, exc)
        if not isinstance(found, dict):
            return StepResult(step=STEP_RESET, outcome=Outcome.NOT_FOUND, detail="user not found")
        status = str(found.get("status") or "")
        if status != user.status:  # moved on since the lookup: read again on the next attempt
            return StepResult(
                step=STEP_RESET,
                outcome=Outcome.FAILED,
                retryable=True,
                detail=f"the user moved from {user.status} to {status or 'unknown'} meanwhile",
            )
        if "password" in (found.get("credentials") or {}):
            return StepResult(
                step=STEP_RESET,
                outcome=Outcome.SKIPPED,
                detail=f"not reset: the user is {status} in Okta (activation not completed), so "
                "the leaked password does not sign in yet, but the password set before "
                "activation signs in once the user is activated; Okta documents no reset before "
                "activation",
                todo="replace the password as the user is activated: activate it, then reset the "
                "password at once (Admin Console: Activate, then Reset Password)"
                if status == "STAGED"
                else "reset the password at once when the user completes activation (Admin "
                "Console: Reset Password)",
            )
        # Nothing took effect, and nothing needs to here: said as it is, never as a reset.
        return StepResult(
            step=STEP_RESET,
            outcome=Outcome.SKIPPED,
            detail=f"no Okta password to replace: the user is {status} (activation not "
            "completed) and has no password, so the leaked one does not sign in here",
            todo="nothing to replace in Okta; tell the user not to reuse the leaked password "
            "when setting one to activate the account",
        )

    async def _unlock_then_reset(
        self, user: IdentityUser, refused: Reply | ProviderError
    ) -> StepResult:
        """Okta refused the reset for the LOCKED_OUT status: unlock (the leaked password signs in
        again from here), then reset at once."""
        why = _answer_text(refused)
        uid = urllib.parse.quote(user.user_id, safe="")
        unlocked = await self._send(f"/api/v1/users/{uid}/lifecycle/unlock", {})
        if not (isinstance(unlocked, Reply) and unlocked.ok):
            failed = (
                step_from_error(STEP_RESET, unlocked)
                if isinstance(unlocked, ProviderError)
                else step_from_reply(STEP_RESET, unlocked, done_detail="")
            )
            return replace(
                failed,
                detail=f"Okta refused the reset of the LOCKED_OUT user ({why}) and the unlock "
                f"({failed.detail})",
                todo=_LOCKED_TODO,
            )
        again = self._reset_result(await self._reset(user))
        if again.outcome is Outcome.DONE:
            return replace(
                again,
                detail=f"unlocked (Okta refused the reset while LOCKED_OUT: {why}), then "
                f"{again.detail}",
            )
        return replace(
            again,
            detail=f"unlocked (Okta refused the reset while LOCKED_OUT: {why}), then the reset "
            f"failed: {again.detail}",
            todo="the user is unlocked in Okta and the leaked password signs in again: "
            "reset the password in Okta now",
        )

    async def _confirm_unlocked(self, user: IdentityUser, accepted: StepResult) -> StepResult:
        """Okta accepted a reset (or an expiry) of a LOCKED_OUT user: whether that replaced (or
        expired) the password is not documented, so read the user back; still LOCKED_OUT is not
        done."""
        what = "reset" if accepted.step == STEP_RESET else "expiry"
        uid = urllib.parse.quote(user.user_id, safe="")
        try:
            found = await self._rest.lookup(f"{self._base}/api/v1/users/{uid}")
        except ProviderError as exc:
            return replace(
                step_from_error(accepted.step, exc),
                detail=f"Okta accepted the {what} of the LOCKED_OUT user; reading it back "
                f"failed ({exc})",
                todo=_LOCKED_TODO,
                also=(),
            )
        status = found.get("status") if isinstance(found, dict) else None
        if status == _LOCKED or not isinstance(status, str):
            return StepResult(
                step=accepted.step,
                outcome=Outcome.SKIPPED,
                detail=f"Okta accepted the {what} but the user is {status or 'unknown'}: its "
                f"documentation does not say whether the password of a LOCKED_OUT user was "
                f"{'replaced' if what == 'reset' else 'expired'}",
                request_id=accepted.request_id,
                todo=_LOCKED_TODO,
            )
        return replace(accepted, detail=f"{accepted.detail} (was LOCKED_OUT, now {status})")

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
        where = user.mastered_in or "Okta"
        if user.status in _HELD or user.status in _UNACTIVATED:
            lifted = {_SUSPENDED: "unsuspended", _DEPROVISIONED: "activated again"}
            when = (
                "now (the password works there whatever the user's status in Okta)"
                if user.mastered_in
                else f"when the user is {lifted.get(user.status, 'activated')}"
            )
            return StepResult(
                step=STEP_REQUIRE_CHANGE,
                outcome=Outcome.SKIPPED,
                detail=f"not required: the user is {user.status} in Okta, which documents no "
                "password expiry in that status; one that took effect could let the user sign in",
                todo=f"require a password change in {where} {when}",
            )
        settled = _ALREADY_CHANGING.get(user.status)
        if settled:
            return StepResult(step=STEP_REQUIRE_CHANGE, outcome=Outcome.DONE, detail=settled)
        if dry_run:
            return dry_run_result(STEP_REQUIRE_CHANGE, "expire the password")
        uid = urllib.parse.quote(user.user_id, safe="")
        reach = " (Okta expires it in Active Directory too)" if user.mastered_in else ""
        result = await self._post_step(
            STEP_REQUIRE_CHANGE,
            "POST",
            f"/api/v1/users/{uid}/lifecycle/expire_password",
            {},
            f"password expired: a change is required at the next sign-in{reach}",
        )
        if result.outcome is Outcome.DONE and user.status == _LOCKED:
            return await self._confirm_unlocked(user, result)
        if result.outcome is Outcome.FAILED and user.status == _LOCKED:
            return replace(
                result,
                todo=f"the user is LOCKED_OUT in Okta: require a password change in {where} "
                "(Okta does not unlock directory-sourced users)"
                if user.mastered_in
                else _LOCKED_TODO,
            )
        return result

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
            already = (
                "already deactivated (DEPROVISIONED)"
                if user.status == _DEPROVISIONED
                else "already suspended"
            )
            return StepResult(
                step=STEP_BLOCK, outcome=Outcome.DONE, detail=f"{already}: cannot sign in"
            )
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


def _wrong_status(answer: Reply | ProviderError) -> bool:
    """Okta's refusal of a lifecycle call for the user's current status."""
    if not isinstance(answer, Reply) or answer.status != 403:
        return False
    body = answer.json()
    return isinstance(body, dict) and body.get("errorCode") == _WRONG_STATUS


def _answer_text(answer: Reply | ProviderError) -> str:
    return str(answer) if isinstance(answer, ProviderError) else error_detail(answer)
