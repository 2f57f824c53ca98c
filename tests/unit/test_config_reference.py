"""The README's configuration reference is what the models say: regenerate it and compare."""

from __future__ import annotations

from monitor import config_reference
from monitor.config_reference import README, core_tables, plugin_tables, render, updated


def test_readme_reference_matches_the_models() -> None:
    text = README.read_text(encoding="utf-8")
    assert updated(text, render()) == text, (
        "README.md's configuration reference is out of date: run "
        "`python -m monitor.config_reference`"
    )


def test_every_installed_plugin_and_core_table_is_in_the_reference() -> None:
    text = render()
    headers = [t.header for t in [*core_tables(), *plugin_tables()]]
    for header in ("[scan]", "[serve]", "[policy]", "[notifiers.slack]", "[feeds.hibp]"):
        assert header in headers
    assert "[responders.keycloak]" in headers and "[notifiers.email]" in headers
    for table in [*core_tables(), *plugin_tables()]:
        assert f"#### `{table.header}`" in text
        for key in table.model.model_fields:
            assert f"| `{key}` |" in text


def test_every_key_has_a_description() -> None:
    missing = [
        f"{t.header} {key}"
        for t in [*core_tables(), *plugin_tables()]
        for key, info in t.model.model_fields.items()
        if not (info.description or "").strip()
    ]
    assert missing == []


def test_a_stale_reference_is_detected() -> None:
    text = README.read_text(encoding="utf-8")
    stale = text.replace("| `max_line` |", "| `max_lines` |")
    assert updated(stale, render()) != stale
    assert config_reference.START in text and config_reference.END in text
