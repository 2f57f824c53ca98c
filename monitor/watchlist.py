"""The watched organisation: domains, partner portals, partners and monitored accounts, in canonical form."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor import bloom
from monitor.config import Config
from monitor.errors import ConfigError
from monitor.normalize import (
    android_package_host,
    canonical_domains,
    canonical_host,
    canonical_login,
    split_url,
    under_domain,
)
from monitor.types import Account, Partner, Portal

log = logging.getLogger(__name__)

# Below this many accounts an exact dict lookup is cheaper than a bloom screen.
BLOOM_THRESHOLD = 100_000
_CSV_COLUMNS = ("login", "partner", "idp", "idp_user_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class Watchlist:
    organisation: str
    domains: frozenset[str]  # organisation domains (canonical)
    portals: tuple[Portal, ...]
    partners: tuple[Partner, ...]
    email_domains: Mapping[str, str | None]  # domain → partner name (None: the organisation)
    accounts: Mapping[str, Account]  # canonical login → account
    account_bloom: Any = None  # pybloom-live filter over account logins, for large lists
    portals_by_host: Mapping[str, tuple[Portal, ...]] = field(default_factory=dict)
    partner_contacts: Mapping[str, str] = field(default_factory=dict)
    # Every domain a host or e-mail may fall under (organisation and partner domains): the keys
    # of `email_domains`, kept as a set once so matching does not rebuild it per record.
    all_domains: frozenset[str] = frozenset()

    def account(self, login: str) -> Account | None:
        """Exact, case-insensitive account lookup, screened by the bloom filter when present."""
        if not login:
            return None
        if self.account_bloom is not None and login not in self.account_bloom:
            return None
        return self.accounts.get(login)

    def screen_needles(self, *, max_account_needles: int = 2000) -> tuple[tuple[bytes, ...], bool]:
        """Byte strings every matching line must contain, and whether accounts need a full pass.

        A host under a watched domain contains the domain; an Android package contains the
        reversed domain; an e-mail login contains its domain; a monitored login contains itself.
        When accounts are too many to screen as needles, the caller must parse every line.
        """
        needles: set[bytes] = set()
        for d in self.all_domains:
            needles.add(d.encode())
            reversed_ = ".".join(reversed(d.split(".")))
            needles.add(reversed_.encode())
            try:
                unicode_form = d.encode("ascii").decode("idna")
            except UnicodeError:
                unicode_form = d
            if unicode_form != d:
                needles.add(unicode_form.lower().encode())
        uncovered = [
            login
            for login in self.accounts
            if under_domain(login.rpartition("@")[2], self.all_domains) is None
        ]
        full_pass = len(uncovered) > max_account_needles
        if not full_pass:
            needles.update(login.encode() for login in uncovered)
        return tuple(sorted(needles, key=len)), full_pass


def _read_accounts_csv(path: Path) -> Iterable[Account]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if "login" not in header:
            raise ConfigError(f"{path}: accounts file needs a 'login' column (got {header})")
        unknown = set(header) - set(_CSV_COLUMNS)
        if unknown:
            raise ConfigError(
                f"{path}: unknown column(s) {sorted(unknown)}; allowed {_CSV_COLUMNS}"
            )
        for n, row in enumerate(reader, start=2):
            if None in row:
                raise ConfigError(
                    f"{path}: line {n}: more fields than columns (quote values with commas)"
                )
            values = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            login = canonical_login(values.get("login", ""))
            if not login:
                log.warning("accounts row skipped", extra={"file": str(path), "line": n})
                continue
            yield Account(
                login=login,
                partner=values.get("partner") or None,
                idp=values.get("idp") or None,
                idp_user_id=values.get("idp_user_id") or None,
            )


def build_watchlist(config: Config) -> Watchlist:
    domains = canonical_domains(config.domains)
    portals = []
    for url in config.portals:
        host, path = split_url(url)
        portals.append(Portal(url=url, host=host, path=path.rstrip("/")))
    by_host: dict[str, list[Portal]] = {}
    for p in portals:
        by_host.setdefault(p.host, []).append(p)
    partners = tuple(
        Partner(
            name=p.name,
            email_domains=tuple(sorted(canonical_domains(p.email_domains))),
            security_contact=p.security_contact,
        )
        for p in config.partners
    )
    email_domains: dict[str, str | None] = dict.fromkeys(domains)
    for partner in partners:
        for d in partner.email_domains:
            email_domains[d] = partner.name
    accounts: dict[str, Account] = {}
    for raw in config.account_logins:
        login = canonical_login(raw)
        if login:
            accounts[login] = Account(login=login, partner=_partner_of(login, email_domains))
    if config.accounts_file is not None:
        for acc in _read_accounts_csv(config.accounts_file):
            if acc.partner is None:
                acc = Account(
                    login=acc.login,
                    partner=_partner_of(acc.login, email_domains),
                    idp=acc.idp,
                    idp_user_id=acc.idp_user_id,
                )
            accounts[acc.login] = acc
    account_bloom = None
    if len(accounts) >= BLOOM_THRESHOLD:
        account_bloom = bloom.build(accounts, capacity=len(accounts) * 2)
    return Watchlist(
        organisation=config.organisation,
        domains=domains,
        portals=tuple(portals),
        partners=partners,
        email_domains=email_domains,
        accounts=accounts,
        account_bloom=account_bloom,
        portals_by_host={h: tuple(v) for h, v in by_host.items()},
        partner_contacts={p.name: p.security_contact for p in partners if p.security_contact},
        all_domains=frozenset(email_domains),
    )


def domain_watchlist(domain: str) -> Watchlist:
    """A watchlist of one domain alone (canonical), for an ad-hoc lookup: hosts and e-mail
    logins under it match, nothing else (no portal, partner or account)."""
    return Watchlist(
        organisation=domain,
        domains=frozenset({domain}),
        portals=(),
        partners=(),
        email_domains={domain: None},
        accounts={},
        all_domains=frozenset({domain}),
    )


def _partner_of(login: str, email_domains: Mapping[str, str | None]) -> str | None:
    host = canonical_host(login.rpartition("@")[2]) if "@" in login else ""
    while host:
        if host in email_domains:
            return email_domains[host]
        host = host.partition(".")[2]
    return None


__all__ = ["Watchlist", "android_package_host", "build_watchlist", "domain_watchlist"]
