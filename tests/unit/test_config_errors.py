"""Every config table, core (`[log]` included) and plug-in: an unknown key, a value of the wrong type and a missing
required key each give one error naming the file, the table and the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monitor import plugins
from monitor.config import load_config
from monitor.config_reference import section_model
from monitor.config_sections import (
    AccountsSection,
    LogSection,
    OrganisationSection,
    PartnerSection,
    ScanSection,
    ServeSection,
)
from monitor.errors import ConfigError
from monitor.plugin_sections import plugin_sections
from monitor.plugins import Family
from monitor.policy import PolicySection
from monitor.settings import Section, SettingError
from tests.conftest import TEST_KEY

ORG = {"name": "Org"}
WRONG = [[1]]  # an array of arrays: no key of any table takes one
UNKNOWN = "no_such_key"

# The least each table needs to be valid; a plug-in missing here fails the coverage test.
CORE: dict[str, tuple[type[Section], dict[str, Any]]] = {
    "organisation": (OrganisationSection, ORG),
    "partners": (PartnerSection, {"name": "Partner"}),
    "accounts": (AccountsSection, {}),
    "scan": (ScanSection, {}),
    "serve": (ServeSection, {}),
    "policy": (PolicySection, {}),
    "log": (LogSection, {}),
}
PLUGINS: dict[str, dict[str, Any]] = {
    "feeds.hibp": {},
    "notifiers.console": {},
    "notifiers.email": {"host": "smtp.example.org", "sender": "cw@example.org", "to": ["a@b.fr"]},
    "notifiers.slack": {"webhook_url_env": "CW_SLACK"},
    "notifiers.webhook": {"url_env": "CW_HOOK", "secret_env": "CW_HOOK_SECRET"},
    "responders.entra": {"tenant": "t", "client_id": "c", "client_secret_env": "CW_ENTRA"},
    "responders.google": {"service_account_env": "CW_GOOGLE", "subject": "admin@example.org"},
    "responders.keycloak": {
        "base_url": "https://kc.example.org",
        "realm": "r",
        "client_id": "c",
        "client_secret_env": "CW_KC",
    },
    "responders.ldap": {
        "url": "ldaps://ldap.example.org",
        "kind": "ad",
        "bind_dn": "cn=credwatch,dc=example,dc=org",
        "bind_password_env": "CW_LDAP",
        "base_dn": "dc=example,dc=org",
    },
    "responders.okta": {"base_url": "https://example.okta.com", "token_env": "CW_OKTA"},
    "responders.webhook": {"url": "https://hook.example.org/x", "secret_env": "CW_RESP"},
}
# The files feed is built without a section (`[feeds.files]` is not handed to it).
SECTIONLESS = {"feeds.files"}


def plugin_models() -> dict[str, type[Section]]:
    found = {}
    for family in Family:
        for name in plugins.names(family):
            model = section_model(plugins.load(family, name))
            if model is not None and f"{family.value}.{name}" not in SECTIONLESS:
                found[f"{family.value}.{name}"] = model
    return found


@dataclass(frozen=True, slots=True)
class Case:
    table: str  # "scan", "partners", "notifiers.slack"
    section: dict[str, Any]
    key: str

    def __str__(self) -> str:
        return f"{self.table}:{self.key}"


def cases(table: str, model: type[Section], minimal: Mapping[str, Any]) -> Iterator[Case]:
    yield Case(table, {**minimal, UNKNOWN: 1}, UNKNOWN)
    for key, info in model.model_fields.items():
        yield Case(table, {**minimal, key: WRONG}, key)
        if info.is_required():
            yield Case(table, {k: v for k, v in minimal.items() if k != key}, key)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return json.dumps(v)


def toml(tables: Mapping[str, Mapping[str, Any]]) -> str:
    out = []
    for name, table in tables.items():
        out.append(f"[[{name}]]" if name == "partners" else f"[{name}]")
        out += [f"{k} = {_value(v)}" for k, v in table.items()]
        out.append("")
    return "\n".join(out)


def write(tmp_path: Path, table: str, section: Mapping[str, Any]) -> Path:
    tables = {table: section} if table == "organisation" else {"organisation": ORG, table: section}
    path = tmp_path / "credwatch.toml"
    path.write_text(toml(tables), encoding="utf-8")
    return path


def build_plugin(path: Path, table: str) -> None:
    """What the application does with a plug-in's table: sections, then the plug-in."""
    config = load_config(path)
    family, name = table.split(".")
    try:
        sections = dict(plugin_sections(config).by_family())[Family(family)]
        plugins.build(Family(family), name, sections[name], {})
    except SettingError as exc:
        raise exc.in_file(config.path) from None


