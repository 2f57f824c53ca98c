"""`credwatch hibp`: the registry builds the HIBP feed from its section, the core hands it the
organisation's targets, and the pipeline matches and stores what it returns."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.conftest import TEST_KEY
from tests.servers.hibp import API_KEY, HibpData, HibpServer

PORTAL = "portail-partenaire.example.org"


def config(tmp_path: Path, hibp_section: str) -> Path:
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text(
        f"""
[organisation]
name = "Example"
domains = ["example.org"]
portals = ["https://{PORTAL}/kairos"]

[[partners]]
name = "Partner"
email_domains = ["partner.example"]

[feeds.hibp]
{hibp_section}
""",
        encoding="utf-8",
    )
    return cfg


async def cli(*args: str, dsn: str, home: Path) -> tuple[int, str, str]:
    env = dict(
        os.environ,
        CREDWATCH_DSN=dsn,
        CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
        CREDWATCH_HOME=str(home),
        HIBP_KEY=API_KEY,
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_hibp_command_asks_about_the_targets_and_stores_matches(
    dsn: str, tmp_path: Path
) -> None:
    data = HibpData()
    data.by_website_domain[PORTAL] = ["Alice@Partner.example", "bob@gmail.com"]
    data.by_email_domain["partner.example"] = {"carol": ["netflix.com"]}
    async with HibpServer(data) as server:
        cfg = config(tmp_path, f'api_key_env = "HIBP_KEY"\nbase_url = "{server.base_url}"')
        code, out, err = await cli("hibp", "--json", "--config", str(cfg), dsn=dsn, home=tmp_path)
        paths = server.paths()
    assert code == 1, err
    rows = [json.loads(line) for line in out.splitlines()]
    seen = {(r["login"], r["host"]) for r in rows}
    assert (("alice@partner.example", PORTAL)) in seen
    assert ("bob@gmail.com", PORTAL) in seen
    assert ("carol@partner.example", "netflix.com") in seen
    assert all(r["feed"] == "hibp" and r["kind"] == "account" for r in rows)
    assert f"/stealerlogsbywebsitedomain/{PORTAL}" in paths
    assert "/stealerlogsbyemaildomain/partner.example" in paths
    assert "/stealerlogsbyemaildomain/example.org" in paths


async def test_a_bad_hibp_section_names_file_section_and_key(dsn: str, tmp_path: Path) -> None:
    cfg = config(tmp_path, 'api_key_env = "HIBP_KEY"\ncolour = "blue"')
    code, out, err = await cli("hibp", "--config", str(cfg), dsn=dsn, home=tmp_path)
    assert code == 2
    assert out == ""
    assert f"{cfg}: [feeds.hibp] colour: unknown key" in " ".join(err.split())
