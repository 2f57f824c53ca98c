"""What one `credwatch doctor` check found: ok, warning or failed, why, and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One line of the report. `detail` says what was checked and found; `fix` what to do."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def scrubbed(self, secrets: frozenset[str]) -> Check:
        """The same check with every secret value masked (belt and braces: none should be in)."""
        detail, fix = self.detail, self.fix
        for secret in sorted(secrets, key=len, reverse=True):
            detail, fix = detail.replace(secret, "***"), fix.replace(secret, "***")
        return Check(name=self.name, status=self.status, detail=detail, fix=fix)
