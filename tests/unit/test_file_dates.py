"""The archive's own dates: what each container says a member was written, which of those dates
are evidence (no format's zero date, nothing in the future), and the earliest one of a victim
folder's stealer files carried with its matches."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import py7zr
import pytest

from feeds.archive import Member, walk
from feeds.reader import FileFeed
from monitor.config import load_config
from monitor.feed import ArchiveLimits, FeedTotals, ReadContext
from monitor.freshness import plausible_file_date
from monitor.pipeline import matches
from monitor.types import Match
from monitor.victims import Victims
from monitor.watchlist import build_watchlist

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WRITTEN = datetime(2026, 3, 1, 8, 0, 4, tzinfo=UTC)  # even: zip dates count 2 s
PORTAL = "https://portail-partenaire.francetravail.fr/kairos"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (WRITTEN, WRITTEN),
        (datetime(2026, 3, 1, 8, 0, 4), WRITTEN),  # naive = UTC
        (datetime(1980, 1, 1, tzinfo=UTC), None),  # the zip (DOS) default
        (datetime(1980, 12, 31, 23, 59, tzinfo=UTC), None),
        (datetime(1970, 1, 1, tzinfo=UTC), None),  # the Unix epoch
        (datetime(1981, 1, 2, tzinfo=UTC), datetime(1981, 1, 2, tzinfo=UTC)),
        (NOW + timedelta(hours=20), NOW + timedelta(hours=20)),  # clocks and zones differ
        (NOW + timedelta(days=2), None),  # in the future: a wrong clock
        (None, None),
    ],
)
def test_which_file_dates_are_evidence(when: datetime | None, expected: datetime | None) -> None:
    assert plausible_file_date(when, now=NOW) == expected


def members(path: Path, workdir: Path) -> dict[str, datetime | None]:
    out = {}
    for item in walk([path], workdir=workdir):
        assert isinstance(item, Member), item
        out[item.name] = item.modified
    return out


def test_each_container_gives_its_members_dates(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    # zip: the DOS date of each entry (no zone: taken as UTC); an entry left at the default.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("PC1/Passwords.txt", date_time=(2026, 3, 1, 8, 0, 4)), "x")
        zf.writestr(zipfile.ZipInfo("PC1/Other.txt"), "y")
    (tmp_path / "a.zip").write_bytes(buf.getvalue())
    assert members(tmp_path / "a.zip", work) == {
        "PC1/Passwords.txt": datetime(2026, 3, 1, 8, 0, 4, tzinfo=UTC),
        "PC1/Other.txt": datetime(1980, 1, 1, tzinfo=UTC),
    }
    # tar: the member's mtime.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("PC1/Passwords.txt")
        info.size, info.mtime = 1, int(WRITTEN.timestamp())
        tf.addfile(info, io.BytesIO(b"x"))
    (tmp_path / "a.tar").write_bytes(buf.getvalue())
    assert members(tmp_path / "a.tar", work) == {"PC1/Passwords.txt": WRITTEN}
    # 7z: the member's last-write time; a file on disk: its modification time.
    src = tmp_path / "Passwords.txt"
    src.write_text("x")
    os.utime(src, (WRITTEN.timestamp(), WRITTEN.timestamp()))
    with py7zr.SevenZipFile(tmp_path / "a.7z", "w") as archive:
        archive.write(src, "PC1/Passwords.txt")
    assert members(tmp_path / "a.7z", work) == {"PC1/Passwords.txt": WRITTEN}
    assert members(src, work) == {"Passwords.txt": WRITTEN}


def stealer_zip(path: Path, dates: dict[str, tuple[int, ...]]) -> None:
    """One victim whose system-info file claims an infection on 2025-12-01; its members dated
    as `dates` says (name → zip date_time)."""
    victim = "FR[ABCDEF0123456789] [2025-12-01T08_00_00.0000000+00_00]"
    texts = {
        "Passwords.txt": f"URL: {PORTAL}/login\nUsername: partner1@gmail.com\n"
        "Password: Leaked#1\n===============\n",
        "UserInformation.txt": "Country: FR\nLog date: 12/1/2025 8:00:00 AM\n",
        "Cookies/Chrome_Default.txt": ".example.org\tTRUE\t/\tFALSE\t0\tsid\tv\n",
        "Screenshot.jpg": "\xff\xd8\xff",
    }
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in texts.items():
            zf.writestr(zipfile.ZipInfo(f"{victim}/{name}", date_time=dates[name]), text)


def matched(tmp_path: Path, path: Path) -> list[Match]:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[organisation]\nname = "FT"\ndomains = ["francetravail.fr"]\nportals = ["{PORTAL}"]\n'
        '[accounts]\nlogins = ["partner1@gmail.com"]\n'
    )
    watch = build_watchlist(load_config(cfg))
    ctx = ReadContext(limits=ArchiveLimits(), passwords=(), workdir=tmp_path, screen=None)
    totals = FeedTotals()
    found = matches(FileFeed().read(path, ctx, totals), watch, Victims(b"k" * 32), totals)
    return [m for m in found if isinstance(m, Match)]


def test_a_victims_matches_carry_the_earliest_plausible_date_of_its_stealer_files(
    tmp_path: Path,
) -> None:
    stealer_zip(
        tmp_path / "log.zip",
        {
            "Passwords.txt": (2026, 3, 1, 8, 0, 6),
            "UserInformation.txt": (2026, 3, 1, 8, 0, 4),  # the earliest stealer file
            "Cookies/Chrome_Default.txt": (1980, 1, 1, 0, 0, 0),  # the zip default: no date
            "Screenshot.jpg": (2020, 1, 1, 0, 0, 0),  # not the stealer's text output
        },
    )
    [m] = matched(tmp_path, tmp_path / "log.zip")
    c = m.credential
    assert c.infected_at == datetime(2025, 12, 1, 8, 0, tzinfo=UTC)  # what the victim claims
    assert c.files_dated == WRITTEN  # what the stealer's files say


def test_future_and_zero_dates_are_no_evidence(tmp_path: Path) -> None:
    ahead = datetime.now(UTC) + timedelta(days=400)
    future = (ahead.year, ahead.month, ahead.day, 0, 0, 0)
    stealer_zip(
        tmp_path / "log.zip",
        {
            "Passwords.txt": future,
            "UserInformation.txt": (1980, 1, 1, 0, 0, 0),
            "Cookies/Chrome_Default.txt": future,
            "Screenshot.jpg": (1980, 1, 1, 0, 0, 0),
        },
    )
    [m] = matched(tmp_path, tmp_path / "log.zip")
    assert m.credential.files_dated is None
    assert m.credential.infected_at == datetime(2025, 12, 1, 8, 0, tzinfo=UTC)


def test_a_folder_on_disk_gives_its_files_times(tmp_path: Path) -> None:
    root = tmp_path / "dump" / "FR[ABCDEF0123456789] [2025-12-01T08_00_00.0000000+00_00]"
    root.mkdir(parents=True)
    (root / "Passwords.txt").write_text(
        f"URL: {PORTAL}/login\nUsername: partner1@gmail.com\nPassword: Leaked#1\n"
    )
    (root / "UserInformation.txt").write_text("Log date: 12/1/2025 8:00:00 AM\n")
    for name, when in (
        ("Passwords.txt", WRITTEN + timedelta(hours=1)),
        ("UserInformation.txt", WRITTEN),
    ):
        os.utime(root / name, (when.timestamp(), when.timestamp()))
    [m] = matched(tmp_path, tmp_path / "dump")
    assert m.credential.files_dated == WRITTEN
