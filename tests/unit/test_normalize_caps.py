"""Hosts longer than DNS allows never reach the IDNA codec: a megabyte host, label or e-mail
domain costs a scan of its characters, not the codec's faster-than-linear work."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from monitor.normalize import MAX_HOST, MAX_LABEL, canonical_host, email_domain, split_url

SHORT, LONG = 25_000, 200_000  # ×8: linear ×8, quadratic ×64

CASES: dict[str, Callable[[int], object]] = {
    "one long label": lambda n: canonical_host("é" * n + ".fr"),
    "many short labels": lambda n: canonical_host("é." * n + "fr"),
    "e-mail domain": lambda n: email_domain("a@" + "éa" * n + ".fr"),
    "url host": lambda n: split_url("https://" + "ü" * n + "/x"),
    "url host of labels": lambda n: split_url("https://" + "ü." * n + "fr/x"),
}


def _best(case: Callable[[int], object], n: int) -> float:
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        case(n)
        best = min(best, time.perf_counter() - t0)
    return best


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_huge_host_costs_no_more_than_a_scan(name: str) -> None:
    case = CASES[name]
    short, long = _best(case, SHORT), _best(case, LONG)
    assert long < 24 * short + 0.05, (name, short, long)
    assert _best(case, 1_000_000) < 0.5, name  # the codec took seconds on this


def test_names_within_dns_limits_are_still_encoded() -> None:
    label = "é" * 20  # A-label "xn--9caaaa…" well under 63 characters
    host = ".".join([label] * 4)
    assert len(host) <= MAX_HOST
    assert canonical_host(host) == host.encode("idna").decode("ascii")
    assert canonical_host("Bücher.Example.") == "xn--bcher-kva.example"
    assert email_domain("a@bücher.example") == "xn--bcher-kva.example"


def test_names_past_dns_limits_are_kept_as_given() -> None:
    long_label = "é" * (MAX_LABEL + 1) + ".fr"
    with pytest.raises(UnicodeError):
        long_label.encode("idna")  # what the codec says, at far greater cost when longer
    assert canonical_host(long_label) == long_label
    many = "é." * MAX_HOST + "fr"
    assert canonical_host(many) == many
