"""`credwatch lookup`: any domain's employees, users and third parties from the store, a read-only
scan of the dump library and HIBP — exact counts, decoys excluded, nothing stored but the audit
line, a JSON answer that keeps its schema and a report that fits 80 columns."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg
import jsonschema

from monitor.domain_lookup import Role
from tests.conftest import TEST_KEY
from tests.gen.lookup_library import DOMAIN, TOKEN, WATCHED, Library, write_library
from tests.servers.hibp import API_KEY, HibpData, HibpServer


def config(tmp_path: Path, library: Library, *, hibp: str = "") -> Path:
    cfg = tmp_path / "credwatch.toml"
    sources = ", ".join(f'"{p}"' for p in library.paths)
    cfg.write_text(
        f"""
[organisation]
name = "Example"
domains = ["{WATCHED}"]

[serve]
sources = [{sources}]
{hibp}
""",
        encoding="utf-8",
    )
    return cfg


def run(*args: str, dsn: str, home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CREDWATCH_DSN": dsn,
        "CREDWATCH_HMAC_KEY": TEST_KEY.decode(),
        "CREDWATCH_HOME": str(home),
        "CREDWATCH_ACTOR": "auditor@example.org",
        "HIBP_KEY": API_KEY,
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


async def arun(*args: str, dsn: str, home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(run, *args, dsn=dsn, home=home, **extra)


async def row_counts(dsn: str) -> dict[str, int]:
    """The database as a dump sees it: the row count of every table of every schema."""
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        return {
            f"{t['schemaname']}.{t['tablename']}": await conn.fetchval(
                f'SELECT count(*) FROM "{t["schemaname"]}"."{t["tablename"]}"'
            )
            for t in tables
        }
    finally:
        await conn.close()


def schema() -> dict[str, Any]:
    text = (resources.files("monitor") / "lookup_schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def accounts_by_role(summary: dict[str, Any]) -> dict[Role, set[str]]:
    out: dict[Role, set[str]] = {r: set() for r in Role}
    for a in summary["top_accounts"]:
        out[Role(a["role"])].add(a["login"])
    return out


async def test_lookup_of_an_unwatched_domain_counts_each_role_exactly_and_stores_nothing(
    dsn: str, tmp_path: Path
) -> None:
    lib = write_library(tmp_path / "library")
    cfg = str(config(tmp_path, lib))
    # The store holds something first (the watched domain's credentials), so that "nothing new"
    # is measured against tables that are not empty.
    scanned = await arun("scan", "--config", cfg, *map(str, lib.paths), dsn=dsn, home=tmp_path)
    assert scanned.returncode == 1, scanned.stderr
    before = await row_counts(dsn)
    assert before["public.exposures"] > 0 and before["public.lookups"] == 0

    done = await arun("lookup", DOMAIN, "--json", "--config", cfg, dsn=dsn, home=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "not watched" in done.stderr
    answer = json.loads(done.stdout)
    jsonschema.validate(answer, schema())
    assert answer["watched"] is False and answer["domain"] == DOMAIN
    lib_side = answer["library"]["summary"]
    found = accounts_by_role(lib_side)
    assert found == lib.expected
    for role in Role:
        assert lib_side["roles"][role.value] == {
            "credentials": len(lib.expected[role]),
            "accounts": len(lib.expected[role]),
        }
    assert lib_side["accounts"] == sum(len(v) for v in lib.expected.values())
    assert answer["store"]["credentials"] == 0  # the store never saw this domain
    text = done.stdout
    for decoy in lib.decoy_logins:
        assert decoy not in text
    assert ".evil" not in json.dumps(lib_side["portals"])
    assert "not" + DOMAIN not in json.dumps(lib_side["hosts"])
    for secret in (*lib.passwords, TOKEN, "session=abc"):
        assert secret not in text
    # Victim facts from the stealer logs: families, countries, infection dates by month.
    assert {f["family"] for f in lib_side["families"]} == {"redline", "lumma"}
    assert {c["country"] for c in lib_side["countries"]} == {"FR", "DE"}
    assert lib_side["infections"]["first"].startswith("2025-03-14")
    assert lib_side["infections"]["latest"].startswith("2025-05-02")
    assert [m["month"] for m in lib_side["infections"]["by_month"]] == ["2025-03", "2025-05"]
    assert lib_side["machines"] == 2
    assert {o["file"] for o in lib_side["origins"]} == {str(p) for p in lib.paths}
    portals = {p["url"] for p in lib_side["portals"]}
    assert f"https://portal.{DOMAIN}/reset/***" in portals
    assert f"https://portal.{DOMAIN}/login" in portals
    assert {d["domain"] for d in lib_side["third_party_domains"]} == {
        "supplier.example",
        "partner-two.example",
    }
    assert answer["password_change_window"]["known"] is False
    assert answer["hibp"]["state"] == "not_configured"

    after = await row_counts(dsn)
    changed = {t: (before[t], after[t]) for t in after if before.get(t) != after[t]}
    assert changed == {"public.lookups": (0, 1)}
    conn = await asyncpg.connect(dsn)
    try:
        audit = await conn.fetchrow("SELECT * FROM lookups")
    finally:
        await conn.close()
    assert audit["actor"] == "auditor@example.org"
    assert audit["domain"] == DOMAIN and audit["scanned"] is True
    assert list(audit["paths"]) == [str(p) for p in lib.paths]
    assert audit["finished_at"] is not None
    counts = json.loads(audit["counts"])
    assert counts["library_employee"] == len(lib.expected[Role.EMPLOYEE])
    assert counts["library_third_party"] == len(lib.expected[Role.THIRD_PARTY])
    assert not any(isinstance(v, str) for v in counts.values())
    trail = await arun("lookups", "--json", "--config", cfg, dsn=dsn, home=tmp_path)
    assert trail.returncode == 0, trail.stderr
    [line] = [json.loads(x) for x in trail.stdout.splitlines()]
    assert (line["actor"], line["domain"], line["scanned"]) == ("auditor@example.org", DOMAIN, True)
    assert line["counts"]["library_user"] == len(lib.expected[Role.USER])


async def test_human_report_fits_80_columns_and_save_writes_masked_json_and_html(
    dsn: str, tmp_path: Path
) -> None:
    lib = write_library(tmp_path / "library")
    cfg = str(config(tmp_path, lib))
    report = tmp_path / "out" / "acme"
    report.parent.mkdir()
    done = await arun(
        "lookup", DOMAIN, "--scan", "--save", str(report), "--config", cfg,
        dsn=dsn, home=tmp_path, COLUMNS="80",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, [ln for ln in lines if len(ln) > 80]
    assert "employees" in done.stdout and "third parties" in done.stdout
    assert "carol@supplier.example" in done.stdout
    assert "password-change window: unknown" in done.stdout
    saved_json = Path(f"{report}.json")
    saved_html = Path(f"{report}.html")
    assert oct(saved_json.stat().st_mode & 0o777) == "0o600"
    jsonschema.validate(json.loads(saved_json.read_text()), schema())
    html = saved_html.read_text()
    assert "<html" in html.lower() and "grace@partner-two.example" in html
    for text in (saved_json.read_text(), html, done.stdout, done.stderr):
        for secret in (*lib.passwords, TOKEN, "session=abc"):
            assert secret not in text


async def test_since_leaves_out_older_and_undated_credentials(dsn: str, tmp_path: Path) -> None:
    lib = write_library(tmp_path / "library")
    cfg = str(config(tmp_path, lib))
    done = await arun(
        "lookup", DOMAIN, "--scan", "--since", "2025-04-01", "--json", "--config", cfg,
        dsn=dsn, home=tmp_path,
    )  # fmt: skip
    answer = json.loads(done.stdout)
    side = answer["library"]["summary"]
    # Only the lumma victim (2025-05-02) remains: dave (employee at home) and oscar.
    assert {a["login"] for a in side["top_accounts"]} == {f"dave@sub.{DOMAIN}", f"oscar@{DOMAIN}"}
    assert side["left_out"]["before_since"] == 3  # the redline victim's alice, bob, carol
    assert side["left_out"]["undated"] == 4  # frank, grace, heidi, ivy: ULP lines, undated
    assert answer["since"].startswith("2025-04-01")


async def test_watched_domain_answers_from_the_store_alone_unless_asked(
    dsn: str, tmp_path: Path
) -> None:
    lib = write_library(tmp_path / "library")
    cfg = str(config(tmp_path, lib))
    assert (
        await arun("scan", "--config", cfg, *map(str, lib.paths), dsn=dsn, home=tmp_path)
    ).returncode == 1
    done = await arun("lookup", WATCHED, "--json", "--config", cfg, dsn=dsn, home=tmp_path)
    assert done.returncode == 1, done.stderr
    answer = json.loads(done.stdout)
    jsonschema.validate(answer, schema())
    assert answer["watched"] is True and answer["library"] is None
    assert answer["library_note"] == "not read (use --scan)"
    assert accounts_by_role(answer["store"])[Role.EMPLOYEE] == {
        f"staff@{WATCHED}",
        f"someone@{WATCHED}",
    }
    assert answer["store"]["families"] == [{"family": "redline", "sightings": 1}]


async def test_hibp_domain_search_beside_the_local_answer(dsn: str, tmp_path: Path) -> None:
    lib = write_library(tmp_path / "library")
    data = HibpData(subscribed_domains=[DOMAIN])
    data.breached_domain[DOMAIN] = {"alice": ["Adobe", "LinkedIn"], "dave": ["LinkedIn"]}
    data.by_email_domain[DOMAIN] = {"alice": ["netflix.com"]}
    async with HibpServer(data) as server:
        section = f'[feeds.hibp]\napi_key_env = "HIBP_KEY"\nbase_url = "{server.base_url}"'
        cfg = str(config(tmp_path, lib, hibp=section))
        done = await arun("lookup", DOMAIN, str(lib.paths[1]), "--json",
                          "--config", cfg, dsn=dsn, home=tmp_path)  # fmt: skip
        other = await arun("lookup", "supplier.example", "--json", "--config", cfg, "--scan",
                           dsn=dsn, home=tmp_path)  # fmt: skip
        refused = await arun("lookup", DOMAIN, "--json", "--config", cfg,
                             dsn=dsn, home=tmp_path, HIBP_KEY="0" * 32)  # fmt: skip
        paths = server.paths()
    answer = json.loads(done.stdout)
    jsonschema.validate(answer, schema())
    assert answer["library"]["paths"] == [str(lib.paths[1])]
    assert answer["hibp"]["state"] == "answered"
    assert answer["hibp"]["accounts"] == 2
    assert answer["hibp"]["breaches"] == [
        {"name": "LinkedIn", "accounts": 2},
        {"name": "Adobe", "accounts": 1},
    ]
    assert answer["hibp"]["stealer_log_accounts"] == 1
    unverified = json.loads(other.stdout)
    assert unverified["hibp"]["state"] == "not_verified"
    assert refused.returncode == 1, refused.stderr  # the local answer stands
    failed = json.loads(refused.stdout)["hibp"]
    assert failed["state"] == "failed" and "401" in failed["detail"]
    assert "/breacheddomain/supplier.example" not in paths  # never asked about another's domain
    assert f"/breacheddomain/{DOMAIN}" in paths
