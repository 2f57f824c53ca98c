"""The responder contract: find a user in an identity provider and contain them, step by step."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar, Protocol

from monitor.types import Outcome

STEP_RESET = "reset_password"  # the leaked password replaced by a random one
STEP_REQUIRE_CHANGE = "require_change"  # a new password must be chosen at the next sign-in
STEP_REVOKE = "revoke_sessions"  # the identity provider's sessions and refresh tokens ended
STEP_PORTAL = "end_portal_sessions"  # the portal's own sessions (a stolen cookie's) ended
STEP_BLOCK = "block"  # sign-in blocked (accounts we cannot reset)
STEP_NOTIFY = "notify"
STEP_LOOKUP = "lookup"  # the user looked up (recorded when it fails or finds no one)
STEP_STALE = "stale"  # the password changed after the leak: nothing reset

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
    mastered_in: str = ""  # where the password lives when not here, e.g. "on-premises AD"
    status: str = ""  # the provider's own lifecycle status, when it has one (Okta)


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    """The outcome of one containment step. `detail` never holds a secret."""

    step: str  # one of the STEP_* names above
    outcome: Outcome
    retryable: bool = False
    detail: str = ""  # what happened, or why it did not
    request_id: str | None = None
    todo: str = ""  # when the step did not take effect: what a human must do instead
    also: tuple[StepResult, ...] = ()  # other steps the same call took effect for (or not)


@dataclass(frozen=True, slots=True, kw_only=True)
class PortalRef:
    """The portal that issued a stolen session cookie."""

    portal: str  # URL or host
    cookie_name: str | None = None
    expires: datetime | None = None


class PortalHook(Protocol):
    """Ends a user's sessions in the portal that issued a cookie, and says whether it did."""

    name: ClassVar[str]

    async def end_portal_sessions(
        self, user: IdentityUser, portal: PortalRef, *, dry_run: bool
    ) -> StepResult: ...


class ChangeRequirer(Protocol):
    """A responder that can require a new password at the next sign-in on its own, for a reset
    whose call did not (or a reset of ours applied before a crash)."""

    async def require_change(self, user: IdentityUser, *, dry_run: bool) -> StepResult: ...


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


def with_change_required(result: StepResult, detail: str) -> StepResult:
    """A reset whose own call also required a new password at the next sign-in: when the reset
    took effect, so did that requirement (`detail` says how)."""
    if result.outcome is not Outcome.DONE:
        return result
    change = StepResult(
        step=STEP_REQUIRE_CHANGE,
        outcome=Outcome.DONE,
        detail=detail,
        request_id=result.request_id,
    )
    return replace(result, also=(*result.also, change))
