"""What to do now about one exposure, in plain words, for the admins and for the partner (pure).

Built from what the store recorded — the containment's state and each step's outcome — never
from an alert's headline, so every channel and the partner report say the same thing. The
organisation's own identifiers appear as code spans, as they are (ready to paste); anything else
from a dump as defanged plain text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from monitor.inert import Line, Span, clean, hostile, plain, shown
from monitor.outcome import LABELS, Verdict, missing, required_steps, split_todo, verdict
from monitor.responder import (
    STEP_BLOCK,
    STEP_LOOKUP,
    STEP_PORTAL,
    STEP_REQUIRE_CHANGE,
    STEP_RESET,
    STEP_REVOKE,
    STEP_STALE,
)
from monitor.types import CredentialKind, Exposure, ExposureStatus, Outcome, plain_login

_MASTERED = re.compile(r"^needs (.{1,80}?) reset\b")


class Situation(StrEnum):
    CONTAINED = "contained"  # every required step took effect
    BLOCKED = "blocked"  # an external user: sign-in blocked, the partner must reset
    PARTIAL = "partially_contained"  # some required steps took effect, not all
    NEEDS_ACTION = "needs_action"  # no required step took effect
    AWAITING_APPROVAL = "awaiting_approval"
    STALE = "stale"  # password changed after the leak
    ALERT_ONLY = "alert_only"  # no containment planned (policy, or no identity provider)
    UNDER_WAY = "under_way"  # planned, not run yet
    RETRYING = "retrying"  # a step failed and is tried again
    FAILED = "failed"  # given up after its attempts
    DRY_RUN = "dry_run"
    NOT_FOUND = "not_found"
    REJECTED = "rejected"  # a human rejected the containment
    DISMISSED = "dismissed"


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRecord:
    """A containment step's recorded outcome (its last one; `done` wins over later attempts)."""

    provider: str
    step: str
    outcome: Outcome
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainmentRecord:
    """A planned containment of the exposure in one identity provider, as recorded."""

    provider: str
    decision: str  # contain | block | approve
    status: str  # pending | awaiting_approval | done | failed | rejected
    dry_run: bool
    attempts: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Advice:
    """What took effect and what to do now, for the admins and, in their words, for the partner."""

    situation: Situation
    done: Line  # what took effect, admins' words
    todo: tuple[Line, ...]  # what a human must do now, each one short sentence
    partner_done: str  # what we did, the partner's words (no system names, no commands)
    partner_todo: tuple[Line, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What the advice is derived from."""

    exposure: Exposure
    containments: Sequence[ContainmentRecord] = ()
    steps: Sequence[StepRecord] = ()
    partner_contact: str | None = None
    family: str | None = None  # the stealer that leaked it, when a stealer log said
    approve_command: str | None = None


def _t(text: str) -> Span:
    return Span(text=text)


def _c(text: str) -> Span:
    return Span(text=text, code=True)


def _when(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class _Words:
    """The exposure's values as spans, inert."""

    def __init__(self, facts: Facts) -> None:
        e = facts.exposure
        self.e = e
        login = e.account_login or e.login  # the monitored account's when known
        own = plain_login(login) and (e.own_login or login != e.login)
        self.login = Span(text=shown(login, own=own), code=own)  # code: ready to paste
        where = e.portal or e.host
        own_portal = bool(e.portal) or e.own_host
        self.portal = Span(text=shown(where, own=own_portal) or "the portal", code=own_portal)
        self.partner = clean(e.partner, 120)
        contact = clean(facts.partner_contact, 120)
        self.contact = _c(contact) if contact else None
        self.machine = facts.family is not None or e.infected_at is not None
        self.family = hostile(facts.family, 60) if facts.family else ""


def _latest(steps: Sequence[StepRecord], provider: str) -> dict[str, StepRecord]:
    return {s.step: s for s in steps if s.provider == provider}


def _step_todo(step: str, record: StepRecord | None, provider: str, w: _Words) -> Line:
    """One missing step as a sentence of what to do instead."""
    what = LABELS.get(step, step)
    happened, recorded_todo = split_todo(record.detail) if record else ("", "")
    why = f" ({hostile(happened, 160)})" if happened else ""
    if step == STEP_PORTAL:
        until = (
            _t(f" before {_when(w.e.cookie_expires)}, when the stolen cookie expires")
            if w.e.cookie_expires is not None
            else _t(" now: the stolen cookie works until the portal ends that session")
        )
        return (
            _t("Ask the "),
            w.portal,
            _t(" team to end every session of "),
            w.login,
            until,
            _t("."),
        )
    mastered = _MASTERED.match(happened) if step == STEP_RESET else None
    if mastered:
        return (
            _t("Reset the password of "),
            w.login,
            _t(f" in {hostile(mastered[1], 80)}, where it is mastered, and require a change."),
        )
    if recorded_todo:  # what the identity provider's answer says a human must do
        todo = hostile(recorded_todo, 240)
        where = f" (in {provider}: {hostile(happened, 160)})" if happened else ""
        return (w.login, _t(f": {todo}{where}."))
    if step == STEP_RESET:
        return (
            _t("Reset the password of "),
            w.login,
            _t(f" in {provider} by hand and require a change{why}."),
        )
    if step == STEP_REQUIRE_CHANGE:
        return (
            _t("Make "),
            w.login,
            _t(f" choose a new password at the next sign-in in {provider}{why}."),
        )
    if step == STEP_REVOKE:
        return (_t("End the sessions of "), w.login, _t(f" in {provider}{why}."))
    if step == STEP_BLOCK:
        return (
            _t("Block the sign-in of "),
            w.login,
            _t(f" in {provider}{why}, or ask the partner to reset the password now."),
        )
    return (_t(f"Complete: {what}{why}."),)


def _machine(w: _Words) -> tuple[Line, ...]:
    if not w.machine:
        return ()
    family = f" ({w.family})" if w.family else ""
    return (
        (
            _t(f"Have the infected machine{family} cleaned or reinstalled before "),
            w.login,
            _t(" signs in from it again: every password saved on it has leaked."),
        ),
    )


def _partner_todo(situation: Situation, w: _Words, reset_done: bool) -> tuple[Line, ...]:
    family = f" (it runs {w.family} stealer malware)" if w.family else ""
    lines: list[Line] = []
    if w.machine:
        lines.append(
            (_t(f"Clean or reinstall the infected machine{family} before it is used again."),)
        )
    if w.e.kind is CredentialKind.COOKIE:  # a session leaked, not a password
        lines.append(
            (
                _t("Have "),
                w.login,
                _t(" sign out of every session, and change every password saved on that machine."),
            )
        )
        return tuple(lines)
    if situation is Situation.BLOCKED:  # an account of theirs: only they can reset it
        lines.append(
            (
                _t("Reset the password of "),
                w.login,
                _t(
                    " in your own directory and require a change; tell us when it is done so "
                    "we can lift the block."
                ),
            )
        )
    elif not reset_done:
        lines.append((_t("Have "), w.login, _t(" change this password now.")))
    lines.append(
        (
            _t("Change this password wherever else "),
            w.login,
            _t(" used it, and every other password saved on that machine."),
        )
    )
    return tuple(lines)


_PARTNER_DONE: Mapping[Situation, str] = {
    Situation.CONTAINED: "We replaced the password on our side and ended the account's sessions.",
    Situation.BLOCKED: "We blocked the account's sign-in to our services and ended its sessions.",
    Situation.STALE: "Nothing to replace: the password had already been changed after the leak.",
    Situation.AWAITING_APPROVAL: "We are deciding how to contain the account on our side.",
    Situation.UNDER_WAY: "We are containing the account on our side.",
    Situation.RETRYING: "We are containing the account on our side.",
    Situation.DISMISSED: "We reviewed it and closed it on our side.",
}


def _partner_done(situation: Situation, e: Exposure, outcomes: Mapping[str, Outcome]) -> str:
    if situation in _PARTNER_DONE:
        text = _PARTNER_DONE[situation]
        if situation is Situation.CONTAINED and e.kind is CredentialKind.COOKIE:
            return "We ended the account's sessions, the stolen one included."
        return text
    done = [s for s, o in outcomes.items() if o is Outcome.DONE]
    if done:
        words = {
            STEP_RESET: "replaced the password",
            STEP_REQUIRE_CHANGE: "required a new password at the next sign-in",
            STEP_REVOKE: "ended the account's sessions",
            STEP_PORTAL: "ended the portal's sessions",
            STEP_BLOCK: "blocked the account's sign-in",
        }
        order = (STEP_RESET, STEP_REQUIRE_CHANGE, STEP_BLOCK, STEP_REVOKE, STEP_PORTAL)
        parts = [words[s] for s in order if s in done]
        return "On our side we " + ", ".join(parts) + "; the rest is not done yet."
    return "Nothing has been changed on our side yet."


def advise(facts: Facts) -> Advice:
    """The advice for one exposure from its recorded containment state and step outcomes."""
    e = facts.exposure
    w = _Words(facts)
    cookie = e.kind is CredentialKind.COOKIE
    plans = list(facts.containments)
    plan = next((c for c in plans if c.status == "awaiting_approval"), None) or (
        plans[0] if plans else None
    )
    provider = plan.provider if plan else ""
    steps = _latest(facts.steps, provider) if plan else {}
    outcomes = {s: r.outcome for s, r in steps.items()}
    external = STEP_BLOCK in steps
    required = required_steps(cookie=cookie, external=external)
    todo: list[Line] = []
    done: Line = (_t("nothing yet"),)
    done_steps = [s for s in required if outcomes.get(s) is Outcome.DONE]
    if done_steps:
        done = (_t("; ".join(LABELS.get(s, s) for s in done_steps) + f" in {provider}"),)

    if e.status is ExposureStatus.DISMISSED:
        situation = Situation.DISMISSED
        todo.append((_t("Nothing to do: it was dismissed."),))
    elif plan is not None and plan.status == "awaiting_approval":
        situation = Situation.AWAITING_APPROVAL
        command = clean(facts.approve_command, 200)
        line: Line = (_t(f"Approve or reject containment in {provider}"),)
        if command:
            line += (_t(": "), _c(command))
        todo.append((*line, _t(".")))
    elif e.status is ExposureStatus.STALE or STEP_STALE in steps:
        situation = Situation.STALE
        done = (_t("nothing reset: the password was changed after the leak"),)
        todo.append(
            (
                _t("Nothing to reset. If "),
                w.login,
                _t(" used the old password anywhere else, have it changed there."),
            )
        )
    elif plan is None:
        situation = Situation.ALERT_ONLY
        if cookie:
            todo.append(_step_todo(STEP_PORTAL, None, "", w))
            todo.append((_t("End the sessions of "), w.login, _t(" in the identity provider.")))
        else:
            todo.append(
                (
                    _t("No automatic containment (alert only): have the password of "),
                    w.login,
                    _t(" changed and its sessions ended, or approve a containment policy for it."),
                )
            )
    elif plan.status == "rejected":
        situation = Situation.REJECTED
        todo.append(
            (
                _t(
                    "Containment was rejected; nothing was changed. Contain by hand if the decision changes."
                ),
            )
        )
    elif outcomes.get(STEP_LOOKUP) is Outcome.NOT_FOUND:
        situation = Situation.NOT_FOUND
        todo.append(
            (
                _t(
                    f"No such user in {provider}: check the account mapping, then reset the password of "
                ),
                w.login,
                _t(" where the account lives."),
            )
        )
    elif plan.dry_run and plan.status == "done":
        situation = Situation.DRY_RUN
        done = (_t(f"nothing changed (dry run in {provider})"),)
        todo.append(
            (
                _t("Contain "),
                w.login,
                _t(" by hand, or set [policy] enforce = true so credwatch does it."),
            )
        )
    elif plan.status == "pending" and plan.attempts == 0:
        situation = Situation.UNDER_WAY
        todo.append(
            (
                _t(
                    f"Nothing yet: containment in {provider} is under way; a follow-up says whether it took effect."
                ),
            )
        )
    elif (
        plan.status in ("pending", "failed")
        and verdict(required, outcomes) is not Verdict.CONTAINED
    ):
        error = hostile(plan.last_error, 200) or "no answer"
        if plan.status == "failed":
            situation = Situation.FAILED
            todo.append(
                (
                    _t(
                        f"Containment in {provider} failed after {plan.attempts} "
                        f"attempt{'s' if plan.attempts != 1 else ''} ({error}): "
                    ),
                    *_step_todo(missing(required, outcomes)[0], None, provider, w),
                )
            )
        else:
            situation = Situation.RETRYING
            todo.append(
                (
                    _t(
                        f"Nothing is contained yet: containment in {provider} failed ({error}) "
                        "and is retried automatically; if it keeps failing, contain by hand."
                    ),
                )
            )
    else:
        state = verdict(required, outcomes)
        if state is Verdict.CONTAINED:
            situation = Situation.BLOCKED if external else Situation.CONTAINED
            if external:
                who = f" {w.partner}" if w.partner else " the account's owner"
                line = (_t(f"Ask{who}"),)
                if w.contact:
                    line += (_t(" ("), w.contact, _t(")"))
                todo.append(
                    (
                        *line,
                        _t(" to reset the password of "),
                        w.login,
                        _t(" in their directory; lift the block once they confirm."),
                    )
                )
            else:
                todo.append((_t(f"Nothing more to do: {plain(done)}."),))
        else:
            situation = Situation.PARTIAL if state is Verdict.PARTIAL else Situation.NEEDS_ACTION
            gaps = missing(required, outcomes)
            for step in gaps:
                if step == STEP_REQUIRE_CHANGE and STEP_RESET in gaps:
                    continue  # the reset by hand already says "and require a change"
                todo.append(_step_todo(step, steps.get(step), provider, w))
    if situation is not Situation.DISMISSED:  # a false positive's machine is not ours to fix
        todo += _machine(w)
    reset_done = outcomes.get(STEP_RESET) is Outcome.DONE or situation is Situation.STALE
    return Advice(
        situation=situation,
        done=done,
        todo=tuple(todo),
        partner_done=_partner_done(situation, e, outcomes),
        partner_todo=_partner_todo(situation, w, reset_done),
    )
