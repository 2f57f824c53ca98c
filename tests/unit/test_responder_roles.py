"""The core's keys in [responders.NAME]: the directory responder and portal session hooks."""

from __future__ import annotations

from typing import ClassVar

import pytest

from monitor.responder_roles import portal_hooks, read_roles
from monitor.settings import SettingError

PORTAL = "https://portal.example.test/app"


def test_roles_are_split_from_the_plugin_keys() -> None:
    roles = read_roles(
        {
            "entra": {"tenant_id": "t"},
            "ldap": {"url": "ldaps://dc", "directory": True},
            "webhook": {"url": "https://hook", "portals": [PORTAL]},
            "okta": {"enabled": False, "directory": True},
        },
        portals=[PORTAL],
    )
    assert roles.directory == "ldap"
    assert dict(roles.portal_owner) == {PORTAL: "webhook"}
    assert {k: dict(v) for k, v in roles.sections.items()} == {
        "entra": {"tenant_id": "t"},
        "ldap": {"url": "ldaps://dc"},
        "webhook": {"url": "https://hook"},
    }


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (
            {"a": {"directory": True}, "b": {"directory": True}},
            "[responders.b] directory: already set on [responders.a]",
        ),
        (
            {"w": {"portals": ["https://elsewhere.test/"]}},
            "[responders.w] portals: 'https://elsewhere.test/' is not in [organisation] portals",
        ),
        (
            {"w": {"portals": [PORTAL]}, "k": {"portals": [PORTAL]}},
            f"[responders.k] portals: '{PORTAL}' already ends in [responders.w]",
        ),
        ({"w": {"directory": "yes"}}, "[responders.w] directory: input should be a valid boolean"),
    ],
)
def test_bad_roles_name_section_and_key(tables: dict[str, dict[str, object]], message: str) -> None:
    with pytest.raises(SettingError) as info:
        read_roles(tables, portals=[PORTAL])
    assert str(info.value) == message


class NoHook:
    name: ClassVar[str] = "nohook"


def test_a_responder_that_cannot_end_portal_sessions_is_refused() -> None:
    roles = read_roles({"nohook": {"portals": [PORTAL]}}, portals=[PORTAL])
    with pytest.raises(SettingError) as info:
        portal_hooks(roles, {"nohook": NoHook()})
    assert str(info.value) == (
        "[responders.nohook] portals: this responder cannot end portal sessions"
    )
