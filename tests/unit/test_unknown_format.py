"""A text member that is no known shape is one `unknown format` problem, with its origin."""

from __future__ import annotations

from pathlib import Path

from feeds.content import unknown_format
from feeds.reader import FileFeed
from feeds.ulp import parse_ulp_line
from monitor.feed import ArchiveLimits, FeedTotals, ReadContext
from monitor.types import Problem, Secret
from tests.gen.archives import zip_bytes
from tests.gen.shapes import logins, prose_lines, ulp_lines
from tests.unit.test_content_shapes import creds, read


def _parses(line: str) -> bool:
    return parse_ulp_line(line) is not None


def _unknown(records: list[object]) -> list[Problem]:
    return [r for r in records if isinstance(r, Problem) and r.reason == "unknown format"]


def test_head_sample_decides() -> None:
    assert unknown_format(prose_lines(30).encode(), _parses)
    assert not unknown_format(ulp_lines(logins(30)).encode(), _parses)
    assert not unknown_format(b"", _parses)
    assert not unknown_format("\n".join(["x"] * 5).encode("utf-16"), _parses)


def test_unknown_text_member_is_one_problem_with_its_origin(tmp_path: Path) -> None:
    data = zip_bytes([("PC1/Notes/readme.txt", prose_lines(200).encode())])
    got = read(tmp_path, "dump.zip", data)
    problems = _unknown(got)
    assert [p.origin for p in problems] == [f"{tmp_path / 'dump.zip'}!PC1/Notes/readme.txt"]
    assert creds(got) == []


def test_loose_unknown_file_is_a_problem(tmp_path: Path) -> None:
    got = read(tmp_path, "notes.txt", prose_lines(50).encode())
    assert [p.origin for p in _unknown(got)] == [str(tmp_path / "notes.txt")]


def test_ulp_with_a_banner_is_not_unknown(tmp_path: Path) -> None:
    items = logins(20)
    text = "Fresh ULP base, join our channel\n\n" + ulp_lines(items)
    got = read(tmp_path, "base.txt", text.encode())
    assert _unknown(got) == []
    assert [(c.login, c.secret) for c in creds(got)] == [
        (it.login, Secret(it.password)) for it in items
    ]


def test_credential_lines_after_an_unknown_head_are_still_read(tmp_path: Path) -> None:
    items = logins(3)
    text = prose_lines(30) + ulp_lines(items)
    got = read(tmp_path, "mixed.txt", text.encode())
    assert len(_unknown(got)) == 1
    assert [c.login for c in creds(got)] == [it.login for it in items]


def test_unknown_format_counts_in_the_totals(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(prose_lines(40).encode())
    work = tmp_path / "work"
    work.mkdir()
    totals = FeedTotals()
    list(
        FileFeed().read(
            path, ReadContext(limits=ArchiveLimits(), passwords=(), workdir=work), totals
        )
    )
    assert totals.problems == 1


def test_expected_stealer_output_is_read_but_not_reported(tmp_path: Path) -> None:
    items = logins(2)
    victim = "Lumma_P002_V83BGDUE9QK7BUIZ"
    data = zip_bytes(
        [
            (f"{victim}/Processes.txt", prose_lines(40).encode()),
            (f"{victim}/Software.txt", prose_lines(40, seed=3).encode()),
            (f"{victim}/Chrome/Debug.txt", prose_lines(40, seed=5).encode()),
            (f"{victim}/Google_[Chrome]_Default Token.txt", b"1//04S5462mujCNKFBPXn9pEXAMPLE\n"),
            (f"{victim}/Clipboard.txt", (prose_lines(30) + ulp_lines(items)).encode()),
            (f"{victim}/Notes/todo.txt", prose_lines(40, seed=9).encode()),
        ]
    )
    got = read(tmp_path, "dump.zip", data)
    # only the file no stealer is known to write is reported; the others are read all the same
    assert [p.origin for p in _unknown(got)] == [f"{tmp_path / 'dump.zip'}!{victim}/Notes/todo.txt"]
    assert [c.login for c in creds(got)] == [it.login for it in items]  # from the clipboard
