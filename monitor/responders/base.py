"""Reads one responder's config section (typed values, secrets from named environment variables)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from monitor.errors import ConfigError


class Settings:
    """Reads one responder's config mapping; `finish()` rejects keys nobody asked for."""

    def __init__(
        self, section: str, mapping: Mapping[str, Any], env: Mapping[str, str] | None = None
    ) -> None:
        self.section = section
        self._data = dict(mapping)
        self._seen: set[str] = set()
        self._env = os.environ if env is None else env

    def _get(self, key: str) -> Any:
        self._seen.add(key)
        return self._data.get(key)

    def text(self, key: str, default: str | None = None, *, choices: tuple[str, ...] = ()) -> str:
        value = self._get(key)
        if value is None:
            if default is None:
                raise ConfigError(f"[responders.{self.section}] {key} is required")
            value = default
        if not isinstance(value, str) or not value:
            raise ConfigError(f"[responders.{self.section}] {key} must be a non-empty string")
        if choices and value not in choices:
            raise ConfigError(
                f"[responders.{self.section}] {key} must be one of {', '.join(choices)}"
            )
        return value

    def optional_str(self, key: str) -> str | None:
        value = self._get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"[responders.{self.section}] {key} must be a string")
        return value or None

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise ConfigError(f"[responders.{self.section}] {key} must be a number >= {minimum}")
        return float(value)

    def integer(self, key: str, default: int, *, minimum: int = 0) -> int:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"[responders.{self.section}] {key} must be an integer >= {minimum}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(f"[responders.{self.section}] {key} must be true or false")
        return value

    def secret_env(self, key: str) -> str:
        """The value of the environment variable whose *name* is configured under `key`."""
        var = self.text(key)
        value = self._env.get(var)
        if not value:
            raise ConfigError(
                f"[responders.{self.section}] environment variable {var} ({key}) is not set"
            )
        return value

    def finish(self) -> None:
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise ConfigError(f"[responders.{self.section}] unknown key: {unknown[0]}")
