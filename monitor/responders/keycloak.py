"""Keycloak responder (Admin REST API): find a user, temporary random password, logout, disable.

As a portal's session hook (`portals = [...]` and `portal_clients` in its section) it ends the
portal's sessions through OIDC back-channel logout: only when the portal's client has a
back-channel logout URL and Keycloak holds a session of the user at that client does logging the
user out reach the portal; otherwise the step is not confirmed and says what to ask for."""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field

from monitor.errors import ProviderError
from monitor.responder import (
    STEP_BLOCK,
    STEP_PORTAL,
    STEP_REQUIRE_CHANGE,
    STEP_RESET,
    STEP_REVOKE,
    AccountRef,
    IdentityUser,
    PortalRef,
    StepResult,
    dry_run_result,
    random_password,
    with_change_required,
)
from monitor.retry import Sleep
from monitor.settings import secret_from_env
from monitor.types import Outcome

from .rest import FromSection, RestClient, RestSection, step_from_error

log = logging.getLogger(__name__)

SECTION = "responders.keycloak"


class KeycloakSection(RestSection):
    """`[responders.keycloak]`: server URL, realm, service-account client and its secret variable."""

    base_url: str = Field(min_length=1, description="Keycloak server URL.")
    realm: str = Field(min_length=1, description="Realm of the users.")
    client_id: str = Field(min_length=1, description="Service-account client id.")
    client_secret_env: str = Field(min_length=1, description="Variable holding the client secret.")
    portal_clients: dict[str, str] = Field(
        default_factory=dict,
        description="Portal URL → its Keycloak client id, for portals this responder ends "
        "sessions of (back-channel logout; needs view-clients).",
    )


