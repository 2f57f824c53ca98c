"""Local aiohttp servers that answer like the Okta, Graph, Keycloak, Google and webhook APIs.

Also `MemoryActionLog`, the in-memory containment audit trail the unit tests use.
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from monitor.types import Outcome

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OKTA_TOKEN = "okta-api-token"
ACCESS_TOKEN = "access-token-1"


@dataclass
class Call:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode()))


@dataclass
class FakeUser:
    """A user in a fake identity provider; `password` is what the provider would check."""

    id: str
    login: str
    email: str
    password: str | None = "Leaked#Pass1"
    password_changed: datetime | None = datetime(2026, 1, 10, tzinfo=UTC)
    external: bool = False
    enabled: bool = True
    must_change: bool = False
    sessions_revoked: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    client_sessions: list[str] = field(default_factory=list)  # Keycloak: clients in its session


class FakeIdP:
    """Records every call; scripted answers (`script`) run before the normal handler."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, FakeUser] = {}
        self.jwts: list[dict[str, Any]] = []  # decoded JWT assertions (Google token endpoint)
        self.clients: dict[str, dict[str, Any]] = {}  # Keycloak client representations by clientId
        self.backchannel: list[tuple[str, str]] = []  # Keycloak logout tokens sent: (url, sub)
        self._scripts: dict[tuple[str, str], list[Handler]] = {}
        self._lost: dict[tuple[str, str], int] = {}

    def add(self, user: FakeUser) -> FakeUser:
        self.users[user.id] = user
        return user

    def script(self, method: str, path: str, *answers: Handler) -> None:
        self._scripts.setdefault((method, path), []).extend(answers)

    def lose_reply(self, method: str, path: str, times: int = 1) -> None:
        """The next `times` such requests are applied, then the connection drops unanswered."""
        self._lost[(method, path)] = times

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]

    def by_key(self, key: str) -> FakeUser | None:
        key = key.lower()
        for u in self.users.values():
            if key in (u.id.lower(), u.login.lower(), u.email.lower()):
                return u
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        self.calls.append(
            Call(
                request.method,
                request.path,
                dict(request.query),
                CIMultiDict(request.headers),
                body,
            )
        )
        queue = self._scripts.get((request.method, request.path))
        if queue:
            return await queue.pop(0)(request)
        key = (request.method, request.path)
        if self._lost.get(key, 0) > 0:
            self._lost[key] -= 1
            await handler(request)  # the provider applies the change...
            if request.transport is not None:
                request.transport.abort()  # ...and its reply never arrives
            raise asyncio.CancelledError
        return await handler(request)

    def app(self) -> web.Application:
        return web.Application(middlewares=[self.middleware])


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    async def respond(request: web.Request) -> web.StreamResponse:
        if body is None:
            return web.Response(status=status, headers=headers)
        if isinstance(body, str):
            return web.Response(status=status, text=body, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    return respond


def hang(seconds: float) -> Handler:
    """Answer too late: the client's timeout fires first."""

    async def respond(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.Response(status=204)

    return respond


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run `app` on 127.0.0.1, a free port; yield its base URL (no trailing slash)."""
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def _iso(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z") if when else None


def _bearer_ok(request: web.Request) -> bool:
    return request.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"


def _token_answer() -> web.Response:
    return web.json_response(
        {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3599}
    )


# -- Okta -------------------------------------------------------------------------------------

RESETS = ("expire_password_with_temp_password", "reset_password", "expire_password")
_DIRECTORY_SOURCES = ("ACTIVE_DIRECTORY", "LDAP")
_EXTERNAL_SOURCES = ("FEDERATION", "SOCIAL")
# Which status each lifecycle call may start from, as Okta's Users API documents it (the
# classic reference and the Management OpenAPI text):
# - suspend: ACTIVE only, to SUSPENDED; otherwise 400 E0000001 (documented answer).
# - unsuspend: SUSPENDED only, to ACTIVE; otherwise 400 E0000001 (documented answer).
# - deactivate: any status but DEPROVISIONED, to DEPROVISIONED (answer on DEPROVISIONED not
#   documented: refused, 403 E0000038, unless `extra["undocumented"] = "accept"`).
# - unlock: LOCKED_OUT, or ACTIVE (blocked from unknown devices), to ACTIVE, with the current
#   password; Okta-sourced users only (answer otherwise not documented: 403 E0000038).
# - SUSPENDED users "can only be unsuspended or deactivated": every reset or expiry is refused
#   (the answer is not documented: 403 E0000038, as Okta answers an operation the status forbids).
# - reset_password (to RECOVERY, old password dead), expire_password_with_temp_password and
#   expire_password (to PASSWORD_EXPIRED): from ACTIVE. From any other status the docs are
#   silent: refused with 403 E0000038 unless the test sets `extra["undocumented"] = "accept"`
#   (LOCKED_OUT keeps its own switch, `extra["locked_reset"]`).
# - DELETE /users/{id}/sessions names no status condition: answered 204 in every status.
_WRONG_STATUS = "This operation is not allowed in the user's current status."
_CAN_SIGN_IN = ("ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT")  # LOCKED_OUT: once the lockout ends


def okta_status(u: FakeUser) -> str:
    """The user's Okta status: `extra["status"]`, else ACTIVE or SUSPENDED from `enabled`."""
    return str(u.extra.get("status", "ACTIVE" if u.enabled else "SUSPENDED"))


def set_okta_status(u: FakeUser, status: str) -> None:
    u.extra["status"] = status
    u.enabled = status not in ("SUSPENDED", "DEPROVISIONED")


def okta_signs_in(u: FakeUser, password: str) -> bool:
    """Whether `password` signs in to Okta now, or will once an admin lifts the user's status
    (unsuspends, activates or reactivates it) without changing the password."""
    source = u.extra.get("provider", "FEDERATION" if u.external else "OKTA")
    if source in _EXTERNAL_SOURCES or u.password != password:
        return False
    return okta_status(u) in (*_CAN_SIGN_IN, "SUSPENDED", "STAGED", "DEPROVISIONED")


def okta_app(idp: FakeIdP) -> web.Application:
    def err(status: int, code: str, summary: str) -> web.Response:
        return web.json_response(
            {
                "errorCode": code,
                "errorSummary": summary,
                "errorLink": code,
                "errorId": "oae1",
                "errorCauses": [],
            },
            status=status,
            headers={"X-Okta-Request-Id": "req-okta-1"},
        )

    def wrong_status() -> web.Response:
        return err(403, "E0000038", _WRONG_STATUS)

    def rep(u: FakeUser) -> dict[str, Any]:
        source = u.extra.get("provider", "FEDERATION" if u.external else "OKTA")
        creds: dict[str, Any] = {
            "provider": {"type": source, "name": "partner" if u.external else "OKTA"}
        }
        if u.password is not None and source not in _EXTERNAL_SOURCES:
            creds["password"] = {}  # Okta shows that a password is set, never the password
        return {
            "id": u.id,
            "status": okta_status(u),
            "passwordChanged": _iso(u.password_changed),
            "profile": {"login": u.login, "email": u.email},
            "credentials": creds,
        }

    async def check(request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"SSWS {OKTA_TOKEN}":
            return err(401, "E0000011", "Invalid token provided")
        return None

    async def get_user(request: web.Request) -> web.StreamResponse:
        if (denied := await check(request)) is not None:
            return denied
        u = idp.by_key(request.match_info["key"])
        if u is None:
            return err(404, "E0000007", "Not found: Resource not found")
        return web.json_response(rep(u), headers={"X-Okta-Request-Id": "req-okta-1"})

    async def search(request: web.Request) -> web.StreamResponse:
        if (denied := await check(request)) is not None:
            return denied
        expr = request.query.get("search", "")
        prefix = 'profile.email eq "'
        email = expr[len(prefix) : -1] if expr.startswith(prefix) and expr.endswith('"') else ""
        return web.json_response([rep(u) for u in idp.users.values() if u.email == email])

    def status_change(u: FakeUser, op: str, status: str, source: str) -> web.Response | None:
        """The answer of a lifecycle call the user's status forbids, or None when it may run."""
        if op == "suspend":
            if status != "ACTIVE":
                return err(
                    400,
                    "E0000001",
                    "Api validation failed: Cannot suspend a user that is not active",
                )
            return None
        if op == "unsuspend":
            if status != "SUSPENDED":
                return err(
                    400,
                    "E0000001",
                    "Api validation failed: Cannot unsuspend a user that is not suspended",
                )
            return None
        if op == "deactivate":
            undocumented = u.extra.get("undocumented", "refuse") == "refuse"
            return wrong_status() if status == "DEPROVISIONED" and undocumented else None
        if op == "unlock":
            if status not in ("LOCKED_OUT", "ACTIVE") or source in _DIRECTORY_SOURCES:
                return wrong_status()
            return None
        if op not in RESETS:
            return err(400, "E0000001", "Api validation failed")
        if status == "ACTIVE":
            return None
        if status == "SUSPENDED":
            return wrong_status()  # only unsuspend or deactivate
        if status == "LOCKED_OUT":
            return wrong_status() if u.extra.get("locked_reset", "refuse") == "refuse" else None
        return wrong_status() if u.extra.get("undocumented", "refuse") == "refuse" else None

    async def lifecycle(request: web.Request) -> web.StreamResponse:
        if (denied := await check(request)) is not None:
            return denied
        u = idp.users.get(request.match_info["uid"])
        if u is None:
            return err(404, "E0000007", "Not found: Resource not found")
        op = request.match_info["op"]
        status = okta_status(u)
        source = u.extra.get("provider", "FEDERATION" if u.external else "OKTA")
        if (refused := status_change(u, op, status, source)) is not None:
            return refused
        if op in ("unlock", "unsuspend"):
            set_okta_status(u, "ACTIVE")
            return web.json_response({}, headers={"X-Okta-Request-Id": "req-okta-4"})
        if op == "suspend":
            set_okta_status(u, "SUSPENDED")
            return web.json_response({})
        if op == "deactivate":
            set_okta_status(u, "DEPROVISIONED")
            return web.json_response({})
        if status == "LOCKED_OUT" and u.extra.get("locked_reset") == "accept_locked":
            # Not documented: accepted with nothing visible changing.
            return web.json_response({} if op != "expire_password_with_temp_password" else
                                     {**rep(u), "tempPassword": "TempPw" + u.id})  # fmt: skip
        if op == "expire_password_with_temp_password":
            u.password, u.must_change = "TempPw" + u.id, True
            u.password_changed = datetime.now(UTC)
            set_okta_status(u, "PASSWORD_EXPIRED")
            if request.query.get("revokeSessions") == "true":
                u.sessions_revoked += 1
            return web.json_response(
                {**rep(u), "tempPassword": "TempPw" + u.id},
                headers={"X-Okta-Request-Id": "req-okta-2"},
            )
        if op == "reset_password":
            u.password = None
            set_okta_status(u, "RECOVERY")
            if request.query.get("revokeSessions") == "true":
                u.sessions_revoked += 1
            if request.query.get("sendEmail") == "true":
                return web.json_response({})  # the link went to the user
            return web.json_response(
                {
                    "summary": "Reset password without sending email",
                    "resetPasswordUrl": "https://okta.invalid/reset/xyz",
                }
            )
        # expire_password
        u.must_change = True
        set_okta_status(u, "PASSWORD_EXPIRED")
        return web.json_response(rep(u), headers={"X-Okta-Request-Id": "req-okta-3"})

    async def sessions(request: web.Request) -> web.StreamResponse:
        if (denied := await check(request)) is not None:
            return denied
        u = idp.users.get(request.match_info["uid"])
        if u is None:
            return err(404, "E0000007", "Not found: Resource not found")
        u.sessions_revoked += 1
        return web.Response(status=204)

    app = idp.app()
    app.router.add_get("/api/v1/users", search)
    app.router.add_get("/api/v1/users/{key}", get_user)
    app.router.add_post("/api/v1/users/{uid}/lifecycle/{op}", lifecycle)
    app.router.add_delete("/api/v1/users/{uid}/sessions", sessions)
    return app


# -- Microsoft Graph --------------------------------------------------------------------------


def entra_app(idp: FakeIdP, tenant: str = "tenant-1") -> web.Application:
    def err(status: int, code: str, message: str) -> web.Response:
        return web.json_response(
            {
                "error": {
                    "code": code,
                    "message": message,
                    "innerError": {"request-id": "req-graph-1", "date": "2026-11-22T10:00:00"},
                }
            },
            status=status,
            headers={"request-id": "req-graph-1"},
        )

    def rep(u: FakeUser, select: str) -> dict[str, Any]:
        full = {
            "id": u.id,
            "userPrincipalName": u.login,
            "mail": u.email,
            "userType": "Guest" if u.external else "Member",
            "creationType": "Invitation" if u.external else None,
            "accountEnabled": u.enabled,
            "onPremisesSyncEnabled": None,
            "externalUserState": "Accepted" if u.external else None,
            "identities": [
                {
                    "signInType": "userPrincipalName",
                    "issuer": "tenant.onmicrosoft.com",
                    "issuerAssignedId": u.login,
                }
            ],
            "lastPasswordChangeDateTime": _iso(u.password_changed),
            "signInSessionsValidFromDateTime": None,
        }
        full.update(u.extra)  # odd users: synced, B2B members, internal guests
        keep = set(select.split(",")) if select else {"id", "userPrincipalName", "mail"}
        return {k: v for k, v in full.items() if k in keep}

    async def token(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        if form.get("client_secret") != "graph-secret":
            return web.json_response({"error": "invalid_client"}, status=401)
        return _token_answer()

    async def get_user(request: web.Request) -> web.StreamResponse:
        if not _bearer_ok(request):
            return err(401, "InvalidAuthenticationToken", "Access token is empty.")
        key = request.match_info["key"]
        u = idp.by_key(key)
        if u is None or (u.external and key not in (u.id, u.login)):  # guests: UPN is #EXT#
            return err(404, "Request_ResourceNotFound", "Resource does not exist.")
        return web.json_response(
            rep(u, request.query.get("$select", "")), headers={"request-id": "req-graph-1"}
        )

    async def list_users(request: web.Request) -> web.StreamResponse:
        if not _bearer_ok(request):
            return err(401, "InvalidAuthenticationToken", "Access token is empty.")
        flt = request.query.get("$filter", "")
        mail = (
            flt[len("mail eq '") : -1].replace("''", "'") if flt.startswith("mail eq '") else None
        )
        found = [
            rep(u, request.query.get("$select", "")) for u in idp.users.values() if u.email == mail
        ]
        return web.json_response({"@odata.context": "x", "value": found})

    async def patch_user(request: web.Request) -> web.StreamResponse:
        if not _bearer_ok(request):
            return err(401, "InvalidAuthenticationToken", "Access token is empty.")
        u = idp.users.get(request.match_info["key"])
        if u is None:
            return err(404, "Request_ResourceNotFound", "Resource does not exist.")
        body = await request.json()
        if "passwordProfile" in body and u.extra.get("onPremisesSyncEnabled"):
            return err(
                400,
                "Request_BadRequest",
                "Unable to update the specified properties for on-premises mastered Directory "
                "Sync objects or objects currently undergoing migration.",
            )
        if "passwordProfile" in body:  # the flags alone may be updated, without a password
            profile = body["passwordProfile"]
            u.must_change = bool(
                profile.get("forceChangePasswordNextSignIn")
                or profile.get("forceChangePasswordNextSignInWithMfa")
            )
            if "password" in profile:
                u.password = profile["password"]
                u.password_changed = datetime.now(UTC)
        if body.get("accountEnabled") is False:
            u.enabled = False
        return web.Response(status=204, headers={"request-id": "req-graph-2"})

    async def revoke(request: web.Request) -> web.StreamResponse:
        if not _bearer_ok(request):
            return err(401, "InvalidAuthenticationToken", "Access token is empty.")
        u = idp.users.get(request.match_info["key"])
        if u is None:
            return err(404, "Request_ResourceNotFound", "Resource does not exist.")
        if not (u.external or u.extra.get("externalUserState")):  # guests: their home tenant's
            u.sessions_revoked += 1
        return web.json_response({"@odata.context": "$metadata#Edm.Boolean", "value": True})

    app = idp.app()
    app.router.add_post(f"/{tenant}/oauth2/v2.0/token", token)
    app.router.add_get("/v1.0/users", list_users)
    app.router.add_get("/v1.0/users/{key}", get_user)
    app.router.add_patch("/v1.0/users/{key}", patch_user)
    app.router.add_post("/v1.0/users/{key}/revokeSignInSessions", revoke)
    return app


# -- Keycloak ---------------------------------------------------------------------------------


KEYCLOAK_FEDERATIONS = {"ldap-provider-1": "READ_ONLY", "ldap-writable": "WRITABLE"}


def keycloak_client(client_id: str, backchannel_url: str | None = None) -> dict[str, Any]:
    """A ClientRepresentation as the Admin API lists it (attributes are strings)."""
    attributes = {
        "backchannel.logout.session.required": "true",
        "backchannel.logout.revoke.offline.tokens": "false",
    }
    if backchannel_url:
        attributes["backchannel.logout.url"] = backchannel_url
    return {
        "id": f"uuid-{client_id}",
        "clientId": client_id,
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "frontchannelLogout": True,
        "attributes": attributes,
    }


def keycloak_app(idp: FakeIdP, realm: str = "partners") -> web.Application:
    """Users with `external=True` are LDAP-federated (`federationLink`, default the READ_ONLY
    provider; `extra={"federationLink": "ldap-writable"}` for a WRITABLE one): Keycloak lists no
    credential for them, and refuses a password reset when the federation is read-only."""
    base = f"/admin/realms/{realm}"

    def edit_mode(u: FakeUser) -> str | None:
        link = rep(u).get("federationLink")
        return KEYCLOAK_FEDERATIONS.get(link) if isinstance(link, str) else None

    def rep(u: FakeUser) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": u.id,
            "username": u.login,
            "email": u.email,
            "enabled": u.enabled,
            "createdTimestamp": 1700000000000,
            **{k: v for k, v in u.extra.items() if k != "last_put"},
        }
        others = [a for a in data.get("requiredActions", []) if a != "UPDATE_PASSWORD"]
        data["requiredActions"] = [*others, *(["UPDATE_PASSWORD"] if u.must_change else [])]
        if u.external:
            data.setdefault("federationLink", "ldap-provider-1")
        return data

    async def token(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_secret") != "kc-secret"
        ):
            return web.json_response({"error": "unauthorized_client"}, status=401)
        return _token_answer()

    def denied(request: web.Request) -> web.Response | None:
        if not _bearer_ok(request):
            return web.json_response({"error": "HTTP 401 Unauthorized"}, status=401)
        return None

    async def search(request: web.Request) -> web.StreamResponse:
        if (d := denied(request)) is not None:
            return d
        q = request.query
        if q.get("exact") != "true":
            return web.json_response([])
        if "username" in q:
            found = [u for u in idp.users.values() if u.login == q["username"]]
        else:
            found = [u for u in idp.users.values() if u.email == q.get("email")]
        return web.json_response([rep(u) for u in found])

    async def user(request: web.Request) -> web.StreamResponse:
        if (d := denied(request)) is not None:
            return d
        u = idp.users.get(request.match_info["uid"])
        if u is None:
            return web.json_response({"error": "User not found"}, status=404)
        if request.method == "GET":
            return web.json_response(rep(u))
        body = await request.json()
        u.enabled = bool(body.get("enabled", u.enabled))
        if isinstance(body.get("requiredActions"), list):  # PUT replaces the list
            u.must_change = "UPDATE_PASSWORD" in body["requiredActions"]
            u.extra["requiredActions"] = list(body["requiredActions"])
        u.extra["last_put"] = sorted(body)
        return web.Response(status=204)

    async def credentials(request: web.Request) -> web.StreamResponse:
        if (d := denied(request)) is not None:
            return d
        u = idp.users.get(request.match_info["uid"])
        if u is None:
            return web.json_response({"error": "User not found"}, status=404)
        if u.password is None or u.password_changed is None or u.external:
            return web.json_response([])  # a federated user's password lives in the directory
        ms = int(u.password_changed.timestamp() * 1000)
        return web.json_response(
            [{"id": "cred-1", "type": "password", "createdDate": ms, "credentialData": "{}"}]
        )

    async def reset(request: web.Request) -> web.StreamResponse:
        if (d := denied(request)) is not None:
            return d
        u = idp.users.get(request.match_info["uid"])
        if u is None:
            return web.json_response({"error": "User not found"}, status=404)
        if u.external and edit_mode(u) != "WRITABLE":
            return web.json_response(
                {"errorMessage": "Can't reset password as account is read only"}, status=400
            )
        body = await request.json()
        u.password, u.must_change = body["value"], bool(body.get("temporary"))
        u.password_changed = datetime.now(UTC)
        return web.Response(status=204)

    def client_uuid(client_id: str) -> str:
        return str(idp.clients.get(client_id, {}).get("id") or f"uuid-{client_id}")

    async def logout(request: web.Request) -> web.StreamResponse:
        """Ends every session of the user; for each client in a session that has a back-channel
        logout URL, Keycloak posts a logout token there (no client session: nothing is sent)."""
        if (d := denied(request)) is not None:
            return d
        u = idp.users.get(request.match_info["uid"])
        if u is None:
            return web.json_response({"error": "User not found"}, status=404)
        for client_id in u.client_sessions:
            attributes = idp.clients.get(client_id, {}).get("attributes") or {}
            if attributes.get("backchannel.logout.url"):
                idp.backchannel.append((attributes["backchannel.logout.url"], u.id))
        u.client_sessions = []
        u.sessions_revoked += 1
        return web.Response(status=204)

    async def sessions(request: web.Request) -> web.StreamResponse:
        """UserSessionRepresentation list: one SSO session holding the user's client sessions."""
        if (d := denied(request)) is not None:
            return d
        u = idp.users.get(request.match_info["uid"])
        if u is None:
            return web.json_response({"error": "User not found"}, status=404)
        if not u.client_sessions:
            return web.json_response([])
        return web.json_response(
            [
                {
                    "id": f"session-{u.id}",
                    "username": u.login,
                    "userId": u.id,
                    "ipAddress": "192.0.2.10",
                    "start": 1764590000000,
                    "lastAccess": 1764590400000,
                    "rememberMe": False,
                    "clients": {client_uuid(c): c for c in u.client_sessions},
                }
            ]
        )

    async def clients(request: web.Request) -> web.StreamResponse:
        """`?clientId=` is an exact match; an unknown one is an empty list, not a 404."""
        if (d := denied(request)) is not None:
            return d
        wanted = request.query.get("clientId")
        found = [c for cid, c in idp.clients.items() if wanted is None or cid == wanted]
        return web.json_response(found)

    async def component(request: web.Request) -> web.StreamResponse:
        if (d := denied(request)) is not None:
            return d
        cid = request.match_info["cid"]
        if cid not in KEYCLOAK_FEDERATIONS:
            return web.json_response({"error": "Could not find component"}, status=404)
        return web.json_response(
            {
                "id": cid,
                "name": cid,
                "providerId": "ldap",
                "providerType": "org.keycloak.storage.UserStorageProvider",
                "config": {"editMode": [KEYCLOAK_FEDERATIONS[cid]], "vendor": ["other"]},
            }
        )

    app = idp.app()
    app.router.add_post(f"/realms/{realm}/protocol/openid-connect/token", token)
    app.router.add_get(f"{base}/components/{{cid}}", component)
    app.router.add_get(f"{base}/users", search)
    app.router.add_route("*", f"{base}/users/{{uid}}", user)
    app.router.add_get(f"{base}/users/{{uid}}/credentials", credentials)
    app.router.add_put(f"{base}/users/{{uid}}/reset-password", reset)
    app.router.add_post(f"{base}/users/{{uid}}/logout", logout)
    app.router.add_get(f"{base}/users/{{uid}}/sessions", sessions)
    app.router.add_get(f"{base}/clients", clients)
    return app


# -- Google Workspace -------------------------------------------------------------------------


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def google_app(
    idp: FakeIdP,
    verify: Callable[[bytes, bytes], bool],
    domains: tuple[str, ...] = ("org.example",),
) -> web.Application:
    """`verify(signing_input, signature)` checks the JWT signature with the test public key.
    An address outside the customer's `domains` is answered 403, not 404, as Google does."""
    jwts = idp.jwts

    def err(status: int, reason: str, message: str) -> web.Response:
        return web.json_response(
            {
                "error": {
                    "code": status,
                    "message": message,
                    "errors": [{"message": message, "domain": "global", "reason": reason}],
                }
            },
            status=status,
        )

    async def token(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        header, payload, signature = str(form.get("assertion", "")).split(".")
        if not verify(f"{header}.{payload}".encode(), _b64decode(signature)):
            return web.json_response({"error": "invalid_grant"}, status=400)
        jwts.append(
            {"header": json.loads(_b64decode(header)), "claims": json.loads(_b64decode(payload))}
        )
        return _token_answer()

    def foreign(key: str) -> bool:
        return "@" in key and key.rpartition("@")[2].lower() not in domains

    async def user(request: web.Request) -> web.StreamResponse:
        if not _bearer_ok(request):
            return err(401, "authError", "Invalid Credentials")
        if foreign(request.match_info["key"]):
            return err(403, "forbidden", "Not Authorized to access this resource/api")
        u = idp.by_key(request.match_info["key"])
        if u is None:
            return err(404, "notFound", "Resource Not Found: userKey")
        if request.method == "PATCH":
            body = await request.json()
            if "password" in body:  # an admin's change: audited as CHANGE_PASSWORD
                u.password = body["password"]
                u.extra["admin_password_changed"] = datetime.now(UTC)
            if "changePasswordAtNextLogin" in body:
                u.must_change = bool(body["changePasswordAtNextLogin"])
            if body.get("suspended") is True:
                u.enabled = False
        return web.json_response(
            {
                "kind": "admin#directory#user",
                "id": u.id,
                "primaryEmail": u.email,
                "suspended": not u.enabled,
                "isAdmin": False,
            }
        )

    async def sign_out(request: web.Request) -> web.StreamResponse:
        if not _bearer_ok(request):
            return err(401, "authError", "Invalid Credentials")
        u = idp.by_key(request.match_info["key"])
        if u is None:
            return err(404, "notFound", "Resource Not Found: userKey")
        u.sessions_revoked += 1
        return web.Response(status=204)

    def since(request: web.Request) -> datetime:
        start = request.query.get("startTime")
        return datetime.fromisoformat(start.replace("Z", "+00:00")) if start else datetime.min

    def activities(items: list[dict[str, Any]]) -> web.Response:
        return web.json_response(
            {"kind": "admin#reports#activities", **({"items": items} if items else {})}
        )

    async def user_accounts(request: web.Request) -> web.StreamResponse:
        """The user's own password changes (`password_edit`, type password_change)."""
        if not _bearer_ok(request):
            return err(401, "authError", "Invalid Credentials")
        u = idp.by_key(request.match_info["key"])
        items = []
        when = u.password_changed if u is not None else None
        if when is not None and when >= since(request).replace(tzinfo=UTC):
            items.append(
                {
                    "kind": "admin#reports#activity",
                    "id": {
                        "time": _iso(when),
                        "applicationName": "user_accounts",
                        "uniqueQualifier": "1",
                    },
                    "events": [{"type": "password_change", "name": "password_edit"}],
                }
            )
        return activities(items)

    async def admin_events(request: web.Request) -> web.StreamResponse:
        """Admin console and API password changes: `CHANGE_PASSWORD` (USER_SETTINGS), filtered
        by `filters=USER_EMAIL==address`."""
        if not _bearer_ok(request):
            return err(401, "authError", "Invalid Credentials")
        if request.query.get("eventName") != "CHANGE_PASSWORD":
            return activities([])
        flt = request.query.get("filters", "")
        email = flt.removeprefix("USER_EMAIL==") if flt.startswith("USER_EMAIL==") else None
        u = idp.by_key(email) if email else None
        when = u.extra.get("admin_password_changed") if u is not None else None
        items = []
        if u is not None and when is not None and when >= since(request).replace(tzinfo=UTC):
            items.append(
                {
                    "kind": "admin#reports#activity",
                    "id": {
                        "time": _iso(when),
                        "applicationName": "admin",
                        "uniqueQualifier": "2",
                    },
                    "actor": {"email": "admin@org.example"},
                    "events": [
                        {
                            "type": "USER_SETTINGS",
                            "name": "CHANGE_PASSWORD",
                            "parameters": [{"name": "USER_EMAIL", "value": u.email}],
                        }
                    ],
                }
            )
        return activities(items)

    app = idp.app()
    app.router.add_post("/token", token)
    app.router.add_route("*", "/admin/directory/v1/users/{key}", user)
    app.router.add_post("/admin/directory/v1/users/{key}/signOut", sign_out)
    app.router.add_get("/admin/reports/v1/activity/users/all/applications/admin", admin_events)
    app.router.add_get(
        "/admin/reports/v1/activity/users/{key}/applications/user_accounts", user_accounts
    )
    return app


# -- Webhook receiver -------------------------------------------------------------------------


def webhook_app(idp: FakeIdP) -> web.Application:
    """A receiver that queues requests (202); a portal asked to end sessions ends them and
    confirms (`{"sessions_ended": true}`), counting them on the user when it knows them."""

    async def receive(request: web.Request) -> web.StreamResponse:
        data = json.loads(await request.read())
        if data.get("requested_action") == "end_portal_sessions":
            known = idp.by_key(str(data.get("account", {}).get("login", "")))
            if known is not None:
                known.sessions_revoked += 1
            return web.json_response({"sessions_ended": True}, status=200)
        return web.json_response({"received": True}, status=202)

    app = idp.app()
    app.router.add_post("/hooks/credwatch", receive)
    return app


# -- In-memory action log ---------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    exposure_id: int
    provider: str
    step: str
    outcome: Outcome
    retryable: bool
    decided_by: str
    detail: str
    request_id: str | None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class MemoryActionLog:
    """`monitor.containment.ActionLog` kept in a list (the real one lives in PostgreSQL)."""

    def __init__(self) -> None:
        self.rows: list[Recorded] = []

    async def done_steps(self, exposure_id: int, provider: str) -> set[str]:
        return {
            r.step
            for r in self.rows
            if r.exposure_id == exposure_id and r.provider == provider and r.outcome is Outcome.DONE
        }

    async def started_at(self, exposure_id: int, provider: str, step: str) -> datetime | None:
        times = [
            r.at
            for r in self.rows
            if (r.exposure_id, r.provider, r.step, r.outcome)
            == (exposure_id, provider, step, Outcome.STARTED)
        ]
        return max(times, default=None)

    async def record(
        self,
        *,
        exposure_id: int,
        provider: str,
        step: str,
        outcome: Outcome,
        retryable: bool,
        decided_by: str,
        detail: str,
        request_id: str | None,
    ) -> None:
        self.rows.append(
            Recorded(
                exposure_id, provider, step, outcome, retryable, decided_by, detail, request_id
            )
        )

    def steps(self) -> list[tuple[str, str]]:
        """What was recorded, without the `started` marks written before a reset's call."""
        return [(r.step, r.outcome.value) for r in self.rows if r.outcome is not Outcome.STARTED]


class RecordingSleep:
    """Stands in for `asyncio.sleep` in responders: remembers the delays, waits for none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


PASSWORD_ALPHABET = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%+-.:=?@_~"
)


def looks_random(password: str | None) -> bool:
    """32 chars from the generator's alphabet with every class; the value itself is never shown."""
    if password is None or len(password) != 32 or not set(password) <= PASSWORD_ALPHABET:
        return False
    return (
        any(c.isupper() for c in password)
        and any(c.islower() for c in password)
        and any(c.isdigit() for c in password)
        and any(not c.isalnum() for c in password)
    )
