"""Which channels hear about a match, and which of a channel's alerts are grouped (pure).

Every `[notifiers.NAME]` table may hold these core keys beside the notifier's own; they are
taken out before the notifier reads its section:

- `min_severity` (low | medium | high | critical): quieter exposures never reach the channel;
- `partners` (names; "" for the organisation's own): only these partners' exposures;
- `kinds` (policy match kinds, e.g. "portal_account"): only these kinds;
- `group_below` (a severity, default critical): alerts of exposures below it are sent as one
  grouped message per delivery round (per partner with `group_by = "partner"`, the default);
  those at or above it are sent one by one, their follow-ups threaded under them;
- `digest` (bool): every alert grouped, whatever its severity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from monitor.policy import MatchKind, classify
from monitor.settings import Section, load_section
from monitor.types import Match, Severity

ROUTE_KEYS = frozenset({"min_severity", "partners", "kinds", "group_below", "group_by", "digest"})


def _severity(value: str) -> str:
    try:
        Severity.parse(value)
    except KeyError:
        raise ValueError("must be low, medium, high or critical") from None
    return value


def _kinds(value: list[str]) -> list[str]:
    known = {k.value for k in MatchKind}
    for kind in value:
        if kind not in known:
            raise ValueError(f"unknown match kind (one of {', '.join(sorted(known))})")
    return value


def _group_by(value: str) -> str:
    if value not in ("scan", "partner"):
        raise ValueError("must be scan or partner")
    return value


SeverityName = Annotated[str, AfterValidator(_severity)]


class RouteSection(Section):
    """`[notifiers.NAME]` routing keys: what a channel receives and how it is grouped (any channel)."""

    min_severity: SeverityName = Field(
        default="low", description="Alerts of exposures below this severity are not sent here."
    )
    partners: list[str] | None = Field(
        default=None,
        description="Only these partners' exposures (\"\" is the organisation's own); all when unset.",
    )
    kinds: Annotated[list[str], AfterValidator(_kinds)] | None = Field(
        default=None, description="Only these match kinds (the policy's kinds); all when unset."
    )
    group_below: SeverityName = Field(
        default="critical",
        description="Below this severity, alerts go out as one grouped message; at or above it, alone.",
    )
    group_by: Annotated[str, AfterValidator(_group_by)] = Field(
        default="partner", description='One grouped message per "partner" or per "scan".'
    )
    digest: bool = Field(default=False, description="Group every alert, whatever its severity.")


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """What one channel receives and how it is batched."""

    channel: str
    min_severity: Severity = Severity.LOW
    partners: frozenset[str] | None = None  # None: every partner and the organisation ("")
    kinds: frozenset[MatchKind] | None = None
    group_below: Severity = Severity.CRITICAL
    by_partner: bool = True
    digest: bool = False

    def wants(self, match: Match) -> bool:
        if match.severity < self.min_severity:
            return False
        if self.partners is not None and (match.partner or "") not in self.partners:
            return False
        return self.kinds is None or classify(match) in self.kinds

    def grouped(self, severity: Severity) -> bool:
        """Is an alert of an exposure at `severity` sent in a grouped message?"""
        return self.digest or severity < self.group_below

    @property
    def urgent_from(self) -> int:
        """The lowest severity sent on its own (5: none, everything is grouped)."""
        return 5 if self.digest else int(self.group_below)

    @classmethod
    def from_section(cls, channel: str, section: Mapping[str, Any]) -> Route:
        keys = {k: v for k, v in section.items() if k in ROUTE_KEYS}
        s = load_section(RouteSection, keys, section=f"notifiers.{channel}")
        return cls(
            channel=channel,
            min_severity=Severity.parse(s.min_severity),
            partners=frozenset(s.partners) if s.partners is not None else None,
            kinds=frozenset(MatchKind(k) for k in s.kinds) if s.kinds is not None else None,
            group_below=Severity.parse(s.group_below),
            by_partner=s.group_by == "partner",
            digest=s.digest,
        )


def plugin_keys(section: Mapping[str, Any]) -> dict[str, Any]:
    """A `[notifiers.NAME]` table without the routing keys: what the notifier itself reads."""
    return {k: v for k, v in section.items() if k not in ROUTE_KEYS}


@dataclass(frozen=True, slots=True, kw_only=True)
class Routes:
    """Every channel's route; `channels_for` names the channels a match is alerted on."""

    routes: tuple[Route, ...]

    @classmethod
    def every(cls, channels: Sequence[str]) -> Routes:
        return cls(routes=tuple(Route(channel=c) for c in channels))

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(r.channel for r in self.routes)

    def route(self, channel: str) -> Route:
        return next((r for r in self.routes if r.channel == channel), Route(channel=channel))

    def channels_for(self, match: Match) -> tuple[str, ...]:
        return tuple(r.channel for r in self.routes if r.wants(match))
