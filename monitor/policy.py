"""What to do with a match: contain, block, ask a human, alert or suppress (pure, table-driven).

Also the `[policy]` table's section models, which `PolicyConfig.from_mapping` loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from monitor.config_fields import Table
from monitor.freshness import INFECTION_WINDOW
from monitor.normalize import canonical_login
from monitor.settings import Section, SettingError, load_section
from monitor.types import CredentialKind, Match, Reason, Severity


class Decision(StrEnum):
    CONTAIN = "contain"  # random password, forced change, sessions revoked
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
    """`[policy]`: `enforce` (false = dry run), `rules.<kind>.<severity> = decision`, `suppress`,
    and how far before its first sighting an infection date is believed (`infection_window`)."""

    enforce: bool = False
    rules: Mapping[MatchKind, Mapping[Severity, Decision]] = field(
        default_factory=lambda: DEFAULT_RULES
    )
    suppress: Mapping[str, str] = field(default_factory=dict)  # canonical login → reason
    infection_window: timedelta = INFECTION_WINDOW  # see monitor.freshness.leak_date

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, file: Path | str | None = None
    ) -> PolicyConfig:
        """The `[policy]` table validated; errors name `file` (when given), the table and the key."""
        section = load_section(PolicySection, data, section="policy", file=file)
        rules = {kind: dict(table) for kind, table in DEFAULT_RULES.items()}
        given = load_section(RulesSection, section.rules, section="policy.rules", file=file)
        for kind in MatchKind:
            table = getattr(given, kind.value)
            if table is None:
                continue
            where = f"policy.rules.{kind.value}"
            cells = load_section(SeverityRules, _severity_keys(table), section=where, file=file)
            for severity in Severity:
                decision = getattr(cells, severity.label)
                if decision is not None:
                    rules[kind][severity] = Decision(decision)
        return cls(
            enforce=section.enforce,
            rules=MappingProxyType({k: MappingProxyType(v) for k, v in rules.items()}),
            suppress=MappingProxyType(_suppress(section.suppress, file)),
            infection_window=timedelta(days=section.infection_window_days),
        )


MIN_WINDOW_DAYS, MAX_WINDOW_DAYS = 1, 3650  # a day to ten years


class PolicySection(Section):
    """`[policy]`: enforcement switch, rule overrides, suppression list."""

    enforce: bool = Field(
        default=False,
        description="Contain automatically where the rules say so; when false, every containment is a dry run.",
    )
    rules: Table = Field(
        default_factory=dict,
        description="Per match kind (`portal_account`, `host`, ...), a `[policy.rules.<kind>]` table.",
    )
    suppress: Table = Field(
        default_factory=dict, description='Logins never acted on: `login = "reason"`.'
    )  # login = reason
    infection_window_days: int = Field(
        default=INFECTION_WINDOW.days,
        ge=MIN_WINDOW_DAYS,
        le=MAX_WINDOW_DAYS,
        description="An infection date (from the victim's clock) more days than this before the "
        "credential's first sighting is doubted: the first sighting is the leak date then "
        f"({MIN_WINDOW_DAYS} to {MAX_WINDOW_DAYS}).",
    )


class RulesSection(Section):
    """`[policy.rules]`: one optional table per match kind."""

    portal_account: Table | None = None
    portal_unknown: Table | None = None
    portal_cookie: Table | None = None
    host_cookie: Table | None = None
    host: Table | None = None
    login_elsewhere: Table | None = None
    email_domain: Table | None = None
    hash: Table | None = None
    account: Table | None = None


def _configurable(value: str) -> str:
    if value not in CONFIGURABLE:
        raise ValueError("must be contain, approve or alert")
    return value


Configurable = Annotated[str, AfterValidator(_configurable)]


class SeverityRules(Section):
    """`[policy.rules.<kind>]`: severity = decision (contain, approve or alert)."""

    low: Configurable | None = Field(
        default=None, description="Decision for low-severity matches: contain, approve or alert."
    )
    medium: Configurable | None = Field(
        default=None, description="Decision for medium-severity matches: contain, approve or alert."
    )
    high: Configurable | None = Field(
        default=None, description="Decision for high-severity matches: contain, approve or alert."
    )
    critical: Configurable | None = Field(
        default=None, description="Decision for critical matches: contain, approve or alert."
    )


def _severity_keys(table: Mapping[str, Any]) -> dict[str, Any]:
    """Severity keys in any case and spacing (`High`, ` critical`), as `Severity.parse` reads them."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = str(key).strip().lower()
        out[name if name.upper() in Severity.__members__ else key] = value
    return out


def _suppress(table: Mapping[str, Any], file: Path | str | None) -> dict[str, str]:
    """`[policy.suppress]`: canonical login → reason; each login needs a usable name and a reason."""
    suppress: dict[str, str] = {}
    for login, reason in table.items():
        if not isinstance(reason, str) or not reason.strip():
            raise SettingError("policy.suppress", str(login), "needs a reason", file=file)
        key = canonical_login(str(login))
        if not key:
            raise SettingError("policy.suppress", str(login), "not a usable login", file=file)
        suppress[key] = reason.strip()
    return suppress


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    decision: Decision
    kind: MatchKind
    severity: Severity
    dry_run: bool  # containment changes nothing while the policy does not enforce
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


def decide(match: Match, config: PolicyConfig) -> Verdict:
    """Suppression first, then the table. Whether the password is stale and whether the user is
    external are facts of the identity provider: containment (monitor.containment) applies them."""
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
    return Verdict(
        decision=decision, kind=kind, severity=match.severity, dry_run=dry_run, reason=reason
    )
