"""A domain's picture for an ad-hoc lookup: who its leaked credentials belong to, when and where.

Roles, for a domain D (label-boundary matching, as the matcher does — `d.evil.com`,
`notd.com` and `d.com.evil` are not D):

- **employee**: the login is an e-mail under D (`user@D`, `user@sub.D`), on any site;
- **user**: a credential for D's own sites whose login is a free-mail mailbox
  (`monitor/freemail.py`) or a bare username;
- **third party**: a credential for D's own sites whose login is another organisation's e-mail.

A credential for D's sites without a login (a session cookie, a password alone) has no role; it
is counted apart. Credentials and accounts are counted distinct; hosts, portals, months,
families, countries and origins count sightings. Nothing here holds a secret.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from monitor.feed import DomainAnswer
from monitor.freemail import is_free_mail
from monitor.normalize import email_domain, safe_url, under_domain
from monitor.store.records import DomainSighting
from monitor.types import CredentialKind, Match

SCHEMA_VERSION = 1  # of the JSON answer (monitor/lookup_schema.json)
TOP = 10  # rows of each ranked list
TOP_ACCOUNTS = 50
# Whether a leaked password is still in use needs the date each account last changed it, which
# only an identity provider knows; a lookup asks none, for any domain.
WINDOW_UNKNOWN = (
    "unknown: whether a password changed after the leak needs each account's last password "
    "change, which only an identity provider knows, and a lookup asks none"
)


class Role(StrEnum):
    EMPLOYEE = "employee"
    USER = "user"
    THIRD_PARTY = "third_party"


def role_of(domain: str, host: str, login: str) -> Role | None:
    """The role of a credential (canonical host and login) for `domain`; None when it has none."""
    scope = frozenset({domain})
    mail = email_domain(login)
    if mail and under_domain(mail, scope):
        return Role.EMPLOYEE
    if not login or not under_domain(host, scope):
        return None
    if not mail or is_free_mail(mail):
        return Role.USER
    return Role.THIRD_PARTY


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One sighting of a credential of the domain, from the store or the dump library."""

    identity: str  # one per credential (a keyed fingerprint): what "distinct" counts
    kind: str
    host: str
    login: str
    url: str  # already without userinfo, query, fragment or token-looking segments
    infected_at: datetime | None
    family: str | None
    country: str | None
    machine: str | None  # a keyed hash of the machine id
    origin: str | None  # the file it was read from ("dump.zip!PC1/Passwords.txt")


def finding_of_match(m: Match, key: bytes) -> Finding:
    c = m.credential
    victim = c.victim
    return Finding(
        identity=c.fingerprint(key),
        kind=c.kind.value,
        host=c.host,
        login=c.login,
        url=c.url,
        infected_at=c.infected_at,
        family=victim.family if victim else None,
        country=victim.country if victim else None,
        machine=victim.machine_id_hash if victim else None,
        origin=c.origin,
    )


