"""A generated poison corpus scanned beside good files: each poison costs exactly itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg

from feeds.reader import FileFeed
from monitor.config import load_config
from monitor.feed import FeedTotals, FileRecord, ReadContext
from monitor.pipeline import Scanner
from monitor.store.store import Store
from monitor.store.text import INDEXED
from monitor.types import CredentialKind, LeakedCredential, Problem, Secret
from monitor.watchlist import build_watchlist
from tests.conftest import TEST_KEY
from tests.gen.poison import CONFIG, DOMAIN, poison_corpus


def scanner(pool: asyncpg.Pool, root: Path, workdir: Path, feed: object = None) -> Scanner:
    (root / "credwatch.toml").write_text(CONFIG)
    config = load_config(root / "credwatch.toml")
    return Scanner(
        Store(pool),
        config,
        build_watchlist(config),
        feed=feed or FileFeed(),  # type: ignore[arg-type]
        key=TEST_KEY,
        channels=["console"],
        workdir=workdir,
    )


async def test_poison_corpus_costs_only_the_poison(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    corpus = poison_corpus(tmp_path / "dumps")
    problems: list[Problem] = []
    results = await scanner(pool, tmp_path, workdir).scan(
        sorted((tmp_path / "dumps").iterdir()), on_problem=problems.append
    )
    assert {r.status for r in results} == {"done"}
    logins = {r["login"] for r in await pool.fetch("SELECT login FROM exposures")}
    assert corpus.good <= logins  # every good record before and after each poison is stored
    # NUL is stripped, an over-long login is cut under the index limit with a digest of the
    # whole value: the poison row is stored too, nothing refused.
    assert f"nuluser@{DOMAIN}" in logins and f"nuljson@{DOMAIN}" in logins
    long = [x for x in logins if len(x.encode()) > 200]
    assert len(long) == 1 and len(long[0].encode()) <= INDEXED and "…" in long[0]
    origins = await pool.fetch("SELECT origin FROM sightings WHERE length(origin) > 1000")
    assert origins and all(len(r["origin"].encode()) <= INDEXED for r in origins)
    # The victim whose dates leave the calendar keeps its passwords, undated.
    undated = await pool.fetch(
        "SELECT origin FROM sightings WHERE infected_at IS NULL AND feed = 'stealer'"
    )
    assert any("[0001]" in r["origin"] for r in undated)
    assert not any("0001-01-01" in r["origin"] for r in undated)  # its system-info file dates it
    dated = await pool.fetchval("SELECT count(*) FROM sightings WHERE infected_at IS NOT NULL")
    assert dated == 5
    # Fuzzed garbage archives are reported, with their reason.
    garbage = [p for p in problems if "garbage" in p.origin]
    assert len(garbage) >= 4 and all(p.reason for p in garbage)


class _Feed:
    """A feed yielding a good record, one whose line number no column can hold, another good."""

    name = "poison"

    def read(self, path: Path, ctx: ReadContext, totals: FeedTotals) -> Iterator[FileRecord]:
        for n, line in ((1, 1), (2, 2**70), (3, 3)):
            yield LeakedCredential(
                kind=CredentialKind.PASSWORD,
                url=f"https://intra.{DOMAIN}/",
                host=f"intra.{DOMAIN}",
                path="/",
                login=f"row{n}@{DOMAIN}",
                secret=Secret(f"pw{n}"),
                origin=str(path),
                line=line,
            )


async def test_a_row_the_database_refuses_is_a_problem(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    src = tmp_path / "any.txt"
    src.write_text("x")
    problems: list[Problem] = []
    [result] = await scanner(pool, tmp_path, workdir, _Feed()).scan(
        [src], on_problem=problems.append
    )
    assert result.status == "done" and result.totals.problems == 1
    assert [p.reason for p in problems] == ["not storable (DataError)"]
    logins = {r["login"] for r in await pool.fetch("SELECT login FROM exposures")}
    assert logins == {f"row1@{DOMAIN}", f"row3@{DOMAIN}"}
    stored = await pool.fetch("SELECT reason FROM source_problems")
    assert [r["reason"] for r in stored] == ["not storable (DataError)"]


class _ApiFeed:
    """An exposure API answering the same three records (the middle one unstorable)."""

    name = "poison-api"

    async def records(self, targets: object) -> AsyncIterator[LeakedCredential | Problem]:
        for record in _Feed().read(Path("api"), None, FeedTotals()):  # type: ignore[arg-type]
            assert isinstance(record, LeakedCredential)
            yield record

    async def aclose(self) -> None:
        return None


async def test_an_api_row_the_database_refuses_is_a_problem(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    result = await scanner(pool, tmp_path, workdir).ingest(_ApiFeed())  # type: ignore[arg-type]
    assert result.status == "done" and result.totals.problems == 1
    logins = {r["login"] for r in await pool.fetch("SELECT login FROM exposures")}
    assert logins == {f"row1@{DOMAIN}", f"row3@{DOMAIN}"}
    stored = await pool.fetch("SELECT reason FROM source_problems")
    assert [r["reason"] for r in stored] == ["not storable (DataError)"]


def test_cli_exits_1_for_hits_not_a_crash(dsn: str, tmp_path: Path) -> None:
    poison_corpus(tmp_path / "dumps")
    (tmp_path / "credwatch.toml").write_text(CONFIG)
    env = dict(
        os.environ,
        CREDWATCH_DSN=dsn,
        CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
        CREDWATCH_HOME=str(tmp_path / "home"),
    )
    run = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "scan", str(tmp_path / "dumps"),
         "--config", str(tmp_path / "credwatch.toml")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert "Pl4nted-Pw-2" not in run.stdout + run.stderr  # no planted password printed
