"""LDAP responder: Active Directory (unicodePwd, pwdLastSet, userAccountControl) and OpenLDAP ppolicy."""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar, Literal, Self, TypeVar

from pydantic import Field

with warnings.catch_warnings():
    # ldap3 2.9.1 imports names newer pyasn1 releases deprecate (`tagMap`...): harmless.
    warnings.filterwarnings("ignore", r".* is deprecated\. Please use .*", DeprecationWarning)
    from ldap3 import BASE, MODIFY_REPLACE, NONE, SUBTREE, Connection, Server, Tls
    from ldap3.core.exceptions import LDAPCommunicationError, LDAPException, LDAPStartTLSError
    from ldap3.utils.conv import escape_filter_chars

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
)
from monitor.retry import RetryPolicy, Sleep, TryAgain, retry_call
from monitor.settings import Section, SettingError, load_section, secret_from_env
from monitor.types import Outcome

log = logging.getLogger(__name__)

T = TypeVar("T")
KINDS = ("openldap", "ad")
DEFAULT_FILTERS = {
    "openldap": "(&(objectClass=inetOrgPerson)(|(uid={login})(mail={login})(mail={email})))",
    "ad": "(&(objectCategory=person)(objectClass=user)"
    "(|(sAMAccountName={login})(userPrincipalName={login})(mail={login})(mail={email})))",
}
ATTRIBUTES = {
    "openldap": ["uid", "mail", "pwdChangedTime", "createTimestamp", "pwdAccountLockedTime"],
    "ad": ["sAMAccountName", "userPrincipalName", "mail", "pwdLastSet", "userAccountControl"],
}
LOCKED_FOREVER = "000001010000Z"  # ppolicy: permanently locked (needs pwdLockout: TRUE)
UAC_DISABLED = 0x2
UAC_DONT_EXPIRE_PASSWORD = 0x10000  # "password never expires": pwdLastSet=0 ignored
UF_PASSWORD_EXPIRED = 0x800000  # msDS-User-Account-Control-Computed: change required
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_NO_SUCH_OBJECT = 32
SECTION = "responders.ldap"


class LdapSection(Section):
    """`[responders.ldap]`: directory URL and kind, service bind, where users live, TLS."""

    url: str = Field(min_length=1, description="Directory URL (`ldap://` or `ldaps://`).")
    kind: Literal["openldap", "ad"] = Field(description="`openldap` or `ad` (Active Directory).")
    bind_dn: str = Field(min_length=1, description="Service account DN.")
    bind_password_env: str = Field(
        min_length=1, description="Variable holding the service account's password."
    )
    base_dn: str = Field(min_length=1, description="Where users live.")
    user_filter: str | None = Field(default=None, description="Extra LDAP filter for users.")
    start_tls: bool = Field(default=False, description="Upgrade `ldap://` with StartTLS.")
    ca_file: str | None = Field(default=None, description="CA bundle to verify the server.")
    tls_verify: bool = Field(default=True, description="Verify the server's certificate.")
    disable_on_revoke: bool = Field(
        default=False, description="Disable the account when sessions must be revoked."
    )
    timeout: float = Field(default=10.0, ge=0.001, description="Seconds per operation.")
    max_retries: int = Field(default=2, ge=0, description="Retries of a failed operation.")
    backoff_base: float = Field(
        default=0.5, ge=0, description="First retry delay, in seconds (doubles each time)."
    )