def finding_of_sighting(s: DomainSighting) -> Finding:
    return Finding(
        identity=s.fingerprint,
        kind=s.kind,
        host=s.host,
        login=s.login,
        url=s.url,
        infected_at=s.infected_at,
        family=s.family,
        country=s.country,
        machine=s.victim_hash,
        origin=s.origin,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleCount:
    credentials: int = 0
    accounts: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountRow:
    login: str
    role: Role
    credentials: int


Ranked = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """What one side of a lookup (the store, or the dump library) knows about the domain."""

    sightings: int
    credentials: int
    accounts: int
    roles: Mapping[Role, RoleCount]
    no_login: int  # credentials for the domain's sites without a login (cookies mostly)
    machines: int
    first_infection: datetime | None
    latest_infection: datetime | None
    by_month: Ranked  # ("2025-06", sightings), in month order
    undated: int  # sightings without an infection date
    families: Ranked
    countries: Ranked
    hosts: Ranked
    portals: Ranked  # URLs of the domain's own sites, masked
    origins: Ranked  # files
    third_party_domains: Ranked  # e-mail domains of the third parties, by accounts
    top_accounts: tuple[AccountRow, ...]
    before_since: int  # sightings left out: infected before --since
    undated_left_out: int  # sightings left out: no infection date while --since was given

    @property
    def found(self) -> bool:
        return self.sightings > 0

    def counts(self) -> dict[str, int]:
        """Result counts only (no login, host or origin): what the audit line keeps."""
        out = {"sightings": self.sightings, "credentials": self.credentials}
        out["accounts"] = self.accounts
        for role in Role:
            out[role.value] = self.roles[role].credentials
        out["no_login"] = self.no_login
        return out


class Tally:
    """Folds findings into a Summary. Memory grows with what is found, never with the input."""

    def __init__(self, domain: str, *, since: datetime | None = None) -> None:
        self.domain = domain
        self.since = since
        self._scope = frozenset({domain})
        self._sightings = 0
        self._credentials: set[str] = set()
        self._role_credentials: dict[Role, set[str]] = {r: set() for r in Role}
        self._role_accounts: dict[Role, set[str]] = {r: set() for r in Role}
        self._account_role: dict[str, Role] = {}
        self._account_credentials: dict[str, set[str]] = {}
        self._no_login: set[str] = set()
        self._machines: set[str] = set()
        self._first: datetime | None = None
        self._latest: datetime | None = None
        self._months: Counter[str] = Counter()
        self._undated = 0
        self._families: Counter[str] = Counter()
        self._countries: Counter[str] = Counter()
        self._hosts: Counter[str] = Counter()
        self._portals: Counter[str] = Counter()
        self._origins: Counter[str] = Counter()
        self._third: dict[str, set[str]] = {}
        self._before_since = 0
        self._undated_left_out = 0

    def add_all(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            self.add(f)

    def add(self, f: Finding) -> None:
        role = role_of(self.domain, f.host, f.login)
        own_site = under_domain(f.host, self._scope) is not None
        if role is None and not own_site:
            return  # not the domain's (a lookalike never gets this far: the matcher refuses it)
        if self.since is not None:
            if f.infected_at is None:
                self._undated_left_out += 1
                return
            if f.infected_at < self.since:
                self._before_since += 1
                return
        self._sightings += 1
        self._credentials.add(f.identity)
        if role is None:
            self._no_login.add(f.identity)
        else:
            self._role_credentials[role].add(f.identity)
            self._role_accounts[role].add(f.login)
            self._account_role.setdefault(f.login, role)
            self._account_credentials.setdefault(f.login, set()).add(f.identity)
            if role is Role.THIRD_PARTY:
                self._third.setdefault(email_domain(f.login), set()).add(f.login)
        if f.machine:
            self._machines.add(f.machine)
        if f.infected_at is None:
            self._undated += 1
        else:
            when = f.infected_at
            self._first = when if self._first is None else min(self._first, when)
            self._latest = when if self._latest is None else max(self._latest, when)
            self._months[f"{when:%Y-%m}"] += 1
        if f.family:
            self._families[f.family] += 1
        if f.country:
            self._countries[f.country.upper()] += 1
        if f.host:
            self._hosts[f.host] += 1
        if own_site and f.url and f.kind != CredentialKind.COOKIE.value:
            self._portals[safe_url(f.url)] += 1
        if f.origin:
            self._origins[f.origin.split("!", 1)[0]] += 1

    def summary(self) -> Summary:
        accounts = sorted(self._account_credentials.items(), key=lambda kv: (-len(kv[1]), kv[0]))[
            :TOP_ACCOUNTS
        ]
        return Summary(
            sightings=self._sightings,
            credentials=len(self._credentials),
            accounts=len(self._account_role),
            roles={
                r: RoleCount(
                    credentials=len(self._role_credentials[r]),
                    accounts=len(self._role_accounts[r]),
                )
                for r in Role
            },
            no_login=len(self._no_login),
            machines=len(self._machines),
            first_infection=self._first,
            latest_infection=self._latest,
            by_month=tuple(sorted(self._months.items())),
            undated=self._undated,
            families=_ranked(self._families),
            countries=_ranked(self._countries),
            hosts=_ranked(self._hosts),
            portals=_ranked(self._portals),
            origins=_ranked(self._origins),
            third_party_domains=_ranked(Counter({d: len(v) for d, v in self._third.items()})),
            top_accounts=tuple(
                AccountRow(login=login, role=self._account_role[login], credentials=len(ids))
                for login, ids in accounts
            ),
            before_since=self._before_since,
            undated_left_out=self._undated_left_out,
        )


def _ranked(counter: Counter[str], top: int = TOP) -> Ranked:
    """The `top` most counted, ties by name: a stable order for stable output."""
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top])


class HibpState(StrEnum):
    NOT_CONFIGURED = "not_configured"
    NOT_VERIFIED = "not_verified"
    ANSWERED = "answered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiSide:
    """What an exposure API (HIBP) answered about the domain, beside the local answer."""

    state: HibpState
    detail: str = ""
    answer: DomainAnswer | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryRead:
    """The read-only scan of the dump library: what was read, how long it took."""

    paths: tuple[str, ...]
    lines: int
    bytes: int
    records: int
    problems: int
    seconds: float
    summary: Summary


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupResult:
    domain: str
    watched: bool
    since: datetime | None
    generated_at: datetime
    store: Summary
    library: LibraryRead | None
    library_note: str  # why the library was not read, or ""
    hibp: ApiSide

    @property
    def found(self) -> bool:
        return self.store.found or (self.library is not None and self.library.summary.found)

    def counts(self) -> dict[str, int]:
        """Result counts for the audit line: the store's and the library's, prefixed."""
        out = {f"store_{k}": v for k, v in self.store.counts().items()}
        if self.library is not None:
            out |= {f"library_{k}": v for k, v in self.library.summary.counts().items()}
            out["library_lines"] = self.library.lines
        if self.hibp.answer is not None:
            out["hibp_accounts"] = self.hibp.answer.accounts
        return out
