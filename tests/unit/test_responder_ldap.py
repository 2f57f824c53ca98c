"""LDAP responder pieces that need no server: AD FILETIME, GeneralizedTime, config, AD sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import ConfigError
from monitor.responder import IdentityUser
from monitor.responders.ldap import LdapResponder, filetime_to_datetime, parse_generalized_time
from monitor.types import Outcome


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (134398152603630500, datetime(2026, 11, 22, 10, 1, 0, 363050, tzinfo=UTC)),
        (116444736000000000, datetime(1970, 1, 1, tzinfo=UTC)),
        (0, None),  # must change at next logon: the set date is unknown
        (-1, None),
        (0x7FFFFFFFFFFFFFFF, None),  # "never"
    ],
)
def test_filetime(value: int, expected: datetime | None) -> None:
    assert filetime_to_datetime(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20261122100100Z", datetime(2026, 11, 22, 10, 1, tzinfo=UTC)),
        ("20261122100100.123Z", datetime(2026, 11, 22, 10, 1, 0, 123000, tzinfo=UTC)),
        ("20261122110100+0100", datetime(2026, 11, 22, 10, 1, tzinfo=UTC)),
        ("202611221001Z", datetime(2026, 11, 22, 10, 1, tzinfo=UTC)),
        ("garbage", None),
        ("20261399000000Z", None),
    ],
)
def test_generalized_time(text: str, expected: datetime | None) -> None:
    got = parse_generalized_time(text)
    assert got == expected
    if got is not None:
        assert got.utcoffset() == timedelta(0) and got.tzinfo is not None


def base_cfg(**extra: object) -> dict[str, object]:
    return {
        "url": "ldap://127.0.0.1:389",
        "kind": "openldap",
        "bind_dn": "cn=admin",
        "bind_password_env": "PW",
        "base_dn": "dc=example,dc=test",
        **extra,
    }


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="AD password writes need ldaps:// or start_tls"):
        LdapResponder.from_config(base_cfg(kind="ad"), env={"PW": "x"})
    with pytest.raises(
        ConfigError, match=r"\[responders.ldap\] kind: input should be 'openldap' or 'ad'"
    ):
        LdapResponder.from_config(base_cfg(kind="novell"), env={"PW": "x"})
    with pytest.raises(ConfigError, match=r"\[responders.ldap\] bind_pw: unknown key"):
        LdapResponder.from_config(base_cfg(bind_pw="x"), env={"PW": "x"})
    r = LdapResponder.from_config(
        base_cfg(kind="ad", url="ldaps://dc.example.test"), env={"PW": "x"}
    )
    assert r.name == "ldap"


USER = IdentityUser(
    provider="ldap",
    user_id="cn=p1,dc=example,dc=test",
    login="p1",
    email=None,
    password_changed_at=None,
    external=False,
    enabled=True,
)


async def test_no_sessions_in_ldap() -> None:
    ldap = LdapResponder.from_config(base_cfg(), env={"PW": "x"})
    ad = LdapResponder.from_config(base_cfg(kind="ad", start_tls=True), env={"PW": "x"})
    ad_kill = LdapResponder.from_config(
        base_cfg(kind="ad", start_tls=True, disable_on_revoke=True), env={"PW": "x"}
    )
    a = await ldap.revoke_sessions(USER, dry_run=False)
    b = await ad.revoke_sessions(USER, dry_run=False)
    c = await ad_kill.revoke_sessions(USER, dry_run=True)
    assert (a.outcome, a.detail) == (Outcome.SKIPPED, "the directory keeps no sessions to revoke")
    assert a.todo == (
        "end the user's sessions in the applications that sign in against this directory"
    )
    assert (b.outcome, b.detail) == (Outcome.SKIPPED, a.detail)
    assert b.todo.endswith("(or set disable_on_revoke: disabling the account is AD's fast kill)")
    assert (c.outcome, c.detail) == (
        Outcome.DRY_RUN,
        "dry run: would disable the account (AD has no sessions)",
    )