def filetime_to_datetime(value: int) -> datetime | None:
    """AD FILETIME (100-ns ticks since 1601-01-01 UTC) → datetime; 0/-1/garbage → None."""
    if value <= 0 or value >= 0x7FFFFFFFFFFFFFFF:
        return None
    try:
        return _FILETIME_EPOCH + timedelta(microseconds=value // 10)
    except OverflowError:
        return None


def parse_generalized_time(value: str) -> datetime | None:
    """LDAP GeneralizedTime (`20261122100100Z`, fractions and offsets allowed) → tz-aware."""
    text = value.strip()
    if len(text) < 10 or not text[:10].isdigit():
        return None
    tz = UTC
    if text.endswith("Z"):
        text = text[:-1]
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        sign = 1 if text[-5] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(text[-4:-2]), minutes=int(text[-2:])))
        text = text[:-5]
    main, _, fraction = text.replace(",", ".").partition(".")
    main = main.ljust(14, "0")
    try:
        when = datetime.strptime(main[:14], "%Y%m%d%H%M%S").replace(tzinfo=tz)
    except ValueError:
        return None
    if fraction.isdigit():
        when += timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
    return when.astimezone(UTC)


def _first(attrs: Mapping[str, Any], name: str) -> str | None:
    for key, values in attrs.items():
        if key.lower() == name.lower() and values:
            raw = values[0]
            return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return None


