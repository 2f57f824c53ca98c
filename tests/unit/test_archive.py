"""Tests for feeds.archive: nested and hostile archives, passwords, bombs, corruption, safety."""

from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

import pytest
import rarfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.archive import (
    ArchiveError,
    LimitExceeded,
    Member,
    Problem,
    read_member,
    safe_name,
    sniff_archive,
    walk,
)
from feeds.textio import iter_text_lines
from monitor.errors import FeedError
from monitor.feed import ArchiveLimits
from tests.gen import archives as gen

LEAF = [
    ("PC1/Passwords.txt", gen.text_lines(3)),
    ("PC1/Cookies/Chrome_Default.txt", b".example.org\tTRUE\t/\tTRUE\t0\tsid\tv\n"),
    ("__MACOSX/PC1/._Passwords.txt", b"\x00\x05\x16\x07"),
    ("PC1/.DS_Store", b"Bud1"),
    ("PC1/Thumbs.db", b"\xd0\xcf\x11\xe0"),
]
LEAF_NAMES = ["PC1/Passwords.txt", "PC1/Cookies/Chrome_Default.txt"]


def run(
    path: Path, workdir: Path, **kwargs: object
) -> list[tuple[str, str, int | None, bytes] | tuple[str, str, str]]:
    """Walk `path`; members become ("M", origin, size, content) or ("E", origin, reason) when
    reading them fails, problems ("P", origin, reason). Origins are relative to path's folder."""
    base = str(path.parent) + "/"
    out: list[tuple[str, str, int | None, bytes] | tuple[str, str, str]] = []
    for item in walk([path], workdir=workdir, **kwargs):  # type: ignore[arg-type]
        origin = item.origin.removeprefix(base)
        if isinstance(item, Problem):
            out.append(("P", origin, item.reason))
            continue
        try:
            with item.open() as stream:
                out.append(("M", origin, item.size, stream.read()))
        except FeedError as exc:
            assert isinstance(exc, ArchiveError)
            out.append(("E", origin, exc.reason))
    return out


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path / "work"


def test_nested_zip_three_levels_origin_chain(tmp_path: Path, workdir: Path) -> None:
    data = gen.nested_zip(["Part2/inner.zip", "deeper.zip"], LEAF)
    path = gen.write(tmp_path / "outer.zip", data)
    assert run(path, workdir) == [
        (
            "M",
            "outer.zip!Part2/inner.zip!deeper.zip!PC1/Passwords.txt",
            len(LEAF[0][1]),
            LEAF[0][1],
        ),
        (
            "M",
            "outer.zip!Part2/inner.zip!deeper.zip!PC1/Cookies/Chrome_Default.txt",
            33,
            LEAF[1][1],
        ),
    ]
    assert os.listdir(workdir) == []  # spool files are gone


def test_member_name_and_head(tmp_path: Path, workdir: Path) -> None:
    path = gen.write(tmp_path / "outer.zip", gen.nested_zip(["inner.zip"], LEAF))
    members = [m for m in walk([path], workdir=workdir) if isinstance(m, Member)]
    assert [m.name for m in members] == LEAF_NAMES
    assert members[0].head == LEAF[0][1]
    assert members[0].origin == f"{path}!inner.zip!PC1/Passwords.txt"


def test_depth_cap(tmp_path: Path, workdir: Path) -> None:
    data = gen.nested_zip(["Part2/inner.zip", "deeper.zip"], LEAF)
    path = gen.write(tmp_path / "outer.zip", data)
    assert run(path, workdir, limits=ArchiveLimits(max_depth=1)) == [
        ("P", "outer.zip!Part2/inner.zip!deeper.zip", "nesting too deep (depth 2)")
    ]
    assert run(path, workdir, limits=ArchiveLimits(max_depth=0)) == [
        ("P", "outer.zip!Part2/inner.zip", "nesting too deep (depth 1)")
    ]


@pytest.mark.parametrize("compression", ["", "gz", "bz2", "xz"])
def test_tar_variants(tmp_path: Path, workdir: Path, compression: str) -> None:
    path = gen.write(tmp_path / "logs.tar.x", gen.tar_bytes(LEAF, compression=compression))
    assert run(path, workdir) == [
        ("M", "logs.tar.x!PC1/Passwords.txt", len(LEAF[0][1]), LEAF[0][1]),
        ("M", "logs.tar.x!PC1/Cookies/Chrome_Default.txt", 33, LEAF[1][1]),
    ]


