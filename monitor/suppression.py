"""Suppression rules kept in the database: by login, host pattern or partner (pure matching).

A new exposure that a rule covers is recorded and dismissed with the rule's reason; no alert is
sent and nothing is contained. Logins compare canonically, hosts by shell-style pattern
(`*.test.example.org`), partners by name.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from monitor.normalize import canonical_login


class Field(StrEnum):
    LOGIN = "login"
    HOST = "host"
    PARTNER = "partner"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: int
    field: Field
    pattern: str
    reason: str
    created_by: str = ""
    created_at: datetime | None = None

    def covers(self, *, login: str, host: str, partner: str | None) -> bool:
        if self.field is Field.LOGIN:
            return bool(login) and canonical_login(login) == self.pattern
        if self.field is Field.HOST:
            return bool(host) and fnmatch.fnmatchcase(host, self.pattern)
        return partner is not None and partner == self.pattern


def canonical_pattern(field: Field, pattern: str) -> str:
    """The form a rule is stored in: canonical login, lower-case host pattern, partner as is."""
    pattern = pattern.strip()
    if field is Field.LOGIN:
        return canonical_login(pattern)
    if field is Field.HOST:
        return pattern.lower().rstrip(".")
    return pattern


def first_covering(rules: list[Rule], *, login: str, host: str, partner: str | None) -> Rule | None:
    return next((r for r in rules if r.covers(login=login, host=host, partner=partner)), None)
