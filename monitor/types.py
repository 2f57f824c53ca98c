"""Frozen records that flow through the pipeline: secrets, leaked credentials, matches, exposures, actions."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from monitor.hint import mask
from monitor.keyed import keyed_hash
from monitor.normalize import safe_url


class Secret:
    """A leaked password, cookie value or hash. Never printed, logged or stored in clear.

    `str()`/`repr()` are masked. The only ways out are an HMAC fingerprint and a masked hint.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        return f"Secret({self.hint!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(
            self._value.encode("utf-8", "surrogateescape"),
            other._value.encode("utf-8", "surrogateescape"),
        )

    def __hash__(self) -> int:
        return hash(("Secret", hashlib.sha256(self._raw()).digest()))

    def __reduce__(self) -> Any:
        raise TypeError("Secret cannot be pickled")

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def _raw(self) -> bytes:
        return self._value.encode("utf-8", "surrogateescape")

    def fingerprint(self, key: bytes) -> str:
        """HMAC-SHA256 of the value, hex. Stable for one key; useless without it."""
        return keyed_hash(key, self._raw())

    @property
    def hint(self) -> str:
        """The masked hint (monitor.hint): at most two characters and a length bucket."""
        return mask(self._value)

    def expose_for_hash_only(self) -> bytes:
        """The raw bytes, for callers that hash them (fingerprints). Never log the result."""
        return self._raw()


# The shapes an identifier of the organisation's may take to be shown as it is (not defanged).
_PLAIN_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}\.)*[a-z0-9-]{1,63}")
_PLAIN_LOGIN = re.compile(r"[a-z0-9][a-z0-9._%+'-]{0,63}(?:@" + _PLAIN_HOST.pattern + ")?")


def plain_login(text: str) -> bool:
    """A plain user name or e-mail address: nothing in it a channel could read as markup or
    a link besides the address itself."""
    return _PLAIN_LOGIN.fullmatch(text) is not None


class CredentialKind(StrEnum):
    PASSWORD = "password"  # noqa: S105
    COOKIE = "cookie"
    HASH = "hash"
    ACCOUNT = "account"  # an exposure API says the account leaked; no secret known


class Reason(StrEnum):
    HOST = "host"
    PORTAL = "portal"
    LOGIN = "login"
    EMAIL_DOMAIN = "email_domain"


class Severity(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]


@dataclass(frozen=True, slots=True, kw_only=True)
class Victim:
    """The infected machine, as far as the log tells. The machine id is stored hashed."""

    machine_id_hash: str | None = None
    family: str | None = None
    country: str | None = None


UNKNOWN_FORMAT = "unknown format"
"""The one problem whose input is not skipped: a text input whose head lines do not parse is
still read line by line (credential lines may follow a banner or notes), and said so."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Input a feed skipped, or read without recognising its format: where (`origin`) and why
    (`reason`, a constant phrase, no secret)."""

    origin: str
    reason: str

    @property
    def skipped(self) -> bool:
        return skipped(self.reason)


def skipped(reason: str) -> bool:
    """Was the input of a problem with this reason skipped (all but an unknown format)?"""
    return reason != UNKNOWN_FORMAT


@dataclass(frozen=True, slots=True, kw_only=True)
class LeakedCredential:
    """One credential (or session cookie, hash, account) read from a source.

    `url` is always the safe form (`monitor.normalize.safe_url`), whatever the feed passed."""

    kind: CredentialKind
    url: str
    host: str  # canonical host (lower-case, A-label, no port/userinfo/trailing dot); "" if none
    path: str  # URL path, "" if none
    login: str  # canonical login (lower-case, trimmed); "" if none
    secret: Secret | None
    origin: str  # "dump.zip!PC1/Passwords.txt" (members chained with "!")
    line: int | None = None
    feed: str = "file"
    infected_at: datetime | None = None
    # Stealer logs: the earliest plausible date the stealer's own files in the victim folder
    # carry; an infection date before it is doubted (monitor.freshness.leak_date).
    files_dated: datetime | None = None
    victim: Victim | None = None
    cookie_name: str | None = None
    cookie_expires: datetime | None = None
    first_seen: datetime | None = None  # exposure APIs: when the source first reported it
    # Stealer logs: the victim folder this file sits in ("dump.zip!PC1"); the pipeline groups
    # a victim's records by it (monitor.victims). None for text bases and APIs.
    victim_folder: str | None = None
    hash_algorithm: str | None = None  # kind HASH: "bcrypt", "md5", "sha1", "argon2"...

    def __post_init__(self) -> None:
        # The one place a leaked URL is cleaned: userinfo, query, fragment, `;params` and
        # token-looking segments never reach the store, a log, an alert or JSON.
        object.__setattr__(self, "url", safe_url(self.url))

    def fingerprint(self, key: bytes) -> str:
        """The exposure's identity: one per (kind, host, login, secret[, cookie name]), keyed."""
        secret = self.secret.expose_for_hash_only() if self.secret is not None else b""
        parts = (self.kind.value, self.host, self.login, self.cookie_name or "")
        return keyed_hash(key, *(p.encode("utf-8", "surrogateescape") for p in parts), secret)