def test_tar_links_are_never_followed(tmp_path: Path, workdir: Path) -> None:
    path = gen.write(tmp_path / "links.tar", gen.tar_with_links([("a.txt", b"a")]))
    assert run(path, workdir) == [("M", "links.tar!a.txt", 1, b"a")]


def test_sevenzip(tmp_path: Path, workdir: Path) -> None:
    big = gen.junk(3 << 20)
    path = gen.write(tmp_path / "logs.7z", gen.sevenzip_bytes([*LEAF, ("PC2/screen.bin", big)]))
    assert run(path, workdir) == [
        ("M", "logs.7z!PC1/Passwords.txt", len(LEAF[0][1]), LEAF[0][1]),
        ("M", "logs.7z!PC1/Cookies/Chrome_Default.txt", 33, LEAF[1][1]),
        ("M", "logs.7z!PC2/screen.bin", 3 << 20, big),
    ]


def test_sevenzip_walk_abandoned_midway_stops_its_thread(tmp_path: Path, workdir: Path) -> None:
    members = [(f"f{i}.bin", gen.junk(1 << 20, seed=i)) for i in range(4)]
    path = gen.write(tmp_path / "many.7z", gen.sevenzip_bytes(members))
    before = threading.active_count()
    items = walk([path], workdir=workdir)
    first = next(items)
    assert isinstance(first, Member)
    items.close()
    assert threading.active_count() == before


def test_tar_gz_inside_zip_inside_7z(tmp_path: Path, workdir: Path) -> None:
    tgz = gen.tar_bytes(LEAF[:1], compression="gz")
    data = gen.sevenzip_bytes([("sets/a.zip", gen.zip_bytes([("logs.tgz", tgz)]))])
    path = gen.write(tmp_path / "mix.7z", data)
    assert run(path, workdir) == [
        ("M", "mix.7z!sets/a.zip!logs.tgz!PC1/Passwords.txt", len(LEAF[0][1]), LEAF[0][1])
    ]


def test_single_gzip_stream_is_one_member(tmp_path: Path, workdir: Path) -> None:
    body = gen.text_lines(100)
    path = gen.write(tmp_path / "base.txt.gz", gzip.compress(body))
    assert run(path, workdir) == [("M", "base.txt.gz!base.txt", None, body)]


@pytest.mark.parametrize(
    ("passwords", "expected"),
    [
        (["wrong", "infected", "s3cret"], "ok"),
        (["wrong", "infected"], "no fit"),
        ([], "no fit"),
    ],
)
def test_zipcrypto_password_list(
    tmp_path: Path, workdir: Path, passwords: list[str], expected: str
) -> None:
    path = gen.write(tmp_path / "locked.zip", gen.zipcrypto_bytes(LEAF[:2], "s3cret"))
    result = run(path, workdir, passwords=passwords)
    if expected == "ok":
        assert result == [
            ("M", "locked.zip!PC1/Passwords.txt", len(LEAF[0][1]), LEAF[0][1]),
            ("M", "locked.zip!PC1/Cookies/Chrome_Default.txt", 33, LEAF[1][1]),
        ]
    else:
        reason = "encrypted, no configured password fits"
        assert result == [
            ("P", "locked.zip!PC1/Passwords.txt", reason),
            ("P", "locked.zip!PC1/Cookies/Chrome_Default.txt", reason),
        ]


def test_aes_zip_password_list(tmp_path: Path, workdir: Path) -> None:
    pytest.importorskip("pyzipper")
    path = gen.write(tmp_path / "aes.zip", gen.aes_zip_bytes(LEAF[:1], "s3cret"))
    assert run(path, workdir, passwords=["nope", "s3cret"]) == [
        ("M", "aes.zip!PC1/Passwords.txt", len(LEAF[0][1]), LEAF[0][1])
    ]
    assert run(path, workdir, passwords=["nope"]) == [
        ("P", "aes.zip!PC1/Passwords.txt", "encrypted, no configured password fits")
    ]


@pytest.mark.parametrize("header_encryption", [False, True])
def test_encrypted_sevenzip_password_list(
    tmp_path: Path, workdir: Path, header_encryption: bool
) -> None:
    data = gen.sevenzip_bytes(LEAF[:1], password="s3cret", header_encryption=header_encryption)
    path = gen.write(tmp_path / "locked.7z", data)
    assert run(path, workdir, passwords=["nope", "s3cret"]) == [
        ("M", "locked.7z!PC1/Passwords.txt", len(LEAF[0][1]), LEAF[0][1])
    ]
    assert run(path, workdir, passwords=["nope"]) == [
        ("P", "locked.7z", "encrypted, no configured password fits")
    ]