CORE_CASES = [c for t, (m, minimal) in CORE.items() for c in cases(t, m, minimal)]
PLUGIN_CASES = [c for t, m in plugin_models().items() for c in cases(t, m, PLUGINS.get(t, {}))]


def assert_names(error: ConfigError, path: Path, case: Case) -> None:
    section = "partners[0]" if case.table == "partners" else case.table
    message = str(error)
    where = f"{path}: [{section}] {case.key}"
    assert message.startswith((f"{where}: ", f"{where}.")), message  # `to.0`: an element
    if case.key == UNKNOWN:
        assert message.endswith("unknown key")


def test_every_plugin_table_has_a_minimal_section() -> None:
    assert set(plugin_models()) == set(PLUGINS)


@pytest.mark.parametrize(("table", "model"), [(t, m) for t, (m, _) in CORE.items()])
def test_minimal_core_tables_are_valid(tmp_path: Path, table: str, model: type[Section]) -> None:
    load_config(write(tmp_path, table, CORE[table][1]))


@pytest.mark.parametrize("table", sorted(PLUGINS))
def test_minimal_plugin_tables_pass_their_checks(tmp_path: Path, table: str) -> None:
    """Any error left is about the environment (a secret not set), never about a key."""
    try:
        build_plugin(write(tmp_path, table, PLUGINS[table]), table)
    except ConfigError as exc:
        assert "environment" in str(exc) or "not set" in str(exc), exc


@pytest.mark.parametrize("case", CORE_CASES, ids=str)
def test_core_table_errors_name_file_table_and_key(tmp_path: Path, case: Case) -> None:
    path = write(tmp_path, case.table, case.section)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert_names(info.value, path, case)


@pytest.mark.parametrize("case", PLUGIN_CASES, ids=str)
def test_plugin_table_errors_name_file_table_and_key(tmp_path: Path, case: Case) -> None:
    path = write(tmp_path, case.table, case.section)
    with pytest.raises(ConfigError) as info:
        build_plugin(path, case.table)
    assert_names(info.value, path, case)


def test_cli_error_keeps_the_table_header(tmp_path: Path) -> None:
    """The terminal library must not read `[notifiers.slack]` as markup and swallow it."""
    path = write(tmp_path, "notifiers.slack", {"webhook_url_env": "CW_SLACK", UNKNOWN: 1})
    target = tmp_path / "dump.txt"
    target.write_text("nothing\n", encoding="utf-8")
    env = dict(os.environ, CREDWATCH_HOME=str(tmp_path), CREDWATCH_HMAC_KEY=TEST_KEY.decode())
    res = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "scan", "--config", str(path), str(target)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert f"[notifiers.slack] {UNKNOWN}: unknown key" in res.stderr


def test_log_table_is_read(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "log", {"format": "json", "level": "INFO"}))
    assert (config.log.format, config.log.level) == ("json", "INFO")
    assert load_config(write(tmp_path, "scan", {})).log.format is None


def test_log_table_refuses_an_unknown_format(tmp_path: Path) -> None:
    path = write(tmp_path, "log", {"format": "xml"})
    with pytest.raises(ConfigError, match=r"\[log\] format: input should be 'console' or 'json'"):
        load_config(path)


def test_a_key_under_feeds_files_is_refused_with_file_section_and_key(tmp_path: Path) -> None:
    import asyncio

    from monitor.app import open_app

    cfg = tmp_path / "credwatch.toml"
    cfg.write_text(
        '[organisation]\nname = "A"\ndomains = ["a.example"]\n\n[feeds.files]\nworkers = 4\n'
    )

    async def go() -> None:
        async with open_app(cfg, need_key=False, with_plugins=False):
            raise AssertionError("a typo under [feeds.files] must be refused")

    with pytest.raises(SettingError) as caught:
        asyncio.run(go())
    assert str(caught.value) == f"{cfg}: [feeds.files] workers: unknown key"
