"""Kill -9 of `credwatch scan` while it contains leaked partner accounts in an identity
provider (the local Okta fake), at random moments, then a rerun: every containment completes,
no provider step is done twice beyond the one in flight at the kill, no alert is posted twice
beyond the one in flight. A few seeded trials always run; CREDWATCH_LONG_TRIALS=1 runs many."""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import TEST_KEY
from tests.integration.test_kill_trials import database
from tests.servers.idp import OKTA_TOKEN, FakeIdP, FakeUser, Handler, okta_app, serve
from tests.servers.slack import SlackServer

pytestmark = pytest.mark.asyncio

LONG = os.environ.get("CREDWATCH_LONG_TRIALS", "") == "1"
SEED = int(os.environ.get("CREDWATCH_TRIAL_SEED", "1515"))
TRIALS = 10 if LONG else 2
USERS = 10
PORTAL = "https://portail-partenaire.francetravail.fr/kairos"


def login(i: int) -> str:
    return f"kc{i:03d}.partner@gmail.com"


def write_case(root: Path, okta_url: str) -> tuple[Path, Path]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "accounts.csv").write_text(
        "login,partner,idp,idp_user_id\n"
        + "".join(f"{login(i)},OF38,okta,00u{i:03d}\n" for i in range(USERS))
    )
    cfg = root / "credwatch.toml"
    cfg.write_text(
        f"""
[organisation]
name = "France Travail"
domains = ["francetravail.fr"]
portals = ["{PORTAL}"]

[[partners]]
name = "OF38"
email_domains = ["formation-isere.example"]

[accounts]
file = "accounts.csv"

[notifiers.slack]
webhook_url_env = "CW_TEST_SLACK"
group_below = "low"
min_interval = 0.02

[responders.okta]
base_url = "{okta_url}"
token_env = "CW_OKTA_TOKEN"
timeout = 5

[policy]
enforce = true
"""
    )
    dump = root / "combo.txt"
    dump.write_text(
        "".join(
            f"https://shop{i}.example/:someone{i}@mail.example:x\n{PORTAL}/login:{login(i)}:Pw-{i}!\n"
            for i in range(USERS)
        )
    )
    return cfg, dump


def fake_idp() -> FakeIdP:
    idp = FakeIdP()
    for i in range(USERS):
        idp.add(FakeUser(id=f"00u{i:03d}", login=login(i), email=login(i)))
    return idp


def provider_steps(idp: FakeIdP) -> Counter[tuple[str, str]]:
    """What changed something in the provider, per (method, path)."""
    return Counter((c.method, c.path) for c in idp.calls if c.method in ("POST", "DELETE"))


class Killer:
    """Kills the process while the `wanted`-th changing call is in flight: before the provider
    applies it, or applied with its answer never read."""

    def __init__(self, wanted: int, after: bool) -> None:
        self.wanted, self.after = wanted, after
        self.seen = 0
        self.proc: Any = None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method not in ("POST", "DELETE") or self.proc is None:
            return await handler(request)
        self.seen += 1
        if self.seen != self.wanted:
            return await handler(request)
        if not self.after:
            self.proc.kill()
        response = await handler(request)
        if self.after:
            self.proc.kill()
        return response


async def scan(cfg: Path, dump: Path, dsn: str, slack: SlackServer, home: Path) -> Any:
    env = dict(
        os.environ,
        CREDWATCH_DSN=dsn,
        CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
        CREDWATCH_HOME=str(home),
        CW_TEST_SLACK=slack.webhook_url,
        CW_OKTA_TOKEN=OKTA_TOKEN,
    )
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor.cli", "scan", str(dump), "--config", str(cfg),
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def finished(proc: Any) -> tuple[int, str]:
    _, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return int(proc.returncode), err.decode()


def posts_per_login(slack: SlackServer) -> Counter[str]:
    seen: Counter[str] = Counter()
    for payload in slack.posted:
        text = repr(payload)
        seen.update(login(i) for i in range(USERS) if f"kc{i:03d}" in text)
    return seen


async def expire_leases(dsn: str) -> None:
    """Time passes for what the killed process had claimed: its leases run out."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("UPDATE alerts SET leased_until = now() WHERE leased_until > now()")
        await conn.execute(
            "UPDATE containments SET leased_until = now() WHERE leased_until > now()"
        )
    finally:
        await conn.close()


async def outcome(dsn: str) -> tuple[dict[str, str], Counter[tuple[str, str, str]]]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        statuses = {
            r["login"]: r["status"]
            for r in await conn.fetch(
                "SELECT e.login, c.status FROM containments c JOIN exposures e "
                "ON e.id = c.exposure_id"
            )
        }
        steps = Counter(
            (r["login"], r["step"], r["outcome"])
            for r in await conn.fetch(
                "SELECT e.login, a.step, a.outcome FROM actions a JOIN exposures e "
                "ON e.id = a.exposure_id"
            )
        )
    finally:
        await conn.close()
    return statuses, steps


async def test_kill_9_during_containment_never_repeats_a_step_or_an_alert(
    pg_server: str, template_db: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED + 7)
    # A clean run: how many changing calls and posts one uninterrupted containment of all makes.
    idp = fake_idp()
    async with serve(okta_app(idp)) as url, SlackServer() as slack:
        cfg, dump = write_case(tmp_path / "clean", url)
        async with database(pg_server, template_db) as dsn:
            code, err = await finished(await scan(cfg, dump, dsn, slack, tmp_path))
            assert code == 1, err[-3000:]
            clean_status, clean_steps = await outcome(dsn)
        clean_posts = posts_per_login(slack)
    clean_calls = provider_steps(idp)
    assert set(clean_status.values()) == {"done"} and len(clean_status) == USERS
    assert all(n == 1 for n in clean_calls.values()) and len(clean_calls) >= USERS
    kills = 0
    for trial in range(TRIALS):
        idp = fake_idp()
        killer = Killer(rng.randint(1, sum(clean_calls.values())), after=bool(trial % 2))
        app = okta_app(idp)
        app.middlewares.insert(0, killer.middleware)
        async with serve(app) as url, SlackServer() as slack:
            cfg, dump = write_case(tmp_path / f"t{trial}", url)
            async with database(pg_server, template_db) as dsn:
                killer.proc = await scan(cfg, dump, dsn, slack, tmp_path)
                code, _ = await finished(killer.proc)
                killer.proc = None
                kills += code == -9
                await expire_leases(dsn)
                code, err = await finished(await scan(cfg, dump, dsn, slack, tmp_path))
                assert code == 1, err[-3000:]
                statuses, steps = await outcome(dsn)
        what = f"trial {trial} (seed {SEED}, kill at call {killer.wanted}, after={killer.after})"
        assert statuses == clean_status, what  # every containment completed
        calls = provider_steps(idp)
        assert set(calls) == set(clean_calls), what
        repeats = sum(n - 1 for n in calls.values())
        assert repeats <= 1, f"{what}: provider steps repeated {calls}"
        done = {k: n for k, n in steps.items() if k[2] == "done"}
        assert done == {k: n for k, n in clean_steps.items() if k[2] == "done"}, what
        posts = posts_per_login(slack)  # a "new" alert and a "contained" one per account
        assert not clean_posts - posts, f"{what}: an alert was lost ({posts})"
        assert sum((posts - clean_posts).values()) <= 1, f"{what}: alerts repeated {posts}"
    assert kills == TRIALS  # every trial killed the process in the middle of its containments