def test_traversal_names_are_sanitised_and_nothing_is_written(tmp_path: Path) -> None:
    inside = tmp_path / "deep" / "inside"
    workdir = inside / "work"
    hostile = [
        ("../evil.txt", b"e"),
        ("/abs.txt", b"a"),
        ("..\\win.txt", b"w"),
        ("..\\..\\x.txt", b"x"),
        ("C:\\Windows\\y.txt", b"y"),
        ("a/../../b.txt", b"b"),
    ]
    zipped = gen.write(inside / "t.zip", gen.zip_bytes(hostile))
    tarred = gen.write(inside / "t.tar", gen.tar_bytes(hostile[:2]))
    nested = gen.write(inside / "n.zip", gen.zip_bytes([("../../inner.zip", zipped.read_bytes())]))
    before = gen.listing(tmp_path)
    members = [
        item for item in walk([zipped, tarred, nested], workdir=workdir) if isinstance(item, Member)
    ]
    assert [m.name for m in members] == [
        "evil.txt", "abs.txt", "win.txt", "x.txt", "Windows/y.txt", "a/b.txt",
        "evil.txt", "abs.txt",
        "evil.txt", "abs.txt", "win.txt", "x.txt", "Windows/y.txt", "a/b.txt",
    ]  # fmt: skip
    assert members[-1].origin == f"{nested}!inner.zip!a/b.txt"
    after = gen.listing(tmp_path)
    assert after == [*before, "deep/inside/work"]  # only the (now empty) spool folder
    assert os.listdir(workdir) == []


def test_safe_name() -> None:
    assert safe_name("../evil.txt") == "evil.txt"
    assert safe_name("/etc/x") == "etc/x"
    assert safe_name("C:\\x") == "x"
    assert safe_name("..\\..\\x") == "x"
    assert safe_name("PC1\\Cookies\\a.txt") == "PC1/Cookies/a.txt"
    assert safe_name("./a//b/./c") == "a/b/c"
    assert safe_name("..") == "_"
    assert safe_name("a\nb\x00c") == "a_b_c"


def test_zip_bomb_declared_ratio(tmp_path: Path, workdir: Path) -> None:
    path = gen.write(tmp_path / "bomb.zip", gen.zip_of_zeros("zeros.bin", 50 << 20))
    assert run(path, workdir, limits=ArchiveLimits(max_ratio=100)) == [
        ("P", "bomb.zip!zeros.bin", "zip bomb (ratio 1028)")
    ]
    assert run(path, workdir, limits=ArchiveLimits(max_member_size=10 << 20)) == [
        ("P", "bomb.zip!zeros.bin", "member size limit exceeded")
    ]


BENIGN = ("ok.txt", b"https://portal.example/login:bob:pw\n")


def test_overlapping_zip_entries_are_skipped_before_inflating(
    tmp_path: Path, workdir: Path
) -> None:
    data = gen.overlapping_zip(200, kernel_size=2 << 20, extra=[BENIGN])
    path = gen.write(tmp_path / "overlap.zip", data)
    assert run(path, workdir) == [
        ("P", "overlap.zip", "200 overlapping entries skipped (a zip bomb)"),
        ("M", "overlap.zip!ok.txt", len(BENIGN[1]), BENIGN[1]),
    ]


def test_zip_entry_claiming_data_past_the_end_is_skipped(tmp_path: Path, workdir: Path) -> None:
    data = gen.lying_packed_size([("a.txt", b"x" * 100), BENIGN], "a.txt")
    path = gen.write(tmp_path / "lying.zip", data)
    assert run(path, workdir) == [
        ("P", "lying.zip", "1 entries with impossible sizes skipped"),
        ("M", "lying.zip!ok.txt", len(BENIGN[1]), BENIGN[1]),
    ]


