"""Requiring a new password at the next sign-in is its own step with its own outcome: a reset
that took effect without it is never reported contained, and each provider's call is checked
against its fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest_asyncio

from monitor.containment import ContainmentStatus
from monitor.responder import STEP_REQUIRE_CHANGE, AccountRef, IdentityUser, StepResult
from monitor.responders.keycloak import KeycloakResponder
from monitor.types import Outcome
from tests.servers.idp import FakeIdP, FakeUser, MemoryActionLog, keycloak_app, serve
from tests.unit.test_containment import ScriptedResponder, run, user
from tests.unit.test_responder_keycloak import ADMIN, ENV


class ResetWithoutChange(ScriptedResponder):
    """A reset that replaced the password, but whose call could not require a change."""

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        done = await super().reset_password(user, dry_run=dry_run)
        refused = StepResult(
            step=STEP_REQUIRE_CHANGE,
            outcome=Outcome.FAILED,
            detail="pwdReset could not be set (ldap result 50 insufficientAccessRights)",
            todo="require a password change for this entry",
        )
        return replace(done, also=(refused,))


async def test_a_reset_without_the_change_required_is_partial() -> None:
    r, log = ResetWithoutChange(user=user()), MemoryActionLog()
    result = await run(r, log)
    assert result.status is ContainmentStatus.PARTIAL
    assert log.steps() == [
        ("reset_password", "done"),
        ("require_change", "failed"),
        ("revoke_sessions", "done"),
    ]
    assert ("require_change", False) not in r.calls  # settled by the reset's own call
    assert result.headline.startswith(
        "PARTIALLY contained in fake. leaked password replaced by a random one: done. "
        "identity provider sessions revoked: done. NOT DONE: new password required at next "
        "sign-in (pwdReset could not be set (ldap result 50 insufficientAccessRights)); "
        "to do: require a password change for this entry"
    )


async def test_a_responder_that_cannot_require_a_change_is_not_contained() -> None:
    class NoChange(ScriptedResponder):
        require_change = None  # type: ignore[assignment]

    r, log = NoChange(user=user()), MemoryActionLog()
    result = await run(r, log)
    assert result.status is ContainmentStatus.PARTIAL
    assert ("require_change", "skipped") in log.steps()
    assert "to do: require a password change at the next sign-in of partner1@gmail.com" in (
        result.headline
    )


async def test_contained_headline_names_every_step() -> None:
    result = await run(ScriptedResponder(user=user()), MemoryActionLog())
    assert result.status is ContainmentStatus.CONTAINED
    assert result.headline == (
        "contained in fake. leaked password replaced by a random one: done. new password "
        "required at next sign-in: done. identity provider sessions revoked: done"
    )


@pytest_asyncio.fixture
async def keycloak() -> AsyncIterator[tuple[FakeIdP, KeycloakResponder]]:
    idp = FakeIdP()
    idp.add(
        FakeUser(id="kc-1", login="partner1", email="partner1@gmail.com",
                 extra={"requiredActions": ["CONFIGURE_TOTP"]})
    )  # fmt: skip
    async with serve(keycloak_app(idp)) as url:
        cfg = {
            "base_url": url, "realm": "partners", "client_id": "credwatch",
            "client_secret_env": "CW_KC_SECRET", "timeout": 0.5,
        }  # fmt: skip
        r = KeycloakResponder.from_config(cfg, env=ENV)
        yield idp, r
        await r.aclose()


async def test_keycloak_adds_update_password_and_keeps_the_other_actions(
    keycloak: tuple[FakeIdP, KeycloakResponder],
) -> None:
    idp, r = keycloak
    found = await r.find_user(AccountRef(login="partner1"))
    assert found is not None
    step = await r.require_change(found, dry_run=False)
    assert (step.outcome, step.detail) == (Outcome.DONE, "UPDATE_PASSWORD required")
    [put] = idp.calls_to("PUT", f"{ADMIN}/users/kc-1")
    assert put.json()["requiredActions"] == ["CONFIGURE_TOTP", "UPDATE_PASSWORD"]
    assert idp.users["kc-1"].must_change
    again = await r.require_change(found, dry_run=False)  # already required: nothing sent
    assert again.detail == "UPDATE_PASSWORD already required"
    assert len(idp.calls_to("PUT", f"{ADMIN}/users/kc-1")) == 1
