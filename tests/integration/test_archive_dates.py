"""End to end: an infection date the victim's clock got wrong is doubted when the stealer's own
files carry later dates, or when it lies further before the first sighting than the configured
window; the first sighting is then the leak date, so a password change between the claimed
infection and the sighting does not make the leaked password stale."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from feeds.reader import FileFeed
from monitor.config import load_config
from monitor.pipeline import Scanner
from monitor.policy import PolicyConfig
from monitor.respond import Responses
from monitor.store.store import Store
from monitor.watchlist import build_watchlist
from tests.conftest import TEST_KEY
from tests.unit.test_containment import ScriptedResponder, user

PORTAL = "https://portail-partenaire.francetravail.fr/kairos"
NOW = datetime.now(UTC).replace(microsecond=0)
CLAIMED = NOW - timedelta(days=120)  # the infection date the system-info file gives
CHANGED = NOW - timedelta(days=60)  # the user's last password change, per the identity provider


def zip_date(when: datetime) -> tuple[int, int, int, int, int, int]:
    return (when.year, when.month, when.day, when.hour, when.minute, when.second // 2 * 2)


def write_case(root: Path, *, files_written: datetime, policy: str = "") -> Path:
    (root / "dumps").mkdir(parents=True)
    victim = f"FR[ABCDEF0123456789] [{CLAIMED:%Y-%m-%dT%H_%M_%S}.0000000+00_00]"
    log_date = f"{CLAIMED.month}/{CLAIMED.day}/{CLAIMED.year} {CLAIMED:%I:%M:%S %p}"
    texts = {
        "Passwords.txt": f"URL: {PORTAL}/login\nUsername: partner1@gmail.com\n"
        "Password: Leaked#Pass1\n===============\n",
        "UserInformation.txt": f"Country: FR\nLog date: {log_date}\n",
    }
    with zipfile.ZipFile(root / "dumps" / "log.zip", "w") as zf:
        for name, text in texts.items():
            info = zipfile.ZipInfo(f"{victim}/{name}", date_time=zip_date(files_written))
            zf.writestr(info, text)
    cfg = root / "credwatch.toml"
    cfg.write_text(
        f'[organisation]\nname = "FT"\ndomains = ["francetravail.fr"]\nportals = ["{PORTAL}"]\n'
        '[accounts]\nlogins = ["partner1@gmail.com"]\n'
        f"[policy]\nenforce = true\n{policy}"
    )
    return cfg


async def scan(pool: asyncpg.Pool, cfg: Path, workdir: Path) -> ScriptedResponder:
    config = load_config(cfg)
    responder = ScriptedResponder(user=user(changed=CHANGED))
    responses = Responses(
        Store(pool), PolicyConfig.from_mapping(config.policy), {"fake": responder},
        channels=("console",),
    )  # fmt: skip
    scanner = Scanner(
        Store(pool), config, build_watchlist(config), feed=FileFeed(), key=TEST_KEY,
        channels=["console"], workdir=workdir, planner=responses,
    )  # fmt: skip
    await scanner.scan([cfg.parent / "dumps"])
    await responses.run_due()
    return responder


async def exposure(pool: asyncpg.Pool) -> asyncpg.Record:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT infected_at, first_seen, files_dated_at, status FROM exposures "
            "WHERE login = 'partner1@gmail.com'"
        )
    assert row is not None
    return row


async def test_files_written_at_the_claimed_infection_keep_it_believed(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    cfg = write_case(tmp_path, files_written=CLAIMED + timedelta(minutes=3))
    responder = await scan(pool, cfg, workdir)
    row = await exposure(pool)
    assert row["infected_at"] == CLAIMED
    assert row["files_dated_at"] == datetime(*zip_date(CLAIMED + timedelta(minutes=3)), tzinfo=UTC)
    # The change came after a believable infection: stale, nothing reset.
    assert row["status"] == "stale"
    assert responder.calls == [("find_user", False)]


async def test_files_written_long_after_the_claimed_infection_make_the_sighting_the_leak_date(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    written = NOW - timedelta(days=10)
    cfg = write_case(tmp_path, files_written=written)
    responder = await scan(pool, cfg, workdir)
    row = await exposure(pool)
    assert row["infected_at"] == CLAIMED  # kept as the victim's claim, for the alert
    assert row["files_dated_at"] == datetime(*zip_date(written), tzinfo=UTC)
    # The claimed infection predates the stealer's own files: the first sighting decides, and
    # the change 60 days ago came before it. The leaked password is live and is replaced.
    assert row["status"] == "contained"
    assert ("reset_password", False) in responder.calls


async def test_the_configured_window_doubts_an_early_infection_date(
    pool: asyncpg.Pool, tmp_path: Path, workdir: Path
) -> None:
    cfg = write_case(
        tmp_path,
        files_written=CLAIMED + timedelta(minutes=3),
        policy="infection_window_days = 90\n",
    )
    responder = await scan(pool, cfg, workdir)
    # 120 days before the sighting is outside the 90-day window: the sighting decides.
    assert (await exposure(pool))["status"] == "contained"
    assert ("reset_password", False) in responder.calls
