"""The responder plug-in contract: find a user in an identity provider and contain them."""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from monitor.errors import ConfigError
from monitor.types import Outcome

STEP_RESET = "reset_password"
STEP_REVOKE = "revoke_sessions"
STEP_BLOCK = "block"
STEP_NOTIFY = "notify"

_SYMBOLS = "!#%+-.:=?@_~"
_ALPHABET = string.ascii_letters + string.digits + _SYMBOLS


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountRef:
    """Who to look for: the leaked login, an e-mail when known, the IdP id when the watchlist has it."""

    login: str
    email: str | None = None
    idp_user_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityUser:
    """A user as the identity provider sees them."""

    provider: str
    user_id: str
    login: str
    email: str | None
    password_changed_at: datetime | None  # tz-aware; None = unknown
    external: bool  # federated / guest / brokered: cannot be reset by us
    enabled: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    """The outcome of one containment step. `detail` never holds a secret."""

    step: str  # "reset_password" | "require_change" | "revoke_sessions" | "block" | "notify"
    outcome: Outcome
    retryable: bool = False
    detail: str = ""
    request_id: str | None = None


class Responder(Protocol):
    """An identity provider. `find_user` raises ProviderError when the answer is unknown."""

    name: ClassVar[str]

    async def find_user(self, account: AccountRef) -> IdentityUser | None: ...

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult: ...

    async def revoke_sessions(self, user: IdentityUser, *, dry_run: bool) -> StepResult: ...

    async def block(self, user: IdentityUser, *, dry_run: bool) -> StepResult: ...

    async def aclose(self) -> None: ...


def random_password(length: int = 32) -> str:
    """A `secrets`-generated password with upper, lower, digit and symbol; never log or return it."""
    if length < 8:
        raise ValueError("length must be at least 8")
    rng = secrets.SystemRandom()
    chars = [
        secrets.choice(string.ascii_uppercase),
        secrets.choice(string.ascii_lowercase),
        secrets.choice(string.digits),
        secrets.choice(_SYMBOLS),
    ]
    chars += [secrets.choice(_ALPHABET) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


def dry_run_result(step: str, detail: str) -> StepResult:
    return StepResult(step=step, outcome=Outcome.DRY_RUN, detail=f"dry run: would {detail}")


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
