"""Whether a containment took effect: the steps each kind of exposure needs, the status they
give, and the headline an admin reads, built from the step outcomes (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from monitor.responder import (
    STEP_BLOCK,
    STEP_PORTAL,
    STEP_REQUIRE_CHANGE,
    STEP_RESET,
    STEP_REVOKE,
    StepResult,
)
from monitor.types import Outcome

LABELS: Mapping[str, str] = {
    STEP_RESET: "leaked password replaced by a random one",
    STEP_REQUIRE_CHANGE: "new password required at next sign-in",
    STEP_REVOKE: "identity provider sessions revoked",
    STEP_PORTAL: "portal sessions ended",
    STEP_BLOCK: "sign-in blocked",
}

_TODO: Mapping[str, str] = {
    STEP_RESET: "reset the password where it is mastered",
    STEP_REQUIRE_CHANGE: "require a password change at the user's next sign-in",
    STEP_REVOKE: "end the user's sessions in the identity provider",
    STEP_PORTAL: "ask the portal team to end the user's sessions",
    STEP_BLOCK: "block the account's sign-in or ask the partner to reset it",
}


TODO_MARK = "; to do: "  # joins what happened and what a human must do in the audit trail


def audit_detail(detail: str, todo: str) -> str:
    """A step's audit-trail detail: what happened, then what a human must do, if anything."""
    return f"{detail}{TODO_MARK}{todo}" if todo else detail


def split_todo(detail: str) -> tuple[str, str]:
    """A recorded detail back into (what happened, what a human must do)."""
    why, _, todo = detail.partition(TODO_MARK)
    return why, todo


class Verdict(StrEnum):
    CONTAINED = "contained"  # every required step took effect
    PARTIAL = "partially_contained"  # some did, not all
    NEEDS_ACTION = "needs_action"  # none did


def required_steps(*, cookie: bool, external: bool) -> tuple[str, ...]:
    """A stolen cookie is the portal's session: its issuer and the IdP must both end it. A leaked
    password must stop working (replaced, or the account blocked when we cannot replace it), its
    owner must choose a new one at the next sign-in, and the sessions already opened with it must
    end. The portal goes first: a hook that ends its
    sessions through the IdP (back-channel logout) needs the IdP's sessions still there."""
    if cookie:
        return (STEP_PORTAL, STEP_REVOKE)
    if external:
        return (STEP_BLOCK, STEP_REVOKE)
    return (STEP_RESET, STEP_REQUIRE_CHANGE, STEP_REVOKE)


def verdict(required: Sequence[str], outcomes: Mapping[str, Outcome]) -> Verdict:
    """CONTAINED only when there is a requirement and every required step is DONE."""
    done = [step for step in required if outcomes.get(step) is Outcome.DONE]
    if required and len(done) == len(required):
        return Verdict.CONTAINED
    return Verdict.PARTIAL if done else Verdict.NEEDS_ACTION


def missing(required: Sequence[str], outcomes: Mapping[str, Outcome]) -> tuple[str, ...]:
    return tuple(step for step in required if outcomes.get(step) is not Outcome.DONE)


def todo(result: StepResult | None, step: str) -> str:
    """What a human must do for a step that did not take effect."""
    if result is not None and result.todo:
        return result.todo
    return _TODO.get(step, f"complete {step}")


def headline(
    provider: str,
    required: Sequence[str],
    results: Mapping[str, StepResult],
    outcomes: Mapping[str, Outcome],
) -> str:
    """One line per required step: what took effect, and for each missing step why and what a
    human must do. Nothing here claims a step the outcomes do not show as done."""
    state = verdict(required, outcomes)
    lead = {
        Verdict.CONTAINED: f"contained in {provider}",
        Verdict.PARTIAL: f"PARTIALLY contained in {provider}",
        Verdict.NEEDS_ACTION: f"NOT contained in {provider}: action needed",
    }[state]
    parts: list[str] = []
    # What took effect first, then what is still to do.
    ordered = sorted(required, key=lambda step: outcomes.get(step) is not Outcome.DONE)
    for step in ordered:
        label = LABELS.get(step, step)
        result = results.get(step)
        if outcomes.get(step) is Outcome.DONE:
            why = (result.detail or "done") if result is not None else "done earlier"
            parts.append(f"{label}: {why}")
        else:
            outcome = outcomes.get(step)
            why = (result.detail if result is not None else "") or (
                outcome.value if outcome is not None else "not attempted"
            )
            parts.append(f"NOT DONE: {label} ({why}); to do: {todo(result, step)}")
    return f"{lead}. " + ". ".join(parts)
