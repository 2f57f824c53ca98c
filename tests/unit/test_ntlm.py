"""32 hex digits under a column, key or label that names NTLM are `ntlm`, not `md5`."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from feeds.breach import parse_corpus
from feeds.hashes import hash_algorithm
from monitor.types import CredentialKind, LeakedCredential, Secret

USERS = [
    (f"user{i}@shape.example", hashlib.sha256(f"pw{i}".encode()).hexdigest()[:32].upper())
    for i in range(3)
]


def _creds(text: str, fmt: str) -> list[LeakedCredential]:
    got = parse_corpus(io.StringIO(text), origin="dump", fmt=fmt)  # type: ignore[arg-type]
    return [r for r in got if isinstance(r, LeakedCredential)]


def test_hash_algorithm_takes_the_ntlm_hint_for_hex32_only() -> None:
    nt = USERS[0][1]
    assert hash_algorithm(nt) == "md5"
    assert hash_algorithm(nt, ntlm=True) == "ntlm"
    assert hash_algorithm("a" * 40, ntlm=True) == "sha1"  # not an NT hash's shape
    assert hash_algorithm("not-a-hash", ntlm=True) is None


@pytest.mark.parametrize("column", ["ntlm", "NT", "nthash", "NTHash", "nt_hash", "NT Hash"])
def test_csv_ntlm_column(column: str) -> None:
    text = f"email,{column}\n" + "".join(f"{login},{nt}\n" for login, nt in USERS)
    got = _creds(text, "csv")
    assert [(c.kind, c.login, c.secret, c.hash_algorithm) for c in got] == [
        (CredentialKind.HASH, login, Secret(nt.lower()), "ntlm") for login, nt in USERS
    ]


@pytest.mark.parametrize("column", ["hash", "md5", "password_hash"])
def test_csv_other_hash_columns_stay_md5(column: str) -> None:
    text = f"email,{column}\n" + "".join(f"{login},{nt}\n" for login, nt in USERS)
    assert {c.hash_algorithm for c in _creds(text, "csv")} == {"md5"}


def test_jsonl_ntlm_key_nested() -> None:
    text = "".join(
        json.dumps({"user": {"email": login}, "creds": {"NTHash": nt}}) + "\n"
        for login, nt in USERS
    )
    got = _creds(text, "jsonl")
    assert [(c.login, c.hash_algorithm) for c in got] == [(login, "ntlm") for login, _ in USERS]


def test_password_column_wins_over_the_nt_column() -> None:
    text = "email,password,ntlm\n" + "".join(
        f"{login},Plain{i}!,{nt}\n" for i, (login, nt) in enumerate(USERS)
    )
    got = _creds(text, "csv")
    assert [(c.kind, c.hash_algorithm) for c in got] == [(CredentialKind.PASSWORD, None)] * 3
