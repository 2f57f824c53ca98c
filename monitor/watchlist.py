"""The watched organisation: domains, partner portals, partners and monitored accounts, in canonical form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from monitor.config import Config
from monitor.identity_accounts import configured_accounts
from monitor.identity_source import IdentitySource
from monitor.normalize import (
    android_package_host,
    canonical_domains,
    split_url,
    under_domain,
)
from monitor.types import Account, Partner, Portal

# An accounts file of at least this many rows is compiled into a persisted identity screen
# (monitor/identity_source.py); smaller lists stay a dict, screened by needles.
IDENTITY_THRESHOLD = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class Watchlist:
    organisation: str
    domains: frozenset[str]  # organisation domains (canonical)
    portals: tuple[Portal, ...]
    partners: tuple[Partner, ...]
    email_domains: Mapping[str, str | None]  # domain → partner name (None: the organisation)
    accounts: Mapping[str, Account]  # canonical login → account (small lists)
    identity: IdentitySource | None = None  # large lists: the compiled screen, no plaintext
    portals_by_host: Mapping[str, tuple[Portal, ...]] = field(default_factory=dict)
    partner_contacts: Mapping[str, str] = field(default_factory=dict)
    # Every domain a host or e-mail may fall under (organisation and partner domains): the keys
    # of `email_domains`, kept as a set once so matching does not rebuild it per record.
    all_domains: frozenset[str] = frozenset()

    def account(self, login: str) -> Account | None:
        """Exact, case-insensitive account lookup (`login` canonical)."""
        if not login:
            return None
        if self.identity is not None:
            return self.identity.index().account(login)
        return self.accounts.get(login)

    def domain_needles(self) -> set[bytes]:
        """Byte strings a line matching a watched domain contains: a host under a watched
        domain contains the domain, an Android package the reversed domain, an e-mail login
        its domain."""
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
        return needles

    def screen_needles(self, *, max_account_needles: int = 2000) -> tuple[tuple[bytes, ...], bool]:
        """Byte strings every matching line must contain, and whether accounts need a full pass.

        The domains' needles (`domain_needles`); a monitored login contains itself. When
        accounts are too many to screen as needles, the caller must parse every line (a large
        list is screened by `identity` instead).
        """
        needles = self.domain_needles()
        uncovered = [
            login
            for login in self.accounts
            if under_domain(login.rpartition("@")[2], self.all_domains) is None
        ]
        full_pass = len(uncovered) > max_account_needles
        if not full_pass:
            needles.update(login.encode() for login in uncovered)
        return tuple(sorted(needles, key=len)), full_pass


def build_watchlist(config: Config, *, key: bytes = b"") -> Watchlist:
    """The watchlist of `config`; `key` (the fingerprint key) keys a large account list's
    screen."""
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
    identity = None
    if _rows(config.accounts_file) >= IDENTITY_THRESHOLD:
        assert config.accounts_file is not None
        identity = IdentitySource(
            accounts_file=config.accounts_file,
            inline=tuple(config.account_logins),
            email_domains=email_domains,
            key=key,
        )
    else:
        for acc in configured_accounts(config.account_logins, config.accounts_file, email_domains):
            accounts[acc.login] = acc
    return Watchlist(
        organisation=config.organisation,
        domains=domains,
        portals=tuple(portals),
        partners=partners,
        email_domains=email_domains,
        accounts=accounts,
        identity=identity,
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


def _rows(path: Path | None) -> int:
    """Lines in the accounts file (0 without one): whether it is worth a compiled screen."""
    if path is None:
        return 0
    count = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            count += block.count(b"\n")
    return count


__all__ = ["Watchlist", "android_package_host", "build_watchlist", "domain_watchlist"]
