"""The built-in notifiers by name, plus third-party ones from the `credwatch.notifiers` entry points."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from monitor.errors import ConfigError
from notifiers.base import Notifier

BUILTIN = {
    "console": "notifiers.console:ConsoleNotifier",
    "slack": "notifiers.slack:SlackNotifier",
    "email": "notifiers.email:EmailNotifier",
    "webhook": "notifiers.webhook:WebhookNotifier",
}


def _load(name: str) -> Any:
    if name in BUILTIN:
        module, _, attr = BUILTIN[name].partition(":")
        return getattr(importlib.import_module(module), attr)
    for ep in entry_points(group="credwatch.notifiers"):
        if ep.name == name:
            return ep.load()
    raise ConfigError(f"notifiers.{name}: unknown notifier (built-in: {', '.join(BUILTIN)})")


def build_notifiers(
    sections: Mapping[str, Mapping[str, Any]], env: Mapping[str, str]
) -> list[Notifier]:
    """One notifier per enabled section; the console alone when none is configured."""
    if not sections:
        sections = {"console": {}}
    built: list[Notifier] = []
    for name, section in sections.items():
        if section.get("enabled", True) is False:
            continue
        cls = _load(name)
        options = {k: v for k, v in section.items() if k != "enabled"}
        built.append(cls.from_config(options, env))
    return built
