"""What each plug-in reads of its config table: the core's own keys (routing, roles) taken out.

The application and `credwatch doctor` build plug-ins from these same sections, so a check
passes exactly when `serve` would build the plug-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.config import Config
from monitor.plugins import Family
from monitor.responder_roles import ResponderRoles, read_roles
from monitor.routing import plugin_keys

Sections = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginSections:
    feeds: Sections  # API feeds (the files feed takes no section)
    notifiers: Sections  # without routing keys; the console alone when none is configured
    responders: Sections  # without the `directory` / `portals` role keys
    roles: ResponderRoles

    def by_family(self) -> list[tuple[Family, Sections]]:
        return [
            (Family.FEEDS, self.feeds),
            (Family.NOTIFIERS, self.notifiers),
            (Family.RESPONDERS, self.responders),
        ]


def plugin_sections(config: Config) -> PluginSections:
    """Raises SettingError (without the file name) when a role key is wrong."""
    notifiers = config.notifiers or {"console": {}}
    roles = read_roles(config.responders, portals=config.portals)
    return PluginSections(
        feeds={k: v for k, v in config.feeds.items() if k != "files"},
        notifiers={name: plugin_keys(section) for name, section in notifiers.items()},
        responders=roles.sections,
        roles=roles,
    )
