"""Monitored accounts as configured: inline logins and the accounts CSV, in canonical form."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from monitor.errors import ConfigError
from monitor.normalize import canonical_host, canonical_login
from monitor.types import Account

log = logging.getLogger(__name__)

CSV_COLUMNS = ("login", "partner", "idp", "idp_user_id")


def read_accounts_csv(path: Path) -> Iterator[Account]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if "login" not in header:
            raise ConfigError(f"{path}: accounts file needs a 'login' column (got {header})")
        unknown = set(header) - set(CSV_COLUMNS)
        if unknown:
            raise ConfigError(f"{path}: unknown column(s) {sorted(unknown)}; allowed {CSV_COLUMNS}")
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


def configured_accounts(
    inline: Iterable[str], file: Path | None, email_domains: Mapping[str, str | None]
) -> Iterator[Account]:
    """Every configured account, inline logins first (a CSV row for the same login wins); the
    partner is the CSV's, else the one whose e-mail domain the login falls under."""
    for raw in inline:
        login = canonical_login(raw)
        if login:
            yield Account(login=login, partner=partner_of(login, email_domains))
    if file is None:
        return
    for acc in read_accounts_csv(file):
        if acc.partner is None:
            acc = Account(
                login=acc.login,
                partner=partner_of(acc.login, email_domains),
                idp=acc.idp,
                idp_user_id=acc.idp_user_id,
            )
        yield acc


def partner_of(login: str, email_domains: Mapping[str, str | None]) -> str | None:
    host = canonical_host(login.rpartition("@")[2]) if "@" in login else ""
    while host:
        if host in email_domains:
            return email_domains[host]
        host = host.partition(".")[2]
    return None
