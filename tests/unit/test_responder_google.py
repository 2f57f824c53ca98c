"""Google Workspace responder against a local server answering like the Admin SDK and OAuth."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from monitor.containment import ContainmentStatus, contain
from monitor.errors import ProviderError
from monitor.responder import AccountRef
from monitor.responders.google import JWT_BEARER, SCOPES, GoogleResponder
from monitor.types import Outcome
from tests.servers.idp import (
    ACCESS_TOKEN,
    FakeIdP,
    FakeUser,
    MemoryActionLog,
    RecordingSleep,
    answer,
    google_app,
    looks_random,
    serve,
)

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
INFECTED = datetime(2026, 3, 1, tzinfo=UTC)
USERS = "/admin/directory/v1/users"
REPORTS = "/admin/reports/v1/activity/users"
RECENT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)


def verify(signing_input: bytes, signature: bytes) -> bool:
    try:
        KEY.public_key().verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


@dataclass
class Google:
    idp: FakeIdP
    url: str
    sleep: RecordingSleep
    partner: FakeUser

    def responder(self, **extra: object) -> GoogleResponder:
        account = {
            "type": "service_account",
            "client_email": "cw@proj.iam.gserviceaccount.com",
            "private_key": PEM,
            "token_uri": f"{self.url}/token",
        }
        cfg = {
            "service_account_env": "CW_GOOGLE_SA",
            "subject": "admin@org.example",
            "base_url": self.url,
            "timeout": 0.5,
            "backoff_base": 0.01,
            **extra,
        }
        return GoogleResponder.from_config(
            cfg, env={"CW_GOOGLE_SA": json.dumps(account)}, sleep=self.sleep
        )


@pytest_asyncio.fixture
async def google() -> AsyncIterator[Google]:
    idp = FakeIdP()
    partner = idp.add(
        FakeUser(id="1001", login="partner1@org.example", email="partner1@org.example")
    )
    async with serve(google_app(idp, verify)) as url:
        yield Google(idp, url, RecordingSleep(), partner)


async def test_jwt_bearer_token_and_lookup_with_password_edit(google: Google) -> None:
    google.partner.password_changed = RECENT
    r = google.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@org.example"))
    finally:
        await r.aclose()
    assert user is not None
    assert (user.user_id, user.login, user.external, user.enabled) == (
        "1001",
        "partner1@org.example",
        False,
        True,
    )
    assert user.password_changed_at == RECENT
    token = google.idp.calls[0]
    assert token.form()["grant_type"] == JWT_BEARER
    [jwt] = google.idp.jwts  # the server verified the RS256 signature with the public key
    assert jwt["header"] == {"alg": "RS256", "typ": "JWT"}
    claims = jwt["claims"]
    assert (claims["iss"], claims["sub"], claims["aud"]) == (
        "cw@proj.iam.gserviceaccount.com",
        "admin@org.example",
        f"{google.url}/token",
    )
    assert claims["scope"] == " ".join(SCOPES) and claims["exp"] - claims["iat"] == 3600
    [report] = google.idp.calls_to(
        "GET", "/admin/reports/v1/activity/users/partner1@org.example/applications/user_accounts"
    )
    assert report.query.pop("startTime").endswith("Z")
    assert report.query == {"eventName": "password_edit", "maxResults": "1"}
    assert report.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    [admin] = google.idp.calls_to("GET", f"{REPORTS}/all/applications/admin")
    assert admin.query["eventName"] == "CHANGE_PASSWORD"
    assert admin.query["filters"] == "USER_EMAIL==partner1@org.example"


async def test_no_password_edit_event_means_unknown(google: Google) -> None:
    google.partner.password_changed = None
    r = google.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@org.example"))
    finally:
        await r.aclose()
    assert user is not None and user.password_changed_at is None


async def test_contain_patch_then_sign_out(google: Google) -> None:
    r, log = google.responder(), MemoryActionLog()
    try:
        result = await contain(
            exposure_id=1,
            account=AccountRef(login="partner1@org.example"),
            infected_at=INFECTED,
            first_seen=None,
            responder=r,
            log=log,
            dry_run=False,
            decided_by="policy",
        )
    finally:
        await r.aclose()
    assert result.status is ContainmentStatus.CONTAINED
    [patch] = google.idp.calls_to("PATCH", f"{USERS}/1001")
    body = patch.json()
    assert (
        set(body) == {"password", "changePasswordAtNextLogin"}
        and body["changePasswordAtNextLogin"] is True
    )
    assert looks_random(body["password"])
    [sign_out] = google.idp.calls_to("POST", f"{USERS}/1001/signOut")
    assert sign_out.body == b""
    assert google.partner.sessions_revoked == 1


async def test_403_rate_limit_backs_off_but_other_403_does_not(google: Google) -> None:
    limited = {
        "error": {
            "code": 403,
            "message": "Rate Limit Exceeded",
            "errors": [{"reason": "userRateLimitExceeded", "domain": "usageLimits"}],
        }
    }
    google.idp.script("POST", f"{USERS}/1001/signOut", answer(403, limited), answer(503))
    r = google.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@org.example"))
        assert user is not None
        ok = await r.revoke_sessions(user, dry_run=False)
        denied = {
            "error": {
                "code": 403,
                "message": "Not Authorized",
                "errors": [{"reason": "forbidden", "domain": "global"}],
            }
        }
        google.idp.script("PATCH", f"{USERS}/1001", answer(403, denied))
        refused = await r.reset_password(user, dry_run=False)
    finally:
        await r.aclose()
    assert ok.outcome is Outcome.DONE
    assert len(google.idp.calls_to("POST", f"{USERS}/1001/signOut")) == 3
    assert len(google.sleep.delays) == 2 and google.sleep.delays[1] > google.sleep.delays[0]
    assert (refused.outcome, refused.retryable, refused.detail) == (
        Outcome.FAILED,
        False,
        "HTTP 403 forbidden",
    )
    assert len(google.idp.calls_to("PATCH", f"{USERS}/1001")) == 1


async def test_404_lookup_and_retries_bounded(google: Google) -> None:
    r = google.responder(max_retries=2)
    try:
        assert await r.find_user(AccountRef(login="ghost@org.example")) is None
        google.idp.script("GET", f"{USERS}/partner1@org.example", *(answer(500) for _ in range(3)))
        with pytest.raises(ProviderError) as info:
            await r.find_user(AccountRef(login="partner1@org.example"))
    finally:
        await r.aclose()
    assert (info.value.status, info.value.retryable) == (500, True)
    assert len(google.idp.calls_to("GET", f"{USERS}/partner1@org.example")) == 3


async def test_crash_between_steps_resumes(google: Google) -> None:
    google.idp.script(
        "POST",
        f"{USERS}/1001/signOut",
        answer(400, {"error": {"code": 400, "message": "Invalid Input", "errors": []}}),
    )
    log = MemoryActionLog()
    for _ in range(2):
        r = google.responder()
        try:
            await contain(
                exposure_id=5,
                account=AccountRef(login="partner1@org.example"),
                infected_at=INFECTED,
                first_seen=None,
                responder=r,
                log=log,
                dry_run=False,
                decided_by="policy",
            )
        finally:
            await r.aclose()
    assert len(google.idp.calls_to("PATCH", f"{USERS}/1001")) == 1
    assert len(google.idp.calls_to("POST", f"{USERS}/1001/signOut")) == 2
    assert log.steps() == [
        ("reset_password", "done"),
        ("require_change", "done"),
        ("revoke_sessions", "failed"),
        ("revoke_sessions", "done"),
    ]


async def test_an_admin_password_change_after_the_leak_is_read(google: Google) -> None:
    # The user's own last change is old; an admin reset the password after the infection.
    google.partner.password_changed = RECENT - timedelta(days=60)
    google.partner.extra["admin_password_changed"] = RECENT
    r, log = google.responder(), MemoryActionLog()
    try:
        user = await r.find_user(AccountRef(login="partner1@org.example"))
        result = await contain(
            exposure_id=9, account=AccountRef(login="partner1@org.example"),
            infected_at=RECENT - timedelta(days=10), first_seen=RECENT - timedelta(days=9),
            responder=r, log=log, dry_run=False, decided_by="policy",
        )  # fmt: skip
    finally:
        await r.aclose()
    assert user is not None and user.password_changed_at == RECENT
    assert result.status is ContainmentStatus.STALE
    assert not google.idp.calls_to("PATCH", f"{USERS}/1001")


async def test_password_events_are_read_in_a_bounded_window(google: Google) -> None:
    google.partner.password_changed = RECENT - timedelta(days=100)
    r = google.responder(password_events_days=90)
    try:
        user = await r.find_user(AccountRef(login="partner1@org.example"))
    finally:
        await r.aclose()
    assert user is not None and user.password_changed_at is None
    for call in google.idp.calls:
        if call.path.startswith(REPORTS):
            start = datetime.fromisoformat(call.query["startTime"].replace("Z", "+00:00"))
            assert timedelta(days=89) < datetime.now(UTC) - start < timedelta(days=91)


async def test_403_outside_the_customers_domains_is_not_found_here(google: Google) -> None:
    r = google.responder()
    try:
        assert await r.find_user(AccountRef(login="partner1@gmail.com")) is None
        google.idp.script(
            "GET",
            f"{USERS}/partner1@org.example",
            answer(403, {"error": {"code": 403, "message": "Not Authorized to access this "
                                   "resource/api", "errors": [{"reason": "forbidden"}]}}),
        )  # fmt: skip
        with pytest.raises(ProviderError) as info:  # in our domain: a permission problem
            await r.find_user(AccountRef(login="partner1@org.example"))
    finally:
        await r.aclose()
    assert info.value.status == 403 and "forbidden" in str(info.value)


async def test_a_401_after_a_cached_token_refreshes_it_once(google: Google) -> None:
    r = google.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@org.example"))
        assert user is not None
        google.idp.script(
            "POST",
            f"{USERS}/1001/signOut",
            answer(401, {"error": {"code": 401, "message": "Invalid Credentials"}}),
        )
        step = await r.revoke_sessions(user, dry_run=False)
    finally:
        await r.aclose()
    assert step.outcome is Outcome.DONE
    assert len(google.idp.calls_to("POST", "/token")) == 2
    assert google.partner.sessions_revoked == 1


async def test_require_change_alone_sets_only_the_flag(google: Google) -> None:
    r = google.responder()
    try:
        user = await r.find_user(AccountRef(login="partner1@org.example"))
        assert user is not None
        step = await r.require_change(user, dry_run=False)
    finally:
        await r.aclose()
    assert step.outcome is Outcome.DONE
    [patch] = google.idp.calls_to("PATCH", f"{USERS}/1001")
    assert patch.json() == {"changePasswordAtNextLogin": True}
    assert google.partner.must_change and google.partner.password == "Leaked#Pass1"
