"""The one-way architecture holds: import contracts, one registry, no SQL outside the store."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from monitor import plugins
from monitor.plugins import Family

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe is not None, "import-linter is a development dependency"
    res = subprocess.run(
        [exe, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "0 broken" in res.stdout


def test_builtins_are_registered_like_third_party_plugins() -> None:
    infos = plugins.listing()
    found = {(p.family, p.name) for p in infos if p.error is None}
    assert {(Family.FEEDS, "files"), (Family.FEEDS, "hibp")} <= found
    assert {(Family.NOTIFIERS, n) for n in ("console", "slack", "email", "webhook")} <= found
    responders = ("okta", "entra", "keycloak", "google", "ldap", "webhook")
    assert {(Family.RESPONDERS, n) for n in responders} <= found
    assert all(p.distribution.startswith("credwatch ") for p in infos)


def test_unknown_plugin_names_the_installed_ones() -> None:
    try:
        plugins.load(Family.NOTIFIERS, "pager")
    except plugins.SettingError as exc:
        assert "[notifiers.pager]" in str(exc)
        assert "console" in str(exc) and "slack" in str(exc)
    else:
        raise AssertionError("an unknown plug-in must be refused")


def test_plugins_command_lists_what_loaded_and_from_where() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "plugins", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    slack = next(r for r in rows if r["family"] == "notifiers" and r["name"] == "slack")
    assert slack == {
        "family": "notifiers",
        "name": "slack",
        "distribution": slack["distribution"],
        "target": "notifiers.slack:SlackNotifier",
        "loaded": True,
        "error": None,
    }
    assert slack["distribution"].startswith("credwatch ")
    assert {r["family"] for r in rows} == {"feeds", "notifiers", "responders"}
