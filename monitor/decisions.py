"""The contract between the core and a channel where humans approve or reject containments.

A notifier that can hear decisions (Slack buttons) is a `DecisionListener`: `credwatch serve`
hands it a `Decider` and runs `listen` until stopped. The decider (monitor.approvals) applies
the decision once, audited with the human's name, and says what came of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Protocol, TypeGuard


class Ruling(StrEnum):
    APPROVED = "approved"  # this request approved the containment (it ran, or is queued)
    REJECTED = "rejected"  # this request rejected it: the exposure is dismissed
    ALREADY = "already_decided"  # someone decided before: nothing done now
    NOTHING = "nothing_waiting"  # no containment of this exposure waits for a decision


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRequest:
    exposure_id: int
    reject: bool
    decided_by: str  # e.g. "slack:U123 (jdoe)", kept in the audit trail
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionResult:
    ruling: Ruling
    decided_by: str = ""  # who decided: the requester, or the earlier decider (ALREADY)
    decision: str = ""  # "approved" or "rejected" (for ALREADY: the earlier decision)
    at: datetime | None = None
    reason: str = ""
    outcome: str = ""  # what came of it, true at the time of the answer


class Decider(Protocol):
    async def decide(self, request: DecisionRequest) -> DecisionResult: ...

    async def decided(self, exposure_id: int) -> DecisionResult | None:
        """None while a containment of the exposure waits; else who decided (ALREADY) or
        NOTHING: what a click would be told, before asking the human anything more."""
        ...


class DecisionListener(Protocol):
    """A channel that hears decisions; `listen` runs until cancelled."""

    name: ClassVar[str]

    @property
    def interactive(self) -> bool: ...

    async def listen(self, decider: Decider) -> None: ...


def can_listen(notifier: object) -> TypeGuard[DecisionListener]:
    return bool(getattr(notifier, "interactive", False)) and callable(
        getattr(notifier, "listen", None)
    )
