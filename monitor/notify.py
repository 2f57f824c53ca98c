"""The notifier plug-in contract: an Alert in, a Delivery (or a ProviderError) out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Protocol, TypeGuard

from monitor.advice import Advice
from monitor.types import Exposure


class AlertEvent(StrEnum):
    NEW = "new"  # first time this exposure is seen
    UPDATED = "updated"  # material change: newer infection date, new portal, live again
    CONTAINED = "contained"  # every required containment step took effect (follow-up, threaded)
    NEEDS_ACTION = (
        "needs_action"  # containment ended with a required step not done: a human must act
    )
    STALE = "stale"  # password changed after the leak: nothing to reset
    APPROVAL = "approval_needed"  # policy asks a human to approve containment
    FAILED = "containment_failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Machine:
    """The infected machine behind a stealer-log exposure. Its id only ever as a keyed hash."""

    family: str | None = None
    infected_at: datetime | None = None
    country: str | None = None
    machine_hash: str | None = None  # HMAC of the machine id (never the raw HWID, IP or user)
    other_credentials: int = 0  # the organisation's other exposures leaked by the same machine

    @property
    def tag(self) -> str | None:
        """A short form of the hashed machine id, enough to tell machines apart."""
        return self.machine_hash[:12] if self.machine_hash else None


@dataclass(frozen=True, slots=True, kw_only=True)
class LeakClock:
    """When the machine was infected, the leak first seen, first alerted, and contained."""

    infected_at: datetime | None = None
    first_seen: datetime | None = None
    alerted_at: datetime | None = None
    contained_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One message about one exposure. Every text field may hold attacker-controlled text."""

    id: int  # outbox id: stable across retries
    event: AlertEvent
    exposure: Exposure
    origin: str  # latest place it was seen, e.g. "dump.zip!PC1/Passwords.txt:42"
    live: bool | None = None  # None: unknown (no identity provider answer yet)
    action_summary: str = ""  # e.g. "dry run: would set a random password and revoke sessions"
    approve_command: str | None = None  # e.g. "credwatch approve 42"
    partner_contact: str | None = None
    victim_country: str | None = None
    stealer_family: str | None = None
    created_at: datetime | None = None
    machine: Machine | None = None
    clock: LeakClock | None = None
    advice: Advice | None = None  # what to do now (monitor.advice), from the recorded outcomes


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """A message that was accepted. `ref` lets follow-ups thread under it (Slack `ts`)."""

    ref: str | None = None
    detail: str = ""


class Notifier(Protocol):
    """A channel. `send` raises ProviderError(retryable=...) when the message was not accepted."""

    name: ClassVar[str]

    async def send(self, alert: Alert, *, thread_ref: str | None = None) -> Delivery: ...

    async def aclose(self) -> None: ...


class GroupNotifier(Notifier, Protocol):
    """A channel that can also post several alerts as one message (a grouped alert, a digest).
    The returned `ref` is the message follow-ups of those alerts thread under."""

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery: ...


def can_group(notifier: Notifier) -> TypeGuard[GroupNotifier]:
    return callable(getattr(notifier, "send_digest", None))
