"""The one plug-in registry: feeds, notifiers and responders, all loaded from entry points.

Built-ins are declared in pyproject.toml under the same entry-point groups a third-party
package uses (`credwatch.feeds`, `credwatch.notifiers`, `credwatch.responders`), so the core
never imports a plug-in package: it asks this module for a class by family and name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from monitor.settings import SettingError


class Family(StrEnum):
    FEEDS = "feeds"
    NOTIFIERS = "notifiers"
    RESPONDERS = "responders"

    @property
    def group(self) -> str:
        return f"credwatch.{self.value}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginInfo:
    """One registered plug-in: where it comes from, and whether it loaded."""

    family: Family
    name: str
    target: str  # "module:Class"
    distribution: str  # "credwatch 0.1.0", or "?" when the entry point has no distribution
    error: str | None = None  # why it failed to load, None when it loaded


def _entry_points(family: Family) -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=family.group):
        found.setdefault(ep.name, ep)  # the first distribution to declare a name wins
    return found


def names(family: Family) -> list[str]:
    return sorted(_entry_points(family))


def load(family: Family, name: str) -> Any:
    """The plug-in class registered as `name` in `family`."""
    ep = _entry_points(family).get(name)
    if ep is None:
        known = ", ".join(names(family)) or "none installed"
        raise SettingError(f"{family.value}.{name}", "", f"unknown plug-in (installed: {known})")
    return ep.load()


def build(family: Family, name: str, section: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    """An instance of plug-in `name`, made from its config section by `cls.from_config`."""
    cls = load(family, name)
    return cls.from_config(section, env)


def listing() -> list[PluginInfo]:
    """Every registered plug-in of every family, loaded once to tell whether it works."""
    out: list[PluginInfo] = []
    for family in Family:
        for name, ep in sorted(_entry_points(family).items()):
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "?"
            error = None
            try:
                ep.load()
            except Exception as exc:  # a broken third-party plug-in is reported, not fatal
                error = f"{type(exc).__name__}: {exc}"[:200]
            out.append(
                PluginInfo(
                    family=family, name=name, target=ep.value, distribution=dist, error=error
                )
            )
    return out


def build_enabled(
    family: Family, sections: Mapping[str, Mapping[str, Any]], env: Mapping[str, str]
) -> dict[str, Any]:
    """One plug-in per section that is not `enabled = false`, by name (`enabled` is ours)."""
    built: dict[str, Any] = {}
    for name, section in sections.items():
        if section.get("enabled", True) is False:
            continue
        options = {k: v for k, v in section.items() if k != "enabled"}
        built[name] = build(family, name, options, env)
    return built
