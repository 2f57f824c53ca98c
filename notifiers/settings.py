"""Read a notifier's config section: typed values, and secrets from the environment variables it names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.errors import ConfigError


def text(name: str, section: Mapping[str, Any], key: str) -> str | None:
    """A non-empty string, or None when absent."""
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[{name}] {key} must be a non-empty string")
    return value.strip()


def number(
    name: str, section: Mapping[str, Any], key: str, default: float, *, minimum: float = 0.0
) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigError(f"[{name}] {key} must be a number >= {minimum:g}")
    return float(value)


def secret(
    name: str, section: Mapping[str, Any], key: str, env: Mapping[str, str], *, strip: bool = True
) -> str | None:
    """The value of the environment variable that `key` names; None when `key` is absent."""
    var = text(name, section, key)
    if var is None:
        return None
    value = env.get(var, "")
    if strip:
        value = value.strip()
    if not value:
        raise ConfigError(f"[{name}] {key}: environment variable {var} is not set")
    return value