def epoch_ms(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


class KeycloakResponder(FromSection):
    """Keycloak ≥ 17 with a service-account client (`view-users`, `manage-users`)."""

    name: ClassVar[str] = "keycloak"
    section_model = KeycloakSection
    section_name = SECTION

    def __init__(
        self, section: KeycloakSection, env: Mapping[str, str], *, sleep: Sleep = asyncio.sleep
    ) -> None:
        base = section.base_url.rstrip("/")
        quoted = urllib.parse.quote(section.realm, safe="")
        self._token_url = f"{base}/realms/{quoted}/protocol/openid-connect/token"
        self._admin = f"{base}/admin/realms/{quoted}"
        self._client_id = section.client_id
        self._client_secret = secret_from_env(
            SECTION, "client_secret_env", section.client_secret_env, env
        )
        self._portal_clients = dict(section.portal_clients)
        # The Admin API has no rate limit of its own; a fronting proxy's 429/5xx is retried.
        self._rest = RestClient(self.name, section, sleep=sleep, token=self._fetch_token)

    async def _fetch_token(self) -> tuple[str, float]:
        return await self._rest.token_from(
            self._token_url,
            {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            },
        )

    async def _get(
        self, path: str, params: Mapping[str, str] | None = None, *, what: str = "user lookup"
    ) -> Any:
        return await self._rest.lookup(f"{self._admin}{path}", params, what=what)

    async def _search(self, field: str, value: str) -> dict[str, Any] | None:
        found = await self._get("/users", {field: value, "exact": "true"})
        if not isinstance(found, list) or not found:
            return None
        if len(found) > 1:
            raise ProviderError(f"keycloak: several users match that {field}", retryable=False)
        first = found[0]
        return first if isinstance(first, dict) else None

    async def find_user(self, account: AccountRef) -> IdentityUser | None:
        rep: dict[str, Any] | None = None
        if account.idp_user_id:
            data = await self._get(f"/users/{urllib.parse.quote(account.idp_user_id, safe='')}")
            rep = data if isinstance(data, dict) else None
        if rep is None and account.login:
            rep = await self._search("username", account.login)
        if rep is None and account.email:
            rep = await self._search("email", account.email)
        if rep is None or not isinstance(rep.get("id"), str):
            return None
        uid = rep["id"]
        creds = await self._get(f"/users/{urllib.parse.quote(uid, safe='')}/credentials")
        password = next(
            (c for c in creds or [] if isinstance(c, dict) and c.get("type") == "password"), None
        )
        link = rep.get("federationLink")
        mastered_in = await self._mastered_in(link) if isinstance(link, str) and link else ""
        return IdentityUser(
            provider=self.name,
            user_id=uid,
            login=str(rep.get("username") or ""),
            email=rep.get("email"),
            password_changed_at=epoch_ms(password.get("createdDate")) if password else None,
            # Brokered without a local password: not ours to reset. A federated user's password
            # lives in the user storage (LDAP): reset here only when Keycloak writes it back.
            external=not link and password is None,
            enabled=rep.get("enabled") is not False,
            mastered_in=mastered_in,
        )

    async def _mastered_in(self, component_id: str) -> str:
        """ "" when the federation is WRITABLE (a reset here reaches the directory); otherwise
        where the password must be reset instead."""
        data = await self._get(f"/components/{urllib.parse.quote(component_id, safe='')}")
        config = data.get("config") if isinstance(data, dict) else None
        modes = config.get("editMode") if isinstance(config, dict) else None
        mode = modes[0] if isinstance(modes, list) and modes else None
        if mode == "WRITABLE":
            return ""
        name = data.get("name") if isinstance(data, dict) else None
        return (
            f"the directory behind Keycloak user federation {name or component_id} "
            f"(edit mode {mode or 'unknown'})"
        )

    async def _call(self, step: str, method: str, path: str, body: Any, done: str) -> StepResult:
        return await self._rest.step(
            step, method, f"{self._admin}{path}", done=done, json_body=body
        )

    async def reset_password(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(STEP_RESET, "set a temporary random password (UPDATE_PASSWORD)")
        uid = urllib.parse.quote(user.user_id, safe="")
        body = {"type": "password", "value": random_password(), "temporary": True}
        result = await self._call(
            STEP_RESET, "PUT", f"/users/{uid}/reset-password", body, "random password set"
        )
        return with_change_required(
            result, "temporary password: UPDATE_PASSWORD required at next login"
        )

    async def require_change(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        """Add the UPDATE_PASSWORD required action (the other required actions are kept)."""
        if user.mastered_in:
            return StepResult(
                step=STEP_REQUIRE_CHANGE,
                outcome=Outcome.SKIPPED,
                detail=f"needs {user.mastered_in}: Keycloak cannot write a new password there",
                todo=f"require a password change in {user.mastered_in}",
            )
        if dry_run:
            return dry_run_result(STEP_REQUIRE_CHANGE, "add the UPDATE_PASSWORD required action")

        def add(current: dict[str, Any]) -> dict[str, Any] | None:
            actions = [a for a in current.get("requiredActions") or [] if isinstance(a, str)]
            if "UPDATE_PASSWORD" in actions:
                return None
            return {**current, "requiredActions": [*actions, "UPDATE_PASSWORD"]}

        return await self._update(
            STEP_REQUIRE_CHANGE,
            user,
            add,
            done="UPDATE_PASSWORD required",
            already="UPDATE_PASSWORD already required",
        )

    async def _update(
        self,
        step: str,
        user: IdentityUser,
        change: Callable[[dict[str, Any]], dict[str, Any] | None],
        *,
        done: str,
        already: str,
    ) -> StepResult:
        """Read the whole representation, change it and PUT it back: PUT replaces list
        attributes (requiredActions...). `change` answers None when nothing is left to do."""
        uid = urllib.parse.quote(user.user_id, safe="")
        try:
            current = await self._get(f"/users/{uid}")
        except ProviderError as exc:
            return step_from_error(step, exc)
        if not isinstance(current, dict):
            return StepResult(step=step, outcome=Outcome.NOT_FOUND, detail="user not found")
        merged = change(current)
        if merged is None:
            return StepResult(step=step, outcome=Outcome.DONE, detail=already)
        return await self._call(step, "PUT", f"/users/{uid}", merged, done)

    async def revoke_sessions(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if dry_run:
            return dry_run_result(STEP_REVOKE, "log the user out everywhere (notBefore = now)")
        uid = urllib.parse.quote(user.user_id, safe="")
        return await self._call(
            STEP_REVOKE, "POST", f"/users/{uid}/logout", None, "sessions logged out"
        )

    async def block(self, user: IdentityUser, *, dry_run: bool) -> StepResult:
        if not user.enabled:
            return StepResult(step=STEP_BLOCK, outcome=Outcome.DONE, detail="already disabled")
        if dry_run:
            return dry_run_result(STEP_BLOCK, "disable the user (enabled=false)")
        return await self._update(
            STEP_BLOCK,
            user,
            lambda current: {**current, "enabled": False} if current.get("enabled", True) else None,
            done="user disabled",
            already="already disabled",
        )

    async def end_portal_sessions(
        self, user: IdentityUser, portal: PortalRef, *, dry_run: bool
    ) -> StepResult:
        """Done only when Keycloak's logout sends the portal a back-channel logout token: the
        portal's client has a back-channel logout URL and a session of the user at that client."""
        where = portal.portal
        client_id = self._portal_clients.get(where)
        ask = f"ask the {where} team to end every session of {user.login or user.email} now"
        if client_id is None:
            return _unconfirmed(
                f"no Keycloak client configured for {where} (portal_clients)",
                f"{ask}, or map the portal to its client in [responders.keycloak] portal_clients",
            )
        try:
            found = await self._get(
                "/clients", {"clientId": client_id}, what="portal client lookup"
            )
            client = next(
                (c for c in found or [] if isinstance(c, dict) and c.get("clientId") == client_id),
                None,
            )
            if client is None:
                return _unconfirmed(f"client {client_id} is not in the realm", ask)
            url = (client.get("attributes") or {}).get("backchannel.logout.url")
            if client.get("protocol", "openid-connect") != "openid-connect" or not url:
                return _unconfirmed(
                    f"client {client_id} has no back-channel logout URL: Keycloak's logout does "
                    f"not reach {where}",
                    f"{ask}, or configure OIDC back-channel logout for client {client_id}",
                )
            if dry_run:
                return dry_run_result(
                    STEP_PORTAL, f"log the user out so Keycloak notifies {where} (back-channel)"
                )
            target = user if user.provider == self.name else await self._same_user(user)
            if target is None:
                return _unconfirmed(f"{user.login or user.email} is not a Keycloak user", ask)
            uid = urllib.parse.quote(target.user_id, safe="")
            sessions = await self._get(f"/users/{uid}/sessions", what="session lookup")
        except ProviderError as exc:
            return step_from_error(STEP_PORTAL, exc)
        held = sum(
            1
            for s in sessions or []
            if isinstance(s, dict)
            and isinstance(s.get("clients"), dict)
            and (client.get("id") in s["clients"] or client_id in s["clients"].values())
        )
        if not held:
            return _unconfirmed(
                f"Keycloak holds no session of this user at client {client_id}, so its logout "
                f"sends {where} no back-channel logout; a portal session that outlived Keycloak's "
                "may still work",
                ask,
            )
        result = await self._call(
            STEP_PORTAL,
            "POST",
            f"/users/{uid}/logout",
            None,
            f"Keycloak logged the user out and sent {where} (client {client_id}) a back-channel "
            f"logout for {held} session(s)",
        )
        return result

    async def _same_user(self, user: IdentityUser) -> IdentityUser | None:
        return await self.find_user(AccountRef(login=user.login, email=user.email))

    async def aclose(self) -> None:
        await self._rest.aclose()


def _unconfirmed(detail: str, todo: str) -> StepResult:
    return StepResult(step=STEP_PORTAL, outcome=Outcome.SKIPPED, detail=detail, todo=todo)