class LdapResponder:
    """One directory; each operation opens its own connection in a worker thread."""

    name: ClassVar[str] = "ldap"

    def __init__(
        self,
        *,
        url: str,
        kind: str,
        bind_dn: str,
        bind_password: str,
        base_dn: str,
        user_filter: str | None = None,
        start_tls: bool = False,
        ca_file: str | None = None,
        tls_verify: bool = True,
        disable_on_revoke: bool = False,
        timeout: float = 10.0,
        max_retries: int = 2,
        backoff_base: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if kind not in KINDS:
            raise SettingError(SECTION, "kind", f"must be one of {', '.join(KINDS)}")
        secure = url.lower().startswith("ldaps://") or start_tls
        if kind == "ad" and not secure:
            raise SettingError(SECTION, "url", "AD password writes need ldaps:// or start_tls")
        tls = None
        if secure:
            tls = Tls(
                validate=ssl.CERT_REQUIRED if tls_verify else ssl.CERT_NONE,
                ca_certs_file=ca_file,
                version=ssl.PROTOCOL_TLS_CLIENT,
            )
        self._server = Server(url, get_info=NONE, connect_timeout=timeout, tls=tls)
        self._kind = kind
        self._bind_dn = bind_dn
        self._bind_password = bind_password
        self._base_dn = base_dn
        self._filter = user_filter or DEFAULT_FILTERS[kind]
        self._start_tls = start_tls
        self._disable_on_revoke = disable_on_revoke
        self._timeout = timeout
        self._policy = RetryPolicy(attempts=max_retries + 1, base=backoff_base, cap=30.0)
        self._sleep = sleep

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], env: Mapping[str, str], *, sleep: Sleep = asyncio.sleep
    ) -> Self:
        s = load_section(LdapSection, section, section=SECTION)
        return cls(
            url=s.url,
            kind=s.kind,
            bind_dn=s.bind_dn,
            bind_password=secret_from_env(
                SECTION, "bind_password_env", s.bind_password_env, env, strip=False
            ),
            base_dn=s.base_dn,
            user_filter=s.user_filter or None,
            start_tls=s.start_tls,
            ca_file=s.ca_file or None,
            tls_verify=s.tls_verify,
            disable_on_revoke=s.disable_on_revoke,
            timeout=s.timeout,
            max_retries=s.max_retries,
            backoff_base=s.backoff_base,
            sleep=sleep,
        )

    # -- plumbing ---------------------------------------------------------------------------

    def _connect(self) -> Connection:
        conn = Connection(
            self._server,
            user=self._bind_dn,
            password=self._bind_password,
            receive_timeout=max(1, math.ceil(self._timeout)),  # ldap3 packs an int
            raise_exceptions=False,
        )
        try:
            conn.open()
        except LDAPException:
            if conn.socket is not None:  # ldap3 leaves a refused socket open
                conn.socket.close()
            raise
        if self._start_tls and not conn.start_tls():
            conn.unbind()
            raise ProviderError("ldap: StartTLS refused", retryable=False)
        if not conn.bind():
            code = conn.result.get("result")
            conn.unbind()
            raise ProviderError(
                f"ldap: service bind refused (result {code})", retryable=False, status=code
            )
        return conn

    async def _run(self, op: Callable[[Connection], T]) -> T:
        """Run `op` on a fresh bound connection in a thread; retry connection-level failures."""

        def work() -> T:
            conn = self._connect()
            try:
                return op(conn)
            finally:
                conn.unbind()

        async def attempt() -> T:
            try:
                return await asyncio.to_thread(work)
            except (LDAPCommunicationError, LDAPStartTLSError) as exc:
                raise TryAgain(type(exc).__name__) from None
            except LDAPException as exc:
                raise ProviderError(f"ldap: {type(exc).__name__}", retryable=False) from None

        return await retry_call(attempt, policy=self._policy, what="ldap", sleep=self._sleep)

    @staticmethod
    def _result(conn: Connection) -> tuple[int, str]:
        res = conn.result or {}
        return int(res.get("result", 80)), str(res.get("description", ""))

    def _failed(self, step: str, conn: Connection) -> StepResult:
        code, desc = self._result(conn)
        if code == _NO_SUCH_OBJECT:
            return StepResult(step=step, outcome=Outcome.NOT_FOUND, detail="entry not found")
        return StepResult(
            step=step,
            outcome=Outcome.FAILED,
            retryable=code in (51, 52, 53),
            detail=f"ldap result {code} {desc}".strip(),
        )

    async def _step(self, step: str, op: Callable[[Connection], StepResult]) -> StepResult:
        try:
            return await self._run(op)
        except ProviderError as exc:
            return StepResult(
                step=step, outcome=Outcome.FAILED, retryable=exc.retryable, detail=str(exc)
            )

    # -- lookup -----------------------------------------------------------------------------

    def _user(self, dn: str, attrs: Mapping[str, Any], login: str) -> IdentityUser:
        if self._kind == "ad":
            raw = _first(attrs, "pwdLastSet")
            changed = filetime_to_datetime(int(raw)) if raw and raw.lstrip("-").isdigit() else None
            uac_raw = _first(attrs, "userAccountControl")
            uac = int(uac_raw) if uac_raw and uac_raw.isdigit() else 0
            return IdentityUser(
                provider=self.name,
                user_id=dn,
                login=_first(attrs, "userPrincipalName")
                or _first(attrs, "sAMAccountName")
                or login,
                email=_first(attrs, "mail"),
                password_changed_at=changed,
                external=False,
                enabled=not uac & UAC_DISABLED,
            )
        stamp = _first(attrs, "pwdChangedTime") or _first(attrs, "createTimestamp")
        return IdentityUser(
            provider=self.name,
            user_id=dn,
            login=_first(attrs, "uid") or login,
            email=_first(attrs, "mail"),
            password_changed_at=parse_generalized_time(stamp) if stamp else None,
            external=False,
            enabled=_first(attrs, "pwdAccountLockedTime") is None,
        )

    async def find_user(self, account: AccountRef) -> IdentityUser | None:
        login = account.login or account.email or ""
        if not login and not account.idp_user_id:
            return None
        attributes = ATTRIBUTES[self._kind]
        if self._kind == "openldap":
            attributes = [*attributes, "pwdReset"]

        def op(conn: Connection) -> IdentityUser | None:
            if account.idp_user_id:
                conn.search(account.idp_user_id, "(objectClass=*)", BASE, attributes=attributes)
            else:
                flt = self._filter.format(
                    login=escape_filter_chars(login),
                    email=escape_filter_chars(account.email or login),
                )
                conn.search(self._base_dn, flt, SUBTREE, attributes=attributes, size_limit=2)
            code, _ = self._result(conn)
            if code not in (0, 4, _NO_SUCH_OBJECT):
                raise ProviderError(f"ldap: search answered result {code}", status=code)
            entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
            if not entries:
                return None
            if len(entries) > 1:
                raise ProviderError("ldap: several entries match that login", retryable=False)
            return self._user(entries[0]["dn"], entries[0]["raw_attributes"], login)

        return await self._run(op)

    # -- containment ------------------------------------------------------------------------

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        """A random password, then the change required in the same connection (its own
        outcome, in `also`)."""
        dn = user.user_id
        if self._kind == "ad":
            if dry_run:
                return dry_run_result(STEP_RESET, "set a random unicodePwd and pwdLastSet=0")

            def ad_op(conn: Connection) -> StepResult:
                if not conn.extend.microsoft.modify_password(dn, random_password()):
                    return self._failed(STEP_RESET, conn)
                return _set(self._ad_require(conn, dn))

            return await self._step(STEP_RESET, ad_op)
        if dry_run:
            return dry_run_result(STEP_RESET, "set a random password (RFC 3062) and pwdReset")

        def openldap_op(conn: Connection) -> StepResult:
            conn.extend.standard.modify_password(dn, new_password=random_password())
            if self._result(conn)[0] != 0:
                return self._failed(STEP_RESET, conn)
            return _set(self._openldap_require(conn, dn))

        return await self._step(STEP_RESET, openldap_op)

    async def require_change(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        dn = user.user_id
        if dry_run:
            what = "set pwdLastSet=0" if self._kind == "ad" else "set pwdReset"
            return dry_run_result(STEP_REQUIRE_CHANGE, what)
        if self._kind == "ad":
            return await self._step(STEP_REQUIRE_CHANGE, lambda c: self._ad_require(c, dn))
        return await self._step(STEP_REQUIRE_CHANGE, lambda c: self._openldap_require(c, dn))

    def _openldap_require(self, conn: Connection, dn: str) -> StepResult:
        """ppolicy sets pwdReset when an administrator sets a password (olcPPolicyUseLockout
        aside); otherwise it is set here."""
        flag = self._attribute(conn, dn, "pwdReset")
        if (flag or "").upper() == "TRUE":
            return StepResult(
                step=STEP_REQUIRE_CHANGE,
                outcome=Outcome.DONE,
                detail="ppolicy requires a change (pwdReset)",
            )
        if conn.modify(dn, {"pwdReset": [(MODIFY_REPLACE, ["TRUE"])]}):
            return StepResult(
                step=STEP_REQUIRE_CHANGE, outcome=Outcome.DONE, detail="pwdReset set explicitly"
            )
        code, _ = self._result(conn)
        log.warning("pwdReset could not be set", extra={"provider": self.name, "result": code})
        failed = self._failed(STEP_REQUIRE_CHANGE, conn)
        return StepResult(
            step=STEP_REQUIRE_CHANGE,
            outcome=Outcome.FAILED,
            retryable=failed.retryable,
            detail=f"pwdReset could not be set ({failed.detail})",
            todo="require a password change for this entry (pwdReset: TRUE, ppolicy overlay)",
        )

    def _ad_require(self, conn: Connection, dn: str) -> StepResult:
        """pwdLastSet=0, read back from the DC's computed flags.

        AD ignores pwdLastSet=0 while DONT_EXPIRE_PASSWORD is set, so the flag is cleared in
        the same modify: the change must be required, and the detail says the flag was
        cleared (an admin restores it for a service account once its new password is set).
        """
        uac = self._uac(conn, dn)
        changes: dict[str, Any] = {"pwdLastSet": [(MODIFY_REPLACE, [0])]}
        cleared = uac is not None and bool(uac & UAC_DONT_EXPIRE_PASSWORD)
        if cleared and uac is not None:
            changes["userAccountControl"] = [(MODIFY_REPLACE, [uac & ~UAC_DONT_EXPIRE_PASSWORD])]
        if not conn.modify(dn, changes):
            failed = self._failed(STEP_REQUIRE_CHANGE, conn)
            return StepResult(
                step=STEP_REQUIRE_CHANGE,
                outcome=Outcome.FAILED,
                retryable=failed.retryable,
                detail=f"the change could not be required ({failed.detail})",
                todo="tick 'User must change password at next logon' for this account",
            )
        computed = self._attribute(conn, dn, "msDS-User-Account-Control-Computed")
        if computed is not None and computed.isdigit() and not int(computed) & UF_PASSWORD_EXPIRED:
            return StepResult(
                step=STEP_REQUIRE_CHANGE,
                outcome=Outcome.FAILED,
                detail="the directory does not require a change "
                "(msDS-User-Account-Control-Computed lacks PASSWORD_EXPIRED)",
                todo="tick 'User must change password at next logon' for this account",
            )
        detail = "change required at next logon (pwdLastSet=0)"
        if cleared:
            detail += "; 'password never expires' cleared (AD ignores pwdLastSet=0 under it)"
        return StepResult(step=STEP_REQUIRE_CHANGE, outcome=Outcome.DONE, detail=detail)

    @staticmethod
    def _attribute(conn: Connection, dn: str, name: str) -> str | None:
        conn.search(dn, "(objectClass=*)", BASE, attributes=[name])
        entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        return _first(entries[0]["raw_attributes"], name) if entries else None

    def _uac(self, conn: Connection, dn: str) -> int | None:
        raw = self._attribute(conn, dn, "userAccountControl")
        return int(raw) if raw and raw.isdigit() else None

    def _disable_op(
        self, user: IdentityUser, detail: str, step: str
    ) -> Callable[[Connection], StepResult]:
        def op(conn: Connection) -> StepResult:
            if self._kind == "ad":
                conn.search(
                    user.user_id, "(objectClass=*)", BASE, attributes=["userAccountControl"]
                )
                entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
                if not entries:
                    return (
                        self._failed(step, conn)
                        if self._result(conn)[0]
                        else StepResult(
                            step=step, outcome=Outcome.NOT_FOUND, detail="entry not found"
                        )
                    )
                raw = _first(entries[0]["raw_attributes"], "userAccountControl") or "512"
                uac = int(raw) | UAC_DISABLED
                changes: dict[str, Any] = {"userAccountControl": [(MODIFY_REPLACE, [uac])]}
            else:
                changes = {"pwdAccountLockedTime": [(MODIFY_REPLACE, [LOCKED_FOREVER])]}
            if not conn.modify(user.user_id, changes):
                return self._failed(step, conn)
            return StepResult(step=step, outcome=Outcome.DONE, detail=detail)

        return op

    async def revoke_sessions(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if self._kind == "ad" and self._disable_on_revoke:
            if dry_run:
                return dry_run_result(STEP_REVOKE, "disable the account (AD has no sessions)")
            return await self._step(
                STEP_REVOKE,
                self._disable_op(
                    user, "no sessions in AD: account disabled (fast kill)", STEP_REVOKE
                ),
            )
        detail = "the directory keeps no sessions to revoke"
        todo = "end the user's sessions in the applications that sign in against this directory"
        if self._kind == "ad":
            todo += " (or set disable_on_revoke: disabling the account is AD's fast kill)"
        return StepResult(step=STEP_REVOKE, outcome=Outcome.SKIPPED, detail=detail, todo=todo)

    async def block(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if not user.enabled:
            return StepResult(step=STEP_BLOCK, outcome=Outcome.DONE, detail="already disabled")
        what = "disable the account" if self._kind == "ad" else "lock the account (ppolicy)"
        if dry_run:
            return dry_run_result(STEP_BLOCK, what)
        detail = (
            "account disabled" if self._kind == "ad" else "account locked (pwdAccountLockedTime)"
        )
        return await self._step(STEP_BLOCK, self._disable_op(user, detail, STEP_BLOCK))

    async def aclose(self) -> None:
        return None


def _set(change: StepResult) -> StepResult:
    """The reset took effect; whether the change is required is its own outcome."""
    return StepResult(
        step=STEP_RESET, outcome=Outcome.DONE, detail="random password set", also=(change,)
    )
