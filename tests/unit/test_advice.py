"""What to do now, per situation, from recorded containment states and step outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.advice import ContainmentRecord, Facts, Situation, StepRecord, advise
from monitor.inert import plain
from monitor.responder import (
    STEP_BLOCK,
    STEP_PORTAL,
    STEP_REQUIRE_CHANGE,
    STEP_RESET,
    STEP_REVOKE,
)
from monitor.types import CredentialKind, Exposure, ExposureStatus, Outcome, Reason, Severity

EXPOSURE_ID = 4711


def exposure(**over: Any) -> Exposure:
    fields: dict[str, Any] = {
        "id": EXPOSURE_ID,
        "fingerprint": "f" * 64,
        "kind": CredentialKind.PASSWORD,
        "host": "portail.example.org",
        "login": "jdupont@example.org",
        "secret_hint": "s…(8–11)",
        "secret_length": 9,
        "reasons": (Reason.PORTAL, Reason.EMAIL_DOMAIN),
        "severity": Severity.CRITICAL,
        "status": ExposureStatus.NEW,
        "domain": "example.org",
        "portal": "https://portail.example.org/kairos",
        "partner": "Acme",
        "account_login": None,
        "infected_at": datetime(2025, 3, 2, tzinfo=UTC),
        "first_seen": datetime(2025, 3, 10, tzinfo=UTC),
        "last_seen": datetime(2025, 3, 10, tzinfo=UTC),
        "sightings": 1,
    }
    fields.update(over)
    return Exposure(**fields)


def plan(status: str = "done", **over: Any) -> ContainmentRecord:
    fields: dict[str, Any] = {
        "provider": "okta",
        "decision": "contain",
        "status": status,
        "dry_run": False,
        "attempts": 1,
    }
    fields.update(over)
    return ContainmentRecord(**fields)


def step(name: str, outcome: Outcome, detail: str = "") -> StepRecord:
    return StepRecord(provider="okta", step=name, outcome=outcome, detail=detail)


DONE = Outcome.DONE
CASES: list[tuple[str, dict[str, Any], Situation, str]] = [
    (
        "contained",
        {
            "containments": [plan()],
            "steps": [
                step(STEP_RESET, DONE),
                step(STEP_REQUIRE_CHANGE, DONE),
                step(STEP_REVOKE, DONE),
            ],
        },
        Situation.CONTAINED,
        "Nothing more to do: leaked password replaced by a random one; new password required at "
        "next sign-in; identity provider sessions revoked in okta.",
    ),
    (
        "partial: the missing step is named",
        {
            "containments": [plan()],
            "steps": [step(STEP_REVOKE, DONE), step(STEP_RESET, Outcome.FAILED, "okta: HTTP 403")],
        },
        Situation.PARTIAL,
        "Reset the password of jdupont@example.org in okta by hand and require a change "
        "(okta: HTTP 403).",
    ),
    (
        "partial: what the provider's answer says to do",
        {
            "containments": [plan()],
            "steps": [
                step(STEP_RESET, DONE),
                step(STEP_REQUIRE_CHANGE, DONE),
                step(
                    STEP_REVOKE,
                    Outcome.SKIPPED,
                    "the directory keeps no sessions to revoke; to do: end the user's sessions "
                    "in the applications that sign in against this directory",
                ),
            ],
        },
        Situation.PARTIAL,
        "jdupont@example.org: end the user's sessions in the applications that sign in against "
        "this directory (in okta: the directory keeps no sessions to revoke).",
    ),
    (
        "waiting for approval",
        {
            "containments": [plan("awaiting_approval", decision="approve", attempts=0)],
            "approve_command": f"credwatch approve {EXPOSURE_ID}",
        },
        Situation.AWAITING_APPROVAL,
        f"Approve or reject containment in okta: credwatch approve {EXPOSURE_ID}.",
    ),
    (
        "stale",
        {
            "exposure": exposure(status=ExposureStatus.STALE),
            "containments": [plan()],
            "steps": [step("stale", Outcome.SKIPPED, "password changed after the leak")],
        },
        Situation.STALE,
        "Nothing to reset. If jdupont@example.org used the old password anywhere else, have "
        "it changed there.",
    ),
    (
        "external user: contact the partner",
        {
            "containments": [plan()],
            "steps": [step(STEP_BLOCK, DONE), step(STEP_REVOKE, DONE)],
            "partner_contact": "sec@acme.example",
        },
        Situation.BLOCKED,
        "Ask Acme (sec@acme.example) to reset the password of jdupont@example.org in their "
        "directory; lift the block once they confirm.",
    ),
    (
        "cookie with no portal hook",
        {
            "exposure": exposure(
                kind=CredentialKind.COOKIE,
                cookie_name="JSESSIONID",
                cookie_expires=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
            ),
            "containments": [plan()],
            "steps": [
                step(STEP_REVOKE, DONE),
                step(STEP_PORTAL, Outcome.SKIPPED, "no session hook for the portal"),
            ],
        },
        Situation.PARTIAL,
        "Ask the https://portail.example.org/kairos team to end every session of "
        "jdupont@example.org before 2026-01-02 03:04 UTC, when the stolen cookie expires.",
    ),
    (
        "alert only",
        {},
        Situation.ALERT_ONLY,
        "No automatic containment (alert only): have the password of jdupont@example.org "
        "changed and its sessions ended, or approve a containment policy for it.",
    ),
    (
        "needs an on-premises reset",
        {
            "containments": [plan()],
            "steps": [
                step(STEP_REVOKE, DONE),
                step(
                    STEP_RESET,
                    Outcome.SKIPPED,
                    "needs on-premises AD reset: the password is mastered there, a reset in "
                    "entra would not reach it; to do: reset the password in on-premises AD",
                ),
            ],
        },
        Situation.PARTIAL,
        "Reset the password of jdupont@example.org in on-premises AD, where it is mastered, "
        "and require a change.",
    ),
    (
        "failed for good",
        {
            "containments": [plan("failed", attempts=8, last_error="okta: HTTP 503")],
            "steps": [step(STEP_RESET, Outcome.FAILED, "okta: HTTP 503")],
        },
        Situation.FAILED,
        "Containment in okta failed after 8 attempts (okta: HTTP 503): Reset the password of "
        "jdupont@example.org in okta by hand and require a change.",
    ),
    (
        "failed, retried",
        {
            "containments": [plan("pending", attempts=2, last_error="okta: HTTP 503")],
            "steps": [step(STEP_RESET, Outcome.FAILED, "okta: HTTP 503")],
        },
        Situation.RETRYING,
        "Nothing is contained yet: containment in okta failed (okta: HTTP 503) and is retried "
        "automatically; if it keeps failing, contain by hand.",
    ),
    (
        "under way",
        {"containments": [plan("pending", attempts=0)]},
        Situation.UNDER_WAY,
        "Nothing yet: containment in okta is under way; a follow-up says whether it took effect.",
    ),
    (
        "dry run",
        {
            "containments": [plan(dry_run=True)],
            "steps": [step(STEP_RESET, Outcome.DRY_RUN), step(STEP_REVOKE, Outcome.DRY_RUN)],
        },
        Situation.DRY_RUN,
        "Contain jdupont@example.org by hand, or set [policy] enforce = true so credwatch does it.",
    ),
    (
        "no such user",
        {"containments": [plan()], "steps": [step("lookup", Outcome.NOT_FOUND)]},
        Situation.NOT_FOUND,
        "No such user in okta: check the account mapping, then reset the password of "
        "jdupont@example.org where the account lives.",
    ),
    (
        "dismissed",
        {"exposure": exposure(status=ExposureStatus.DISMISSED)},
        Situation.DISMISSED,
        "Nothing to do: it was dismissed.",
    ),
]


@pytest.mark.parametrize(("name", "given_", "situation", "first"), CASES, ids=[c[0] for c in CASES])
def test_each_situation_says_what_to_do(
    name: str, given_: dict[str, Any], situation: Situation, first: str
) -> None:
    facts = Facts(**{"exposure": exposure(), **given_})
    advice = advise(facts)
    assert advice.situation is situation
    assert plain(advice.todo[0]) == first
    # the infected machine is part of what to do (a stealer log gave its date), unless the
    # exposure was dismissed
    machine = "Have the infected machine cleaned or reinstalled" in plain(advice.todo[-1])
    assert machine is (situation is not Situation.DISMISSED)
    partner = advice.partner_done + " ".join(plain(t) for t in advice.partner_todo)
    for internal in ("credwatch", "okta", str(EXPOSURE_ID), "HTTP 503", "s…(8–11)"):
        assert internal not in partner
    assert "Clean or reinstall the infected machine" in partner


def test_identifiers_are_code_and_a_dump_login_is_defanged() -> None:
    own = advise(Facts(exposure=exposure()))
    spans = [s for s in own.todo[0] if s.code]
    assert [s.text for s in spans] == ["jdupont@example.org"]
    foreign = advise(Facts(exposure=exposure(login="x@evil.example", reasons=(Reason.PORTAL,))))
    assert [s.text for s in foreign.todo[0] if s.code] == []
    assert "x@evil[.]example" in plain(foreign.todo[0])


def test_partner_words_per_situation() -> None:
    contained = advise(
        Facts(
            exposure=exposure(),
            containments=[plan()],
            steps=[
                step(STEP_RESET, DONE),
                step(STEP_REQUIRE_CHANGE, DONE),
                step(STEP_REVOKE, DONE),
            ],
        )
    )
    assert contained.partner_done == (
        "We replaced the password on our side and ended the account's sessions."
    )
    assert not any("Reset the password" in plain(t) for t in contained.partner_todo)
    blocked = advise(
        Facts(
            exposure=exposure(),
            containments=[plan()],
            steps=[step(STEP_BLOCK, DONE), step(STEP_REVOKE, DONE)],
        )
    )
    assert "blocked the account's sign-in" in blocked.partner_done
    assert any("lift the block" in plain(t) for t in blocked.partner_todo)
    partial = advise(
        Facts(
            exposure=exposure(),
            containments=[plan()],
            steps=[step(STEP_REVOKE, DONE), step(STEP_RESET, Outcome.FAILED)],
        )
    )
    assert partial.partner_done == (
        "On our side we ended the account's sessions; the rest is not done yet."
    )


outcomes = st.sampled_from(list(Outcome))
steps_st = st.lists(
    st.tuples(
        st.sampled_from([STEP_RESET, STEP_REQUIRE_CHANGE, STEP_REVOKE, STEP_BLOCK, STEP_PORTAL]),
        outcomes,
    ),
    max_size=4,
)


@given(
    steps=steps_st,
    status=st.sampled_from(["pending", "done", "failed"]),
    cookie=st.booleans(),
    attempts=st.integers(0, 9),
)
def test_contained_only_when_every_required_step_is_recorded_done(
    steps: list[tuple[str, Outcome]], status: str, cookie: bool, attempts: int
) -> None:
    kind = CredentialKind.COOKIE if cookie else CredentialKind.PASSWORD
    advice = advise(
        Facts(
            exposure=exposure(kind=kind),
            containments=[plan(status, attempts=attempts)],
            steps=[step(name, outcome) for name, outcome in dict(steps).items()],
        )
    )
    done = {name for name, outcome in dict(steps).items() if outcome is Outcome.DONE}
    if advice.situation in (Situation.CONTAINED, Situation.BLOCKED):
        needed = {STEP_REVOKE, STEP_PORTAL} if cookie else {STEP_REVOKE}
        assert needed <= done
        assert done & ({STEP_PORTAL} if cookie else {STEP_RESET, STEP_BLOCK})
        if not cookie and STEP_BLOCK not in done:  # replaced: a new one must also be chosen
            assert {STEP_RESET, STEP_REQUIRE_CHANGE} <= done
    else:
        assert "Nothing more to do" not in " ".join(plain(t) for t in advice.todo)
