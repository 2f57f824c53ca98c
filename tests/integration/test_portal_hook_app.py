"""The application wires `portals = [...]` to a portal's session hook: a stolen cookie is contained
only when the portal confirms its sessions ended, never on the identity provider's revoke alone."""

from __future__ import annotations

import zipfile
from pathlib import Path

import asyncpg
import pytest

from monitor.app import open_app
from tests.conftest import TEST_KEY
from tests.servers.idp import OKTA_TOKEN, FakeIdP, FakeUser, okta_app, serve, webhook_app

PORTAL = "https://portail-partenaire.francetravail.fr/kairos"
LOGIN = "partner1@gmail.com"


def write_case(root: Path, responders: str) -> Path:
    victim = "FR[ABCDEF0123456789] [2026-03-01T08_00_00.0000000+00_00]"
    (root / "dumps").mkdir()
    with zipfile.ZipFile(root / "dumps" / "log.zip", "w") as zf:
        zf.writestr(
            f"{victim}/Passwords.txt", f"URL: {PORTAL}/login\nUsername: {LOGIN}\nPassword: x\n"
        )
        zf.writestr(f"{victim}/UserInformation.txt", "Log date: 3/1/2026 8:00:00 AM\n")
        zf.writestr(
            f"{victim}/Cookies/Chrome_Default.txt",
            ".portail-partenaire.francetravail.fr\tTRUE\t/kairos\tTRUE\t1893456000\tJSESSIONID\tabc\n",
        )
    cfg = root / "credwatch.toml"
    cfg.write_text(
        f'[organisation]\nname = "FT"\ndomains = ["francetravail.fr"]\nportals = ["{PORTAL}"]\n'
        f'[accounts]\nlogins = ["{LOGIN}"]\n'
        '[policy]\nenforce = true\nrules.portal_cookie.critical = "contain"\n'
        'rules.portal_account.critical = "alert"\n' + responders
    )
    return cfg


async def contain_cookie(
    cfg: Path, dsn: str, monkeypatch: pytest.MonkeyPatch, home: Path
) -> tuple[str, str]:
    monkeypatch.setenv("CREDWATCH_DSN", dsn)
    monkeypatch.setenv("CREDWATCH_HOME", str(home))
    env = {"CREDWATCH_HMAC_KEY": TEST_KEY.decode(), "CW_OKTA": OKTA_TOKEN, "CW_HOOK": "s3cret"}
    async with open_app(cfg, env=env) as app:
        await app.scanner.scan([cfg.parent / "dumps"])
        await app.respond_and_alert()
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT status, status_reason FROM exposures WHERE kind = 'cookie'"
        )
    finally:
        await conn.close()
    assert row is not None
    return row["status"], row["status_reason"] or ""


async def test_cookie_contained_only_with_the_portal_hooks_confirmation(
    dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    idp, portal = FakeIdP(), FakeIdP()
    partner = idp.add(FakeUser(id="00u1", login=LOGIN, email=LOGIN))
    seen = portal.add(FakeUser(id="p-1", login=LOGIN, email=LOGIN))
    async with serve(okta_app(idp)) as okta_url, serve(webhook_app(portal)) as hook_url:
        cfg = write_case(
            tmp_path,
            f'[responders.okta]\nbase_url = "{okta_url}"\ntoken_env = "CW_OKTA"\n'
            f'[responders.webhook]\nurl = "{hook_url}/hooks/credwatch"\nsecret_env = "CW_HOOK"\n'
            f'portals = ["{PORTAL}"]\n',
        )
        status, reason = await contain_cookie(cfg, dsn, monkeypatch, tmp_path)
    assert status == "contained", reason
    assert partner.sessions_revoked == 1 and seen.sessions_revoked == 1
    assert f"portal sessions ended: {PORTAL} confirmed the user's sessions ended" in reason
    # The webhook serves as the portal's hook only: it was never asked to reset or revoke.
    asked = [c.json()["requested_action"] for c in portal.calls_to("POST", "/hooks/credwatch")]
    assert asked == ["end_portal_sessions"]


async def test_without_a_hook_the_cookie_needs_the_portal_team(
    dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    idp = FakeIdP()
    partner = idp.add(FakeUser(id="00u1", login=LOGIN, email=LOGIN))
    async with serve(okta_app(idp)) as okta_url:
        cfg = write_case(
            tmp_path, f'[responders.okta]\nbase_url = "{okta_url}"\ntoken_env = "CW_OKTA"\n'
        )
        status, reason = await contain_cookie(cfg, dsn, monkeypatch, tmp_path)
    assert status == "partially_contained"
    assert partner.sessions_revoked == 1
    assert "NOT DONE: portal sessions ended (no session hook for" in reason
