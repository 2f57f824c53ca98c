"""Lifecycle transitions and suppression rules, table-driven."""

from __future__ import annotations

import pytest

from monitor.lifecycle import State, TransitionRefused, Verb, next_state
from monitor.suppression import Field, Rule, canonical_pattern, first_covering

OP, A, R, D = State.OPEN, State.ACKNOWLEDGED, State.RESOLVED, State.DISMISSED

ALLOWED = {
    (OP, Verb.ACK): A,
    (OP, Verb.RESOLVE): R,
    (A, Verb.RESOLVE): R,
    (OP, Verb.DISMISS): D,
    (A, Verb.DISMISS): D,
    (A, Verb.REOPEN): OP,
    (R, Verb.REOPEN): OP,
    (D, Verb.REOPEN): OP,
}


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("verb", list(Verb))
def test_every_state_and_verb(state: State, verb: Verb) -> None:
    expected = ALLOWED.get((state, verb))
    if expected is None:
        with pytest.raises(TransitionRefused, match=f"cannot {verb.value}"):
            next_state(state, verb, "checked")
    else:
        assert next_state(state, verb, "checked") is expected


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_decision_needs_a_reason(reason: str) -> None:
    with pytest.raises(TransitionRefused, match="needs a reason"):
        next_state(OP, Verb.ACK, reason)


def rule(field: Field, pattern: str) -> Rule:
    return Rule(id=1, field=field, pattern=canonical_pattern(field, pattern), reason="r")


@pytest.mark.parametrize(
    ("r", "login", "host", "partner", "covered"),
    [
        (rule(Field.LOGIN, " Test.User@Example.org "), "test.user@example.org", "", None, True),
        (rule(Field.LOGIN, "test.user@example.org"), "other@example.org", "", None, False),
        (rule(Field.LOGIN, "unknown"), "", "h.example.org", None, False),  # placeholder: never
        (rule(Field.HOST, "*.Test.example.org."), "", "qa.test.example.org", None, True),
        (rule(Field.HOST, "*.test.example.org"), "", "test.example.org", None, False),
        (rule(Field.HOST, "intranet.example.org"), "", "", None, False),
        (rule(Field.PARTNER, "Acme"), "", "", "Acme", True),
        (rule(Field.PARTNER, "Acme"), "", "", "acme", False),
        (rule(Field.PARTNER, "Acme"), "", "", None, False),
    ],
)
def test_rule_covers(r: Rule, login: str, host: str, partner: str | None, covered: bool) -> None:
    assert r.covers(login=login, host=host, partner=partner) is covered


def test_first_covering_rule_wins() -> None:
    rules = [
        Rule(id=1, field=Field.PARTNER, pattern="Acme", reason="a"),
        Rule(id=2, field=Field.HOST, pattern="*", reason="b"),
    ]
    assert first_covering(rules, login="", host="x.org", partner="Acme") == rules[0]
    assert first_covering(rules, login="", host="x.org", partner=None) == rules[1]
    assert first_covering(rules[:1], login="", host="x.org", partner=None) is None
