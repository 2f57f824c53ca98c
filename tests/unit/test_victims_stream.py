"""A stealer log's matches leave per victim folder as the walk leaves it: right victim, flat memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeds.reader import FileFeed
from monitor.config import load_config
from monitor.feed import ArchiveLimits, FeedTotals, FileRecord, ReadContext
from monitor.pipeline import matches
from monitor.types import Match
from monitor.victims import Victims, machine_id_hash
from monitor.watchlist import build_watchlist
from tests.gen import archives
from tests.gen.poison import CONFIG, DOMAIN
from tests.gen.stealer import expected_infected_at, victim_files, victim_folder, with_prefix

KEY = b"v" * 32
ROOT = Path(__file__).resolve().parents[2]


def stealer_zip(path: Path, victims: int, creds: int) -> dict[str, tuple[datetime | None, str]]:
    """`victims` RedLine folders of `creds` watched passwords each (passwords before system
    info); returns each login's expected infection date and machine id."""
    members: dict[str, bytes] = {}
    expected: dict[str, tuple[datetime | None, str]] = {}
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for v in range(victims):
        when = base + timedelta(hours=v)
        hwid = f"{v:032X}"
        logins = [f"v{v}.u{c}@{DOMAIN}" for c in range(creds)]
        files = victim_files(
            "redline",
            creds=[
                (f"https://intra.{DOMAIN}/login", lg, f"Pw{v}!{c}") for c, lg in enumerate(logins)
            ],
            infected_at=when,
            hwid=hwid,
            noise=False,
        )
        members.update(with_prefix(victim_folder("redline", hwid=hwid, infected_at=when), files))
        for lg in logins:
            expected[lg] = (expected_infected_at("redline", when), hwid)

    path.write_bytes(archives.zip_bytes(list(members.items()), compression=zipfile.ZIP_STORED))
    return expected


def test_each_folder_is_released_when_the_walk_leaves_it(tmp_path: Path) -> None:
    expected = stealer_zip(tmp_path / "log.zip", victims=30, creds=3)
    (tmp_path / "c.toml").write_text(CONFIG)
    watch = build_watchlist(load_config(tmp_path / "c.toml"))
    ctx = ReadContext(limits=ArchiveLimits(), passwords=(), workdir=tmp_path, screen=None)
    read = 0

    def counted(records: Iterator[FileRecord]) -> Iterator[FileRecord]:
        nonlocal read
        for r in records:
            read += 1
            yield r

    totals = FeedTotals()
    records = counted(FileFeed().read(tmp_path / "log.zip", ctx, totals))
    out: list[tuple[Match, int]] = []
    for item in matches(records, watch, Victims(KEY), totals):
        assert isinstance(item, Match)
        out.append((item, read))
    assert len(out) == len(expected) == totals.matches
    # Released as the walk goes: the first victim's matches leave when the second begins.
    assert out[0][1] < 10 and out[len(out) // 2][1] < read // 2 + 10
    for m, _ in out:
        when, hwid = expected[m.credential.login]
        assert m.credential.infected_at == when  # its own system-info file, read after it
        assert m.credential.victim is not None
        assert m.credential.victim.machine_id_hash == machine_id_hash(hwid, KEY)


def peak_rss(path: Path, config: Path) -> tuple[float, int]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scan_once.py"), str(path), "--config", str(config)],
        capture_output=True, check=True, env=env, timeout=300,
    )  # fmt: skip
    result = json.loads(out.stdout)
    return float(result["peak_rss_mb"]), int(result["matches"])


def test_memory_does_not_grow_with_the_number_of_victims(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CONFIG)
    small, large = 250, 2000
    stealer_zip(tmp_path / "small.zip", victims=small, creds=25)
    stealer_zip(tmp_path / "large.zip", victims=large, creds=25)
    rss_small, found_small = peak_rss(tmp_path / "small.zip", tmp_path / "c.toml")
    rss_large, found_large = peak_rss(tmp_path / "large.zip", tmp_path / "c.toml")
    assert (found_small, found_large) == (small * 25, large * 25)
    # 43,750 more matches: held to the end they cost 17 MB; released per folder, nothing.
    assert rss_large - rss_small < 6, (rss_small, rss_large)
