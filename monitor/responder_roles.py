"""The core's own keys in a `[responders.NAME]` table: which responder resets passwords mastered
in the directory, and which ends the sessions of which portals.

`directory = true` names the responder (e.g. `ldap` on the on-premises AD) that resets users an
identity provider only mirrors (synced Entra users, AD-mastered Okta users). `portals = [...]`
lists `[organisation] portals` whose sessions this responder ends for a stolen cookie (the signed
webhook, or Keycloak back-channel logout); a cookie for a portal without one is never contained.
The plug-in never sees these keys; they are checked here, in the one error format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from monitor.config_fields import Texts
from monitor.responder import PortalHook
from monitor.settings import Section, SettingError, load_section

CORE_KEYS = ("enabled", "directory", "portals")


class RolesSection(Section):
    """`[responders.NAME]` role keys: what the core asks of a responder (any responder)."""

    enabled: bool = Field(
        default=True, description="Build this responder (false: keep the table, unused)."
    )
    directory: bool = Field(
        default=False,
        description="Resets passwords mastered on-premises (synced Entra, AD-mastered Okta users); one responder at most.",
    )
    portals: Texts = Field(
        default=(),
        description="Portals (from [organisation] portals) whose own sessions this responder ends.",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponderRoles:
    """Plug-in sections without the core's keys, and the roles those keys give."""

    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # enabled only
    directory: str | None = None
    portal_owner: Mapping[str, str] = field(default_factory=dict)  # portal URL → responder name


def read_roles(
    tables: Mapping[str, Mapping[str, Any]], *, portals: Sequence[str]
) -> ResponderRoles:
    """Split each enabled `[responders.NAME]` table into the plug-in's keys and the core's."""
    sections: dict[str, Mapping[str, Any]] = {}
    directory: str | None = None
    owner: dict[str, str] = {}
    for name, table in tables.items():
        where = f"responders.{name}"
        if not isinstance(table, Mapping):
            raise SettingError(where, "", "must be a table")
        roles = load_section(
            RolesSection, {k: table[k] for k in CORE_KEYS if k in table}, section=where
        )
        if not roles.enabled:
            continue
        sections[name] = {k: v for k, v in table.items() if k not in CORE_KEYS}
        if roles.directory:
            if directory is not None:
                raise SettingError(where, "directory", f"already set on [responders.{directory}]")
            directory = name
        for portal in roles.portals:
            if portal not in portals:
                raise SettingError(where, "portals", f"{portal!r} is not in [organisation] portals")
            if portal in owner:
                raise SettingError(
                    where, "portals", f"{portal!r} already ends in [responders.{owner[portal]}]"
                )
            owner[portal] = name
    return ResponderRoles(sections=sections, directory=directory, portal_owner=owner)


def portal_hooks(roles: ResponderRoles, built: Mapping[str, Any]) -> dict[str, PortalHook]:
    """Each configured portal → the built responder that ends its sessions; a responder that
    cannot is a config error."""
    hooks: dict[str, PortalHook] = {}
    for portal, name in roles.portal_owner.items():
        responder = built[name]
        if not callable(getattr(responder, "end_portal_sessions", None)):
            raise SettingError(
                f"responders.{name}", "portals", "this responder cannot end portal sessions"
            )
        hooks[portal] = responder
    return hooks