def test_archive_ratio_counts_what_its_members_inflate_together(
    tmp_path: Path, workdir: Path
) -> None:
    # each member stays under the per-member ratio floor; together they are a bomb
    members = [BENIGN] + [(f"z{i:02}.bin", bytes(1 << 20)) for i in range(40)]
    path = gen.write(tmp_path / "many.zip", gen.zip_bytes(members))
    limits = ArchiveLimits(max_ratio=100)
    out = run(path, workdir, limits=limits)
    assert out[0] == ("M", "many.zip!ok.txt", len(BENIGN[1]), BENIGN[1])
    read = sum(item[2] for item in out if item[0] == "M")  # type: ignore[misc]
    skipped = [item for item in out if item[0] == "P"]
    assert read <= path.stat().st_size * 100
    assert skipped and {item[2] for item in skipped} == {
        "archive bomb (inflates beyond 100x its size)"
    }
    assert len(out) == len(members)  # every member accounted for: read or reported


def test_7z_bomb_folder_costs_only_itself(tmp_path: Path, workdir: Path) -> None:
    members = [BENIGN, ("zeros.bin", bytes(8 << 20)), ("after.txt", b"still here\n")]
    path = gen.write(tmp_path / "split.7z", gen.sevenzip_folders(members))
    out = run(path, workdir, limits=ArchiveLimits(max_ratio=100))
    assert ("M", "split.7z!ok.txt", len(BENIGN[1]), BENIGN[1]) in out
    assert ("M", "split.7z!after.txt", 11, b"still here\n") in out
    assert [item[:2] for item in out if item[0] == "P"] == [("P", "split.7z!zeros.bin")]
    assert str(next(item for item in out if item[0] == "P")[2]).startswith("zip bomb (ratio ")


def test_7z_solid_bomb_keeps_the_members_before_it(tmp_path: Path, workdir: Path) -> None:
    members = [BENIGN, ("zeros.bin", bytes(8 << 20)), ("after.txt", b"behind\n")]
    path = gen.write(tmp_path / "solid.7z", gen.sevenzip_bytes(members))
    out = run(path, workdir, limits=ArchiveLimits(max_ratio=100))
    assert out[-1] == ("M", "solid.7z!ok.txt", len(BENIGN[1]), BENIGN[1])
    problems = {item[1]: item[2] for item in out if item[0] == "P"}
    assert str(problems.pop("solid.7z!zeros.bin")).startswith("zip bomb (ratio ")
    assert problems == {"solid.7z!after.txt": "skipped: behind a bomb in its solid block"}


def test_gzip_bomb_is_stopped_while_streaming(tmp_path: Path, workdir: Path) -> None:
    path = gen.write(tmp_path / "zeros.gz", gzip.compress(bytes(50 << 20)))
    assert run(path, workdir, limits=ArchiveLimits(max_ratio=100)) == [
        ("E", "zeros.gz!zeros", "zip bomb (ratio 100)")
    ]
    with pytest.raises(LimitExceeded):
        for item in walk([path], workdir=workdir, limits=ArchiveLimits(max_member_size=2 << 20)):
            assert isinstance(item, Member)
            with item.open() as stream:
                while stream.read(1 << 20):
                    pass


def test_total_size_and_member_count_limits(tmp_path: Path, workdir: Path) -> None:
    members = [(f"f{i}.txt", gen.text_lines(100, seed=i)) for i in range(5)]
    path = gen.write(tmp_path / "five.zip", gen.zip_bytes(members))
    result = run(path, workdir, limits=ArchiveLimits(max_members=3))
    assert [r[1] for r in result] == [
        "five.zip!f0.txt",
        "five.zip!f1.txt",
        "five.zip!f2.txt",
        "five.zip",
    ]
    assert result[-1] == ("P", "five.zip", "too many members")
    size = len(members[0][1])
    result = run(path, workdir, limits=ArchiveLimits(max_total_size=2 * size + 10))
    assert result[-1] == ("P", "five.zip", "archive total size limit exceeded")
    assert len(result) == 3


def test_bad_crc_small_member_is_a_problem_and_walk_goes_on(tmp_path: Path, workdir: Path) -> None:
    data = gen.flip_stored_byte(LEAF[:2], "PC1/Passwords.txt")
    path = gen.write(tmp_path / "crc.zip", data)
    assert run(path, workdir) == [
        ("P", "crc.zip!PC1/Passwords.txt", "bad CRC"),
        ("M", "crc.zip!PC1/Cookies/Chrome_Default.txt", 33, LEAF[1][1]),
    ]