@dataclass(frozen=True, slots=True, kw_only=True)
class VictimInfo:
    """What a stealer log says about the machine behind one victim folder.

    A feed yields one per fact it reads (a system-info file, a dated folder name); the pipeline
    merges them per `folder`. `machine_id` is raw here and hashed before anything keeps it.
    """

    folder: str
    infected_at: datetime | None = None  # from the system-info file
    folder_date: datetime | None = None  # from the victim folder's name
    # The date one of the stealer's own files in the folder carries (archive entry date, file
    # time on disk), unchecked: the pipeline keeps the earliest plausible one per folder.
    files_dated: datetime | None = None
    machine_id: str | None = None
    family: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Partner:
    name: str
    email_domains: tuple[str, ...] = ()
    security_contact: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """A monitored account: a login we know, which partner it belongs to, and where it lives."""

    login: str
    partner: str | None = None
    idp: str | None = None
    idp_user_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Portal:
    url: str
    host: str
    path: str  # path prefix, "" for the whole host


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """A credential that belongs to the organisation or a partner, and why."""

    credential: LeakedCredential
    reasons: tuple[Reason, ...]
    severity: Severity
    domain: str | None = None  # the watched domain the host or e-mail falls under
    portal: str | None = None  # the portal URL hit
    partner: str | None = None
    account: Account | None = None


class ExposureStatus(StrEnum):
    NEW = "new"
    CONTAINED = "contained"
    PARTIAL = "partially_contained"  # some required containment steps took effect, not all
    NEEDS_ACTION = "needs_action"  # no required step took effect: a human must act
    STALE = "stale"
    DISMISSED = "dismissed"
    PENDING_APPROVAL = "pending_approval"


@dataclass(frozen=True, slots=True, kw_only=True)
class Exposure:
    """A stored, deduplicated match: one row per credential fingerprint."""

    id: int
    fingerprint: str
    kind: CredentialKind
    host: str
    login: str
    secret_hint: str | None
    secret_length: int | None
    reasons: tuple[Reason, ...]
    severity: Severity
    status: ExposureStatus
    domain: str | None
    portal: str | None
    partner: str | None
    account_login: str | None
    infected_at: datetime | None
    first_seen: datetime
    last_seen: datetime
    sightings: int
    cookie_name: str | None = None
    cookie_expires: datetime | None = None
    url: str = ""

    @property
    def own_login(self) -> bool:
        """The login is one of the organisation's (a monitored account's, or under a watched
        e-mail domain) and a plain name or address: shown as it is, for copying into the
        identity provider."""
        if Reason.LOGIN not in self.reasons and Reason.EMAIL_DOMAIN not in self.reasons:
            return False
        return plain_login(self.login)

    @property
    def own_host(self) -> bool:
        """The host is a watched domain's or a portal's (a plain host name): the organisation's."""
        watched = Reason.HOST in self.reasons or Reason.PORTAL in self.reasons
        return watched and _PLAIN_HOST.fullmatch(self.host) is not None

    @classmethod
    def from_row(cls, row: Any) -> Exposure:
        return cls(
            id=row["id"],
            fingerprint=row["fingerprint"],
            kind=CredentialKind(row["kind"]),
            host=row["host"],
            login=row["login"],
            secret_hint=row["secret_hint"],
            secret_length=row["secret_length"],
            reasons=tuple(Reason(r) for r in row["reasons"]),
            severity=Severity(row["severity"]),
            status=ExposureStatus(row["status"]),
            domain=row["domain"],
            portal=row["portal"],
            partner=row["partner"],
            account_login=row["account_login"],
            infected_at=row["infected_at"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            sightings=row["sightings"],
            cookie_name=row["cookie_name"],
            cookie_expires=row["cookie_expires"],
            url=row["url"],
        )


class Outcome(StrEnum):
    DONE = "done"
    DRY_RUN = "dry_run"
    NOT_FOUND = "not_found"
    FAILED = "failed"
    SKIPPED = "skipped"
    STARTED = (
        "started"  # recorded before a call whose effect must be recognised if its reply is lost
    )
    APPROVED = "approved"  # a human approved the containment (step `approval`)
    REJECTED = "rejected"  # a human rejected it (step `approval`, the reason in `detail`)


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """One containment or notification attempt and its outcome, kept as an audit trail."""

    id: int
    exposure_id: int | None  # None once the exposure was purged (its fingerprint stays)
    provider: str
    step: str
    outcome: Outcome
    retryable: bool
    decided_by: str
    detail: str
    request_id: str | None
    created_at: datetime
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Any) -> Action:
        return cls(
            id=row["id"],
            exposure_id=row["exposure_id"],
            provider=row["provider"],
            step=row["step"],
            outcome=Outcome(row["outcome"]),
            retryable=row["retryable"],
            decided_by=row["decided_by"],
            detail=row["detail"],
            request_id=row["request_id"],
            created_at=row["created_at"],
        )
