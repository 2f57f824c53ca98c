"""The per-member watchdog: a member over its CPU budget is one Problem, the next is read."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import feeds.reader
from feeds.reader import FileFeed
from feeds.watchdog import MemberTimeout, Watchdog
from monitor.feed import ArchiveLimits, FeedTotals, ReadContext
from monitor.types import LeakedCredential, Problem
from tests.gen.archives import zip_bytes


def burn(seconds: float) -> None:
    """Spend CPU (not wall) time: the watchdog counts the thread's CPU."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_slow_member_becomes_a_problem_and_the_next_one_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock = feeds.reader._ulp_credential

    def pathological(line: bytes, line_no: int, origin: str) -> LeakedCredential | None:
        if b"slow.example" in line:
            burn(0.05)
        return stock(line, line_no, origin)

    monkeypatch.setattr(feeds.reader, "_ulp_credential", pathological)
    slow = "".join(f"https://slow.example/login:user{i}:pw{i}\n" for i in range(200))
    fast = "".join(f"https://fast.example/login:user{i}:pw{i}\n" for i in range(200))
    path = tmp_path / "dump.zip"
    path.write_bytes(zip_bytes([("a_slow.txt", slow.encode()), ("b_fast.txt", fast.encode())]))
    work = tmp_path / "work"
    work.mkdir()
    ctx = ReadContext(limits=ArchiveLimits(), passwords=(), workdir=work, member_cpu_seconds=0.3)
    out = list(FileFeed().read(path, ctx, FeedTotals()))
    slow_read = [r for r in out if isinstance(r, LeakedCredential) and r.host == "slow.example"]
    assert len(slow_read) < 50  # 0.3 s of CPU is about 6 lines at 0.05 s each, not 200
    problems = [r for r in out if isinstance(r, Problem)]
    assert [(p.origin.rsplit("/", 1)[-1], p.reason) for p in problems] == [
        ("dump.zip!a_slow.txt", "member over its time budget (0.3 s of CPU)")
    ]
    fast_hosts = {r.host for r in out if isinstance(r, LeakedCredential) and r.host}
    assert "fast.example" in fast_hosts
    assert (
        sum(1 for r in out if isinstance(r, LeakedCredential) and r.host == "fast.example") == 200
    )


def test_budget_grows_with_bytes_read_so_big_honest_members_are_not_cut() -> None:
    dog = Watchdog(0.01)
    burn(0.05)
    with pytest.raises(MemberTimeout):
        dog.check()
    dog = Watchdog(0.01)
    dog.count(1 << 20)  # one MiB read grants one more CPU second
    burn(0.05)
    dog.check()


def test_records_look_at_the_clock_every_ticks_calls() -> None:
    from feeds.watchdog import TICKS

    dog = Watchdog(0.01)
    burn(0.05)
    for _ in range(TICKS - 1):
        dog.tick()  # over budget, but the clock is not read yet
    with pytest.raises(MemberTimeout):
        dog.tick()


def test_waiting_does_not_count() -> None:
    dog = Watchdog(0.05)
    time.sleep(0.2)  # blocked on the store, say: no CPU spent
    dog.check()


def test_problem_log_is_bounded_with_one_summary(caplog: pytest.LogCaptureFixture) -> None:
    from monitor.problem_log import LOGGED, ProblemLog

    plog = ProblemLog("42.zip")
    with caplog.at_level("WARNING", logger="monitor.pipeline"):
        for i in range(65_536):
            plog.add(Problem(origin=f"42.zip!{i}.zip", reason="nesting too deep (depth 5)"))
        plog.close()
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("input skipped") == LOGGED
    assert messages.count("more input problems") == 1
    summary = next(r for r in caplog.records if r.getMessage() == "more input problems")
    assert summary.count == 65_536 - LOGGED  # type: ignore[attr-defined]