def test_bad_crc_large_member_fails_mid_read(tmp_path: Path, workdir: Path) -> None:
    body = gen.text_lines(5000)
    data = gen.flip_stored_byte([("big.txt", body), ("next.txt", b"n")], "big.txt")
    path = gen.write(tmp_path / "crc.zip", data)
    assert run(path, workdir) == [
        ("E", "crc.zip!big.txt", "bad CRC"),
        ("M", "crc.zip!next.txt", 1, b"n"),
    ]
    items = walk([path], workdir=workdir)
    member = next(items)  # valid while the walk stays on it
    assert isinstance(member, Member)
    assert read_member(member, lambda s: s.read()) == Problem(
        origin=f"{path}!big.txt", reason="bad CRC"
    )
    # the consumer-side pattern: the line reader surfaces the error mid-stream
    with pytest.raises(FeedError), member.open() as stream:
        for _ in iter_text_lines(stream):
            pass
    items.close()


def test_corrupt_deflate_data_is_reported(tmp_path: Path, workdir: Path) -> None:
    data = gen.flip_deflated_byte([("a.txt", gen.text_lines(2000)), ("b.txt", b"b")], "a.txt")
    path = gen.write(tmp_path / "bad.zip", data)
    result = run(path, workdir)
    assert result[0][:2] == ("E", "bad.zip!a.txt")
    assert result[0][2] in ("bad CRC", "bad compressed data")
    assert result[1] == ("M", "bad.zip!b.txt", 1, b"b")


def test_truncated_zip_yields_complete_members_and_one_problem(
    tmp_path: Path, workdir: Path
) -> None:
    members = [("a.txt", b"aaa"), ("b/b.txt", b"bbb"), ("c.bin", gen.junk(10_000))]
    path = gen.write(tmp_path / "cut.zip", gen.truncated_zip(members))
    assert run(path, workdir) == [
        ("P", "cut.zip", "truncated archive (no central directory)"),
        ("M", "cut.zip!a.txt", 3, b"aaa"),
        ("M", "cut.zip!b/b.txt", 3, b"bbb"),
    ]


