"""Every parser's time grows linearly with its input: long runs of one character in every field.

A backtracking pattern or a repeated scan shows as a time that grows with the square of the
run's length; each case is timed on a run and on a run eight times longer.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pytest

from feeds import breach, ulp
from feeds.cookies import parse_cookies
from feeds.stealer_passwords import parse_passwords
from feeds.stealer_sysinfo import date_from_folder, parse_sysinfo
from monitor.normalize import canonical_login, split_url

CHARS = ":/@.\\|;\t =-"
SHORT, LONG = 25_000, 200_000  # LONG = 8 × SHORT: linear ×8, quadratic ×64


def _json(ch: str) -> str:
    return {"\\": "\\\\", "\t": "\\t"}.get(ch, ch)


CASES: dict[str, Callable[[str, int], object]] = {
    "ulp url/login/password": lambda c, n: ulp.parse_ulp_line(f"https://{c * n}:{c * n}:{c * n}"),
    "ulp bare": lambda c, n: ulp.parse_ulp_line(c * n),
    "url": lambda c, n: split_url(f"https://a{c * n}/{c * n}"),
    "login": lambda c, n: canonical_login(f"a{c * n}@b{c * n}.fr"),
    "passwords block": lambda c, n: list(
        parse_passwords(
            [(1, f"URL: {c * n}"), (2, f"Username: {c * n}"), (3, f"Password: {c * n}")]
        )
    ),
    "cookies": lambda c, n: list(parse_cookies([(1, "\t".join([c * n] * 7))])),
    "sysinfo": lambda c, n: parse_sysinfo(
        "UserInformation.txt",
        iter([(1, f"Log date: {c * n}"), (2, f"HWID: {c * n}"), (3, f"TimeZone: {c * n}")]),
    ),
    "victim folder name": lambda c, n: date_from_folder(c * n),
    "csv": lambda c, n: list(
        breach.parse_corpus(
            io.StringIO(f"email,password\n{c * n},{c * n}\n"), origin="x", fmt="csv"
        )
    ),
    "jsonl": lambda c, n: list(
        breach.parse_corpus(
            io.StringIO(f'{{"email": "{_json(c) * n}", "password": "{_json(c) * n}"}}\n'),
            origin="x",
            fmt="jsonl",
        )
    ),
}


def _best(case: Callable[[str, int], object], ch: str, n: int) -> float:
    """The case's best CPU time of three: the thread's own CPU, so that other processes
    sharing the machine do not count (wall time made this flaky under load)."""
    best = float("inf")
    for _ in range(3):
        t0 = time.thread_time()
        case(ch, n)
        best = min(best, time.thread_time() - t0)
    return best


@pytest.mark.parametrize("name", sorted(CASES))
def test_parser_time_is_linear_in_a_run_of_one_character(name: str) -> None:
    case = CASES[name]
    for ch in CHARS:
        short = _best(case, ch, SHORT)
        long = _best(case, ch, LONG)
        # ×8 input: linear costs ×8, quadratic ×64; slack for timer noise on a shared machine.
        assert long < 24 * short + 0.05, (name, repr(ch), short, long)
