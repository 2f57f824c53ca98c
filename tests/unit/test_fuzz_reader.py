"""Fuzzing the files feed end to end: any bytes, under any name a dump uses, in a folder or an
archive, give records and Problems only, never an exception, and never echo a secret-shaped
value into a Problem's reason (reasons are constant phrases)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.reader import FileFeed
from monitor.feed import ArchiveLimits, FeedTotals, ReadContext
from monitor.types import LeakedCredential, Problem, VictimInfo
from tests.gen.archives import tar_bytes, zip_bytes

NAMES = [
    "combo.txt",
    "dump.csv",
    "leak.jsonl",
    "export.json",
    "PC1/Passwords.txt",
    "PC1/All Passwords.txt",
    "PC1/Cookies/Chrome_Default.txt",
    "PC1/System.txt",
    "PC1/UserInformation.txt",
    "PC1/Autofills/Chrome.txt",
    "noextension",
]
# lines shaped like the formats, cut and glued at random: reaches parsers deeper than noise
SHAPES = [
    b"URL: https://portal.example/login\r\nUsername: bob@x.fr\r\nPassword: p@ss\r\n",
    b"https://portal.example/kairos:bob@x.fr:Secr3t\n",
    b".portal.example\tTRUE\t/\tTRUE\t1999999999\tsid\tabc\n",
    b"email,password\nbob@x.fr,hunter2\n",
    b'{"email": "bob@x.fr", "password": "hunter2"}\n',
    b"Date: 1/1/0001 00:00:00 (UTC+5)\nCountry: FR\nHWID: ABC\n",
    b"\xff\xfe" + "URL: x\n".encode("utf-16-le"),
    b"\x00" * 64,
    b":" * 2000 + b"\n",
]

chunks = st.one_of(st.binary(max_size=200), st.sampled_from(SHAPES))
content = st.lists(chunks, max_size=8).map(b"".join)


def read_all(path: Path, work: Path) -> list[object]:
    ctx = ReadContext(limits=ArchiveLimits(), passwords=(), workdir=work, member_cpu_seconds=5.0)
    return list(FileFeed().read(path, ctx, FeedTotals()))


def check(out: list[object]) -> None:
    for item in out:
        assert isinstance(item, LeakedCredential | Problem | VictimInfo), type(item)
        if isinstance(item, Problem):
            assert "hunter2" not in item.reason and "Secr3t" not in item.reason


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), data=content)
def test_fuzz_any_bytes_under_any_name(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "in" / name
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        (root / "work").mkdir()
        check(read_all(root / "in", root / "work"))


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=40)
@given(
    members=st.lists(
        st.tuples(st.sampled_from(NAMES), content), min_size=1, max_size=4, unique_by=lambda m: m[0]
    ),
    kind=st.sampled_from(["zip", "tar"]),
)
def test_fuzz_members_inside_archives(members: list[tuple[str, bytes]], kind: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / f"dump.{kind}"
        path.write_bytes(zip_bytes(members) if kind == "zip" else tar_bytes(members))
        (root / "work").mkdir()
        out = read_all(path, root / "work")
        check(out)
        assert not any((root / "work").iterdir())  # nothing left behind in the work dir