def test_truncated_tar_gz_yields_what_it_can(tmp_path: Path, workdir: Path) -> None:
    data = gen.tar_bytes(
        [("a.txt", b"aaa"), ("b.txt", b"bbb"), ("c.bin", gen.junk(100_000))], compression="gz"
    )
    path = gen.write(tmp_path / "cut.tgz", data[: len(data) // 2])
    assert run(path, workdir) == [
        ("M", "cut.tgz!a.txt", 3, b"aaa"),
        ("M", "cut.tgz!b.txt", 3, b"bbb"),
        ("E", "cut.tgz!c.bin", "truncated data"),
        ("P", "cut.tgz", "truncated archive"),
    ]


def test_binary_junk_member_and_fake_archive(tmp_path: Path, workdir: Path) -> None:
    junk = gen.junk(50_000)
    fake = b"PK\x03\x04" + gen.junk(300, seed=9)
    path = gen.write(tmp_path / "j.zip", gen.zip_bytes([("shot.jpg", junk), ("fake.zip", fake)]))
    result = run(path, workdir)
    assert result[0] == ("M", "j.zip!shot.jpg", 50_000, junk)
    assert result[1][0] == "P"
    assert result[1][1] == "j.zip!fake.zip"
    assert len(result) == 2


def test_single_pass_member_can_be_reopened_after_a_sniff(tmp_path: Path, workdir: Path) -> None:
    body = gen.text_lines(50_000)  # ~3 MB: beyond the replay buffer once read
    path = gen.write(tmp_path / "t.tgz", gen.tar_bytes([("base.txt", body)], compression="gz"))
    items = walk([path], workdir=workdir)
    member = next(items)  # valid while the walk stays on it
    assert isinstance(member, Member)
    with member.open() as first:
        assert first.read(65536) == body[:65536]
    with member.open() as second:
        assert second.read() == body
    with pytest.raises(ArchiveError):
        member.open()
    assert list(items) == []


def test_rar_stored_member_is_read(tmp_path: Path, workdir: Path) -> None:
    path = gen.write(tmp_path / "r.rar", gen.rar4_bytes([("PC1/Passwords.txt", b"hello")]))
    assert run(path, workdir) == [("M", "r.rar!PC1/Passwords.txt", 5, b"hello")]


def test_rar_without_backend_is_a_clear_problem(tmp_path: Path, workdir: Path) -> None:
    try:
        rarfile.tool_setup()
    except rarfile.RarCannotExec:
        pass
    else:
        pytest.skip("an unrar backend is installed")
    data = gen.rar4_bytes([("PC1/Passwords.txt", b"hello")], method=0x33)
    path = gen.write(tmp_path / "c.rar", data)
    assert run(path, workdir) == [("P", "c.rar", "rar backend missing")]


def test_folders_sorted_noise_skipped_symlinks_contained(tmp_path: Path, workdir: Path) -> None:
    root = tmp_path / "logs"
    gen.write(root / "b" / "Passwords.txt", b"b")
    gen.write(root / "a" / "Passwords.txt", b"a")
    gen.write(root / "a" / "inner.zip", gen.zip_bytes([("x.txt", b"x")]))
    gen.write(root / "top.txt", b"t")
    gen.write(root / ".DS_Store", b"d")
    gen.write(root / "__MACOSX" / "._top.txt", b"m")
    gen.write(tmp_path / "secret.txt", b"outside")
    (root / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (root / "alias.txt").symlink_to(root / "top.txt")
    (root / "loop").symlink_to(root, target_is_directory=True)
    items = list(walk([root], workdir=workdir))
    assert [(type(i).__name__, i.origin.removeprefix(str(root) + "/")) for i in items] == [
        ("Member", "alias.txt"),
        ("Problem", "escape.txt"),
        ("Member", "top.txt"),
        ("Member", "a/Passwords.txt"),
        ("Member", "a/inner.zip!x.txt"),
        ("Member", "b/Passwords.txt"),
    ]
    assert items[1] == Problem(origin=str(root / "escape.txt"), reason="symlink leaves the tree")
    member = items[3]
    assert isinstance(member, Member)
    assert member.name == "a/Passwords.txt"


def test_missing_path_is_a_problem(tmp_path: Path, workdir: Path) -> None:
    assert list(walk([tmp_path / "nope.zip"], workdir=workdir)) == [
        Problem(origin=str(tmp_path / "nope.zip"), reason="not found")
    ]


def test_sniff_archive() -> None:
    assert sniff_archive(gen.zip_bytes([("a", b"a")])) == "zip"
    assert sniff_archive(gen.tar_bytes([("a", b"a")])) == "tar"
    assert sniff_archive(gen.tar_bytes([("a", b"a")], compression="gz")) == "gz"
    assert sniff_archive(gen.tar_bytes([("a", b"a")], compression="bz2")) == "bz2"
    assert sniff_archive(gen.tar_bytes([("a", b"a")], compression="xz")) == "xz"
    assert sniff_archive(gen.sevenzip_bytes([("a", b"a")])) == "7z"
    assert sniff_archive(gen.rar4_bytes([("a", b"a")])) == "rar"
    assert sniff_archive(b"https://a.example:u:p\n" * 40) is None


def test_member_from_bytes() -> None:
    member = Member.from_bytes(origin="x.txt", name="x.txt", data=b"abc")
    assert member.size == 3
    assert member.head == b"abc"
    assert read_member(member, lambda s: s.read()) == b"abc"
    assert "abc" not in repr(member)


_MAGICS = [
    b"",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07\x00",
    b"Rar!\x1a\x07\x01\x00",
    b"\x1f\x8b\x08\x00",
    b"BZh91AY&SY",
    b"\xfd7zXZ\x00",
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(_MAGICS), st.binary(max_size=1500), st.integers(0, 600))
def test_walk_never_raises_on_arbitrary_bytes(
    tmp_path: Path, magic: bytes, body: bytes, tar_at: int
) -> None:
    data = magic + body
    if tar_at and len(data) >= 512 and not magic:
        data = data[:257] + b"ustar" + data[262:]
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    for item in walk([path], workdir=tmp_path / "work", passwords=["x"]):
        if isinstance(item, Member):
            read_member(item, lambda s: s.read())
    assert not (tmp_path / "work").exists() or os.listdir(tmp_path / "work") == []


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(0, 10_000), st.binary(min_size=1, max_size=8))
def test_walk_never_raises_on_damaged_real_archives(
    tmp_path: Path, position: int, patch: bytes
) -> None:
    for data in (
        gen.zip_bytes(LEAF),
        gen.tar_bytes(LEAF, compression="gz"),
        gen.sevenzip_bytes(LEAF),
        gen.nested_zip(["in.zip"], LEAF),
    ):
        at = position % len(data)
        damaged = data[:at] + patch + data[at + len(patch) :]
        for cut in (damaged, damaged[: max(1, at)]):
            path = tmp_path / "damaged.bin"
            path.write_bytes(cut)
            for item in walk([path], workdir=tmp_path / "work"):
                if isinstance(item, Member):
                    read_member(item, lambda s: s.read())
