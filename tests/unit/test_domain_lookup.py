"""Roles of a domain's credentials: employees, users, third parties; lookalikes never count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.domain_lookup import Finding, Role, Tally, role_of
from monitor.freemail import is_free_mail

D = "acme.example"


@pytest.mark.parametrize(
    ("host", "login", "role"),
    [
        ("www.linkedin.com", "alice@acme.example", Role.EMPLOYEE),  # staff, on any site
        ("netflix.com", "bob@eu.sub.acme.example", Role.EMPLOYEE),  # a sub-domain mailbox
        ("portal.acme.example", "carol@acme.example", Role.EMPLOYEE),  # staff at home
        ("", "dave@acme.example", Role.EMPLOYEE),  # a breach record without a site
        ("www.acme.example.evil", "erin@acme.example", Role.EMPLOYEE),  # staff on a lookalike
        ("portal.acme.example", "frank@gmail.com", Role.USER),  # free mail on its site
        ("acme.example", "grace@mail.yahoo.co.jp", Role.USER),  # under a free-mail domain
        ("intranet.acme.example", "heidi", Role.USER),  # a bare username
        ("portal.acme.example", "ivan@supplier.example", Role.THIRD_PARTY),
        ("acme.example", "judy@acme.example.evil", Role.THIRD_PARTY),  # lookalike mail, our site
        # decoys: neither the login nor the site is the domain's
        ("acme.example.evil.com", "kim@acme.example.evil.com", None),
        ("notacme.example", "leo@notacme.example", None),
        ("acme.example.evil", "mia@acme.example.evil", None),
        ("shop.example.net", "ned@xacme.example", None),
        ("acmeexample.com", "olga@gmail.com", None),
        ("portal.acme.example", "", None),  # the domain's site, no login: no role
    ],
)
def test_role(host: str, login: str, role: Role | None) -> None:
    assert role_of(D, host, login) is role


def test_free_mail_is_matched_on_a_label_boundary() -> None:
    assert is_free_mail("gmail.com")
    assert is_free_mail("eu.hotmail.fr")
    assert not is_free_mail("notgmail.com")
    assert not is_free_mail("gmail.com.evil")


def _finding(identity: str, host: str, login: str, **kw: object) -> Finding:
    base: dict[str, object] = {
        "kind": "password",
        "url": f"https://{host}/login" if host else "",
        "infected_at": None,
        "family": None,
        "country": None,
        "machine": None,
        "origin": "dump.zip!PC1/Passwords.txt",
    }
    base.update(kw)
    return Finding(identity=identity, host=host, login=login, **base)  # type: ignore[arg-type]


def test_tally_counts_distinct_credentials_and_accounts_and_keeps_out_decoys() -> None:
    t = Tally(D)
    t.add(_finding("1", "www.linkedin.com", "alice@acme.example"))
    t.add(_finding("1", "www.linkedin.com", "alice@acme.example", origin="other.txt"))  # again
    t.add(_finding("2", "netflix.com", "alice@acme.example"))  # another credential, same account
    t.add(_finding("3", "portal.acme.example", "ivan@supplier.example"))
    t.add(_finding("4", "portal.acme.example", "", kind="cookie"))
    t.add(_finding("5", "acme.example.evil.com", "kim@acme.example.evil.com"))  # decoy
    s = t.summary()
    assert s.sightings == 5
    assert s.credentials == 4
    assert s.accounts == 2
    assert s.roles[Role.EMPLOYEE].credentials == 2 and s.roles[Role.EMPLOYEE].accounts == 1
    assert s.roles[Role.THIRD_PARTY].accounts == 1
    assert s.roles[Role.USER].credentials == 0
    assert s.no_login == 1
    assert s.third_party_domains == (("supplier.example", 1),)
    assert s.portals == (("https://portal.acme.example/login", 1),)  # a cookie is no portal
    assert dict(s.origins) == {"dump.zip": 4, "other.txt": 1}


def test_tally_since_leaves_out_older_and_undated() -> None:
    t = Tally(D, since=datetime(2025, 4, 1, tzinfo=UTC))
    t.add(_finding("1", "x.com", "a@acme.example", infected_at=datetime(2025, 3, 1, tzinfo=UTC)))
    t.add(_finding("2", "x.com", "b@acme.example"))
    t.add(
        _finding(
            "3", "x.com", "c@acme.example", infected_at=datetime(2025, 5, 1, tzinfo=UTC),
            family="lumma", country="de", machine="m1",
        )
    )  # fmt: skip
    s = t.summary()
    assert (s.credentials, s.before_since, s.undated_left_out) == (1, 1, 1)
    assert s.by_month == (("2025-05", 1),)
    assert s.families == (("lumma", 1),) and s.countries == (("DE", 1),)
    assert s.machines == 1
