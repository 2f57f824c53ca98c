"""What to do with a match: contain, block, ask a human, alert or suppress (pure, table-driven)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from monitor.errors import ConfigError
from monitor.freshness import Freshness
from monitor.normalize import canonical_login
from monitor.types import CredentialKind, Match, Reason, Severity


class Decision(StrEnum):
    CONTAIN = "contain"  # random password, forced change, sessions revoked
    BLOCK = "block"  # external user: block sign-in here and alert (we cannot reset them)
    APPROVE = "approve"  # ask a human before containing
    ALERT = "alert"  # tell the admins, change nothing
    SUPPRESS = "suppress"  # known and accepted (former staff, test account): record only


class MatchKind(StrEnum):
    PORTAL_ACCOUNT = "portal_account"  # portal credential of a monitored account
    PORTAL_UNKNOWN = "portal_unknown"  # portal credential of an account we do not monitor
    PORTAL_COOKIE = "portal_cookie"  # session cookie for a portal host
    HOST_COOKIE = "host_cookie"  # session cookie for another watched host
    HOST = "host"  # credential for a watched host that is not a portal
    LOGIN_ELSEWHERE = "login_elsewhere"  # a monitored account's login on another site
    EMAIL_DOMAIN = "email_domain"  # an e-mail under a watched/partner domain on another site
    HASH = "hash"  # a password hash
    ACCOUNT = "account"  # an exposure API names the account, no secret known


CONFIGURABLE = (Decision.CONTAIN, Decision.APPROVE, Decision.ALERT)

_C, _P, _A = Decision.CONTAIN, Decision.APPROVE, Decision.ALERT
_L, _M, _H, _X = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL

DEFAULT_RULES: Mapping[MatchKind, Mapping[Severity, Decision]] = MappingProxyType(
    {
        MatchKind.PORTAL_ACCOUNT: {_X: _C, _H: _C, _M: _P, _L: _A},
        MatchKind.PORTAL_UNKNOWN: {_X: _P, _H: _P, _M: _A, _L: _A},
        MatchKind.PORTAL_COOKIE: {_X: _P, _H: _P, _M: _A, _L: _A},
        MatchKind.HOST_COOKIE: {_X: _A, _H: _A, _M: _A, _L: _A},
        MatchKind.HOST: {_X: _P, _H: _P, _M: _A, _L: _A},
        MatchKind.LOGIN_ELSEWHERE: {_X: _P, _H: _A, _M: _A, _L: _A},
        MatchKind.EMAIL_DOMAIN: {_X: _A, _H: _A, _M: _A, _L: _A},
        MatchKind.HASH: {_X: _A, _H: _A, _M: _A, _L: _A},
        MatchKind.ACCOUNT: {_X: _P, _H: _P, _M: _A, _L: _A},
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyConfig:
    """`[policy]`: `enforce` (false = dry run), `rules.<kind>.<severity> = decision`, `suppress`."""

    enforce: bool = False
    rules: Mapping[MatchKind, Mapping[Severity, Decision]] = field(
        default_factory=lambda: DEFAULT_RULES
    )
    suppress: Mapping[str, str] = field(default_factory=dict)  # canonical login → reason

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PolicyConfig:
        if not isinstance(data, Mapping):
            raise ConfigError("[policy] must be a table")
        for key in data:
            if key not in ("enforce", "rules", "suppress"):
                raise ConfigError(f"[policy] unknown key: {key}")
        enforce = data.get("enforce", False)
        if not isinstance(enforce, bool):
            raise ConfigError("[policy] enforce must be true or false")

        rules = {kind: dict(table) for kind, table in DEFAULT_RULES.items()}
        raw_rules = data.get("rules", {})
        if not isinstance(raw_rules, Mapping):
            raise ConfigError("[policy] rules must be a table")
        for kind_name, table in raw_rules.items():
            try:
                kind = MatchKind(kind_name)
            except ValueError:
                raise ConfigError(f"[policy.rules] unknown key: {kind_name}") from None
            if not isinstance(table, Mapping):
                raise ConfigError(f"[policy.rules] {kind_name} must be a table")
            for sev_name, decision_name in table.items():
                try:
                    severity = Severity.parse(str(sev_name))
                except KeyError:
                    raise ConfigError(
                        f"[policy.rules.{kind_name}] unknown key: {sev_name}"
                    ) from None
                try:
                    decision = Decision(decision_name)
                except ValueError:
                    decision = None
                if decision not in CONFIGURABLE:
                    raise ConfigError(
                        f"[policy.rules.{kind_name}] {sev_name} must be contain, approve or alert"
                    )
                rules[kind][severity] = Decision(decision_name)

        raw_suppress = data.get("suppress", {})
        if not isinstance(raw_suppress, Mapping):
            raise ConfigError("[policy] suppress must be a table of login = reason")
        suppress: dict[str, str] = {}
        for login, reason in raw_suppress.items():
            if not isinstance(reason, str) or not reason.strip():
                raise ConfigError(f"[policy.suppress] {login} needs a reason")
            key = canonical_login(str(login))
            if not key:
                raise ConfigError(f"[policy.suppress] {login!r} is not a usable login")
            suppress[key] = reason.strip()
        return cls(
            enforce=enforce,
            rules=MappingProxyType({k: MappingProxyType(v) for k, v in rules.items()}),
            suppress=MappingProxyType(suppress),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    decision: Decision
    kind: MatchKind
    severity: Severity
    dry_run: bool  # containment (CONTAIN/BLOCK) changes nothing while the policy does not enforce
    reason: str


def classify(match: Match) -> MatchKind:
    """The rule row a match falls under: portal beats host beats login beats e-mail domain."""
    cred = match.credential
    reasons = set(match.reasons)
    if cred.kind is CredentialKind.HASH:
        return MatchKind.HASH
    if cred.kind is CredentialKind.ACCOUNT:
        return MatchKind.ACCOUNT
    if cred.kind is CredentialKind.COOKIE:
        return MatchKind.PORTAL_COOKIE if Reason.PORTAL in reasons else MatchKind.HOST_COOKIE
    if Reason.PORTAL in reasons:
        return MatchKind.PORTAL_ACCOUNT if match.account is not None else MatchKind.PORTAL_UNKNOWN
    if Reason.HOST in reasons:
        return MatchKind.HOST
    if Reason.LOGIN in reasons or match.account is not None:
        return MatchKind.LOGIN_ELSEWHERE
    return MatchKind.EMAIL_DOMAIN


def decide(
    match: Match,
    config: PolicyConfig,
    *,
    freshness: Freshness | None = None,
    external: bool | None = None,
) -> Verdict:
    """Suppression first; then the table; stale never contains; external users are blocked."""
    kind = classify(match)
    dry_run = not config.enforce
    logins = [match.credential.login]
    if match.account is not None:
        logins.insert(0, match.account.login)
    for login in logins:
        why = config.suppress.get(canonical_login(login)) if login else None
        if why is not None:
            return Verdict(
                decision=Decision.SUPPRESS,
                kind=kind,
                severity=match.severity,
                dry_run=dry_run,
                reason=f"suppressed: {why}",
            )

    table = config.rules.get(kind) or DEFAULT_RULES[kind]
    decision = table.get(match.severity) or DEFAULT_RULES[kind][match.severity]
    reason = f"{kind.value} at {match.severity.label}"
    if freshness is Freshness.STALE:
        return Verdict(
            decision=Decision.ALERT,
            kind=kind,
            severity=Severity.LOW,
            dry_run=dry_run,
            reason="stale: password changed after the leak",
        )
    if external and decision is Decision.CONTAIN:
        decision = Decision.BLOCK
        reason += "; external account: block sign-in and contact the partner"
    elif external and decision is Decision.APPROVE:
        reason += "; external account: approval blocks sign-in"
    return Verdict(
        decision=decision, kind=kind, severity=match.severity, dry_run=dry_run, reason=reason
    )
