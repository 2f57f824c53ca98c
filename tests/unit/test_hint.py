"""The masked hint: at most two characters of a secret and its length as a bucket."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monitor.hint import ELLIPSIS, bucket, mask
from monitor.types import Secret


def test_buckets_and_what_each_reveals() -> None:
    assert mask("") == "…(0)"
    assert mask("abc12") == "…(1–7)"
    assert mask("s3cretpw") == "s…(8–11)"
    assert mask("Correct-Hor") == "C…(8–11)"
    assert mask("Correct-Horse") == "C…(12–15)"
    assert mask("Correct-Horse-42") == "C…2(16–23)"
    assert mask("x" * 200 + "Z") == "x…Z(24+)"
    assert bucket(23) == ("16–23", 2) and bucket(24) == ("24+", 2)
    assert Secret("Correct-Horse-42").hint == "C…2(16–23)"


def test_unprintable_characters_never_reach_the_hint() -> None:
    assert mask("\x1b" + "a" * 10) == "?…(8–11)"
    assert mask("a" * 20 + "\udcff") == "a…?(16–23)"


@given(st.text(max_size=80))
def test_at_most_two_characters_are_revealed(secret: str) -> None:
    hint = mask(secret)
    shown, _, rest = hint.partition(ELLIPSIS)
    revealed = shown + rest[: rest.index("(")]
    assert len(revealed) <= 2
    assert len(revealed) == 0 or len(secret) >= 8
    label, _ = bucket(len(secret))
    assert hint.endswith(f"({label})")
