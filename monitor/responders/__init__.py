"""Responders: contain leaked credentials in identity providers (one file per provider).

`BUILTIN` lists the built-in responders; third parties register under the entry-point group
`credwatch.responders`. `build(name, mapping)` makes one from its config section.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from monitor.errors import ConfigError

from .base import AccountRef, IdentityUser, Responder, StepResult

__all__ = ["BUILTIN", "AccountRef", "IdentityUser", "Responder", "StepResult", "build", "names"]

BUILTIN: Mapping[str, str] = {
    "okta": "monitor.responders.okta:OktaResponder",
    "entra": "monitor.responders.entra:EntraResponder",
    "keycloak": "monitor.responders.keycloak:KeycloakResponder",
    "google": "monitor.responders.google:GoogleResponder",
    "ldap": "monitor.responders.ldap:LdapResponder",
    "webhook": "monitor.responders.webhook:WebhookResponder",
}
ENTRY_POINT_GROUP = "credwatch.responders"


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def names() -> list[str]:
    """Built-in and installed responder names."""
    found = set(BUILTIN) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(found)


def build(
    name: str, mapping: Mapping[str, Any], *, env: Mapping[str, str] | None = None
) -> Responder:
    """The responder `name` built from its config section (credentials read from `env`)."""
    if name in BUILTIN:
        cls = _load(BUILTIN[name])
    else:
        matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if not matches:
            raise ConfigError(f"unknown responder: {name}")
        cls = matches[0].load()
    responder: Responder = cls.from_mapping(mapping, env=env)
    return responder
