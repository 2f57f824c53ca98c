"""The exposure lifecycle: which human decision moves an exposure from which state to which (pure).

open → acknowledged → resolved, or dismissed (false positive, accepted risk) from open or
acknowledged; reopen from acknowledged, resolved or dismissed. Material new information (a newer
infection date, a new portal) reopens a resolved or dismissed exposure by itself
(`monitor/store/sql/exposure_reopen.sql`). Every transition needs a reason and is audited.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from monitor.errors import CredwatchError


class State(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class Verb(StrEnum):
    ACK = "ack"
    RESOLVE = "resolve"
    DISMISS = "dismiss"
    REOPEN = "reopen"


_O, _A, _R, _D = State.OPEN, State.ACKNOWLEDGED, State.RESOLVED, State.DISMISSED

# verb → (the states it may start from, the state it leads to)
TRANSITIONS = MappingProxyType(
    {
        Verb.ACK: (frozenset({_O}), _A),
        Verb.RESOLVE: (frozenset({_O, _A}), _R),
        Verb.DISMISS: (frozenset({_O, _A}), _D),
        Verb.REOPEN: (frozenset({_A, _R, _D}), _O),
    }
)


class TransitionRefused(CredwatchError):
    """A decision that does not apply to the exposure's current state, or has no reason."""


def next_state(current: State, verb: Verb, reason: str) -> State:
    """The state `verb` leads to from `current`; refused when it does not apply."""
    if not reason.strip():
        raise TransitionRefused(f"{verb.value} needs a reason (--reason)")
    sources, target = TRANSITIONS[verb]
    if current not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise TransitionRefused(
            f"cannot {verb.value} an exposure that is {current.value} (only from {allowed})"
        )
    return target
