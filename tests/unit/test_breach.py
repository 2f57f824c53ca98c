"""Breach-corpus parsers: CSV header and delimiter variants, JSON lines, email:hash, sniffing."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.breach import (
    MAX_FIELD_CHARS,
    BadRecord,
    hash_kind,
    parse_corpus,
    parse_csv,
    parse_email_hash,
    parse_email_hash_line,
    parse_json_array,
    parse_jsonl,
    sniff_corpus,
)
from monitor.normalize import split_url
from monitor.types import CredentialKind, LeakedCredential, Secret
from tests.gen.breach import (
    TRICKY_PASSWORDS,
    BreachRow,
    Field,
    JsonLayout,
    csv_start_lines,
    fake_rows,
    write_csv,
    write_email_hash,
    write_jsonl,
)

ORIGIN = "corpus.zip!dump/users.csv"


def expected(
    row: BreachRow, *, line: int, kind: CredentialKind = CredentialKind.PASSWORD, url: bool = True
) -> LeakedCredential:
    host, path = split_url(row.url) if url and row.url else ("", "")
    if kind is CredentialKind.PASSWORD:
        assert row.password is not None
        secret: Secret | None = Secret(row.password)
    elif kind is CredentialKind.HASH:
        assert row.hash is not None
        secret = Secret(row.hash.lower() if row.hash[0] != "$" else row.hash)
    else:
        secret = None
    return LeakedCredential(
        kind=kind,
        url=row.url if host and row.url else "",
        host=host,
        path=path,
        login=row.email.lower(),
        secret=secret,
        origin=ORIGIN,
        line=line,
        feed="breach",
        hash_algorithm=hash_kind(row.hash) if kind is CredentialKind.HASH and row.hash else None,
    )


def csv_records(text: str) -> list[LeakedCredential | BadRecord]:
    return list(parse_csv(io.StringIO(text, newline=""), origin=ORIGIN))


# ------------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------------

HEADER_VARIANTS: list[dict[Field, str]] = [
    {"email": "email", "password": "password", "url": "url"},
    {"email": "Email_Address", "password": "Passwords", "url": "Website"},
    {"email": "MAIL", "password": "pass", "url": "domain"},
    {"url": "Link", "password": "Password", "email": "E-mail"},
    {"email": "Email Address", "password": "PWD", "url": "Domain Name"},
    {"email": "user_name", "password": "passwd", "url": "site"},
    {"email": "login", "password": "Pass", "url": "URL"},
    {"email": "\ufeffemail", "password": "password", "url": "url"},  # BOM on the first column
]


@pytest.mark.parametrize("columns", HEADER_VARIANTS, ids=lambda c: "|".join(c.values()))
def test_csv_header_variants(columns: dict[Field, str]) -> None:
    rows = fake_rows(12, seed=len(columns["email"]))
    text = write_csv(rows, columns=columns)
    assert csv_records(text) == [expected(row, line=i + 2) for i, row in enumerate(rows)]


def test_csv_record_fields_exact() -> None:
    text = (
        "Email;Password;URL\n"
        "Alice.Martin@Partner.Example;S3cret!;https://user@Portail-Partenaire.Example.org:8443/kairos/login\n"
        "bob%40partner.example;hunter2;\n"
        ";orphan-password;https://x.example\n"
    )
    records = csv_records(text)
    assert records == [
        LeakedCredential(
            kind=CredentialKind.PASSWORD,
            url="https://user@Portail-Partenaire.Example.org:8443/kairos/login",
            host="portail-partenaire.example.org",
            path="/kairos/login",
            login="alice.martin@partner.example",
            secret=Secret("S3cret!"),
            origin=ORIGIN,
            line=2,
            feed="breach",
        ),
        LeakedCredential(
            kind=CredentialKind.PASSWORD,
            url="",
            host="",
            path="",
            login="bob@partner.example",
            secret=Secret("hunter2"),
            origin=ORIGIN,
            line=3,
            feed="breach",
        ),
        BadRecord(origin=ORIGIN, line=4, reason="no login"),
    ]


def test_csv_hash_only_rows_are_hash_kind() -> None:
    rows = fake_rows(10, seed=3, with_password=False, with_hash=True, with_url=False)
    text = write_csv(rows, columns={"email": "username", "hash": "password_hash"})
    assert csv_records(text) == [
        expected(row, line=i + 2, kind=CredentialKind.HASH) for i, row in enumerate(rows)
    ]


def test_csv_password_wins_over_hash_and_email_only_is_account() -> None:
    text = "email,password,hash\na@partner.example,pw1,5f4dcc3b5aa765d61d8327deb882cf99\nb@partner.example,,\n"
    records = csv_records(text)
    assert [(r.kind, r.secret) for r in records if isinstance(r, LeakedCredential)] == [
        (CredentialKind.PASSWORD, Secret("pw1")),
        (CredentialKind.ACCOUNT, None),
    ]


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_csv_delimiters_and_quoted_newlines_keep_line_numbers(delimiter: str) -> None:
    rows = fake_rows(30, seed=7, tricky=True)
    columns: dict[Field, str] = {"email": "email", "password": "password", "url": "url"}
    text = write_csv(rows, columns=columns, delimiter=delimiter)
    starts = csv_start_lines(text, delimiter=delimiter)
    records = csv_records(text)
    assert records == [expected(row, line=starts[i]) for i, row in enumerate(rows)]
    # "two\nlines" makes the next records start one line later than their index
    assert any("\n" in (row.password or "") for row in rows)
    assert starts[-1] > len(rows) + 1
    assert [r.line for r in records][:5] == starts[:5]


def test_csv_start_lines_reference() -> None:
    text = 'email;password\na@x.example;"one\ntwo"\nb@x.example;p\n'
    assert csv_start_lines(text, delimiter=";") == [2, 4]
    assert [r.line for r in csv_records(text)] == [2, 4]


def test_csv_huge_field_dropped_and_counted() -> None:
    big = "A" * (MAX_FIELD_CHARS + 1)
    text = (
        "email,password\n"
        "a@partner.example,ok1\n"
        f"b@partner.example,{big}\n"
        f'c@partner.example,"{big}\nstill the same field"\n'
        "d@partner.example,ok2\n"
    )
    records = csv_records(text)
    assert records == [
        expected(BreachRow(email="a@partner.example", password="ok1"), line=2),
        BadRecord(origin=ORIGIN, line=3, reason="field too large"),
        BadRecord(origin=ORIGIN, line=4, reason="field too large"),
        expected(BreachRow(email="d@partner.example", password="ok2"), line=6),
    ]


def test_csv_record_past_the_hard_cap_is_skipped_without_losing_lines() -> None:
    huge_line = "z" * (3 << 20)
    text = (
        "email,password\n"
        f"a@partner.example,{huge_line}\n"
        "b@partner.example,ok\n"
        'c@partner.example,"' + ("y" * 1000 + "\n") * 1100 + '"\n'
    )
    records = csv_records(text)
    assert records[0] == BadRecord(origin=ORIGIN, line=2, reason="record too large")
    assert records[1] == expected(BreachRow(email="b@partner.example", password="ok"), line=3)
    assert records[2] == BadRecord(origin=ORIGIN, line=4, reason="record too large")


def test_csv_memory_stays_flat_on_a_20_mb_line() -> None:
    text = "email,password\n" + "q" * (20 << 20) + "\na@partner.example,ok\n"
    stream = io.StringIO(text, newline="")
    del text
    tracemalloc.start()
    try:
        records = list(parse_csv(stream, origin=ORIGIN))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert records == [
        BadRecord(origin=ORIGIN, line=2, reason="record too large"),
        expected(BreachRow(email="a@partner.example", password="ok"), line=3),
    ]
    assert peak < 8 << 20


def test_csv_without_header_guesses_columns() -> None:
    plain = fake_rows(6, seed=11, with_url=False)
    text = "".join(f"{r.email},{r.password}\n" for r in plain)
    assert csv_records(text) == [expected(r, line=i + 1) for i, r in enumerate(plain)]

    hashed = fake_rows(6, seed=12, with_password=False, with_hash=True, with_url=False)
    text = "".join(f"{r.url or 'https://shop.example.com/'};{r.email};{r.hash}\n" for r in hashed)
    records = csv_records(text)
    assert [(r.kind, r.host, r.line) for r in records if isinstance(r, LeakedCredential)] == [
        (CredentialKind.HASH, "shop.example.com", i + 1) for i in range(6)
    ]


def test_csv_blank_lines_are_not_records() -> None:
    text = "email,password\n\n\na@partner.example,p\n\n"
    assert csv_records(text) == [
        expected(BreachRow(email="a@partner.example", password="p"), line=4)
    ]


def test_secrets_never_show_in_reprs() -> None:
    rows = fake_rows(5, seed=5)
    text = write_csv(rows, columns={"email": "email", "password": "password"})
    shown = repr(csv_records(text))
    for row in rows:
        assert row.password is not None and row.password not in shown


# ------------------------------------------------------------------------------------------------
# JSON lines
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["flat", "nested", "upper", "list", "variant"])
def test_jsonl_layouts(layout: JsonLayout) -> None:
    rows = fake_rows(8, seed=21, tricky=True)
    text = write_jsonl(rows, layout=layout)
    records = list(parse_jsonl(io.StringIO(text), origin=ORIGIN))
    assert records == [expected(row, line=i + 1) for i, row in enumerate(rows)]


def test_jsonl_bad_lines_are_counted_not_raised() -> None:
    lines = [
        '{"email": "a@partner.example", "password": "p1"}',
        '{"email": "b@partner.example", "password": ',  # cut short
        "",
        "[1, 2, 3]",
        '{"Email": "c@partner.example", "Password_Hash": "5F4DCC3B5AA765D61D8327DEB882CF99"}',
        "[" * 100_000,  # deep nesting
        '{"email": "d@partner.example", "password": 123456, "ip": "192.0.2.7"}',
        '{"user": {"username": "Eve"}, "credentials": {"pass": ["x1", "x2"]}}',
        '{"email": null, "password": "nobody"}',
        '{"email": "' + "m" * (MAX_FIELD_CHARS + 1) + '@x.example", "password": "p"}',
        '{"password": "p", "email": {"value": "f@partner.example"}}',
        '\ufeff{"mail": "g@partner.example"}',
    ]
    records = list(parse_jsonl(io.StringIO("\n".join(lines) + "\n"), origin=ORIGIN))

    def cred(login: str, line: int, secret: str | None, kind: CredentialKind) -> LeakedCredential:
        return LeakedCredential(
            kind=kind,
            url="",
            host="",
            path="",
            login=login,
            secret=None if secret is None else Secret(secret),
            origin=ORIGIN,
            line=line,
            feed="breach",
            hash_algorithm="md5" if kind is CredentialKind.HASH else None,
        )

    assert records == [
        cred("a@partner.example", 1, "p1", CredentialKind.PASSWORD),
        BadRecord(origin=ORIGIN, line=2, reason="bad json"),
        BadRecord(origin=ORIGIN, line=4, reason="not an object"),
        cred("c@partner.example", 5, "5f4dcc3b5aa765d61d8327deb882cf99", CredentialKind.HASH),
        BadRecord(origin=ORIGIN, line=6, reason="bad json"),
        cred("d@partner.example", 7, "123456", CredentialKind.PASSWORD),
        cred("eve", 8, "x1", CredentialKind.PASSWORD),
        cred("eve", 8, "x2", CredentialKind.PASSWORD),
        BadRecord(origin=ORIGIN, line=9, reason="no login"),
        BadRecord(origin=ORIGIN, line=10, reason="field too large"),
        BadRecord(origin=ORIGIN, line=11, reason="no login"),  # an object is not a login
        cred("g@partner.example", 12, None, CredentialKind.ACCOUNT),
    ]


# ------------------------------------------------------------------------------------------------
# email:hash
# ------------------------------------------------------------------------------------------------


def test_email_hash_every_hash_type_and_encoded_at() -> None:
    rows = fake_rows(10, seed=31, with_password=True, with_hash=True, with_url=False)
    kinds = [hash_kind(r.hash or "") for r in rows]
    assert kinds == ["md5", "sha1", "sha256", "sha512", "bcrypt"] * 2
    for encode_at in (False, True):
        text = write_email_hash(rows, encode_at=encode_at)
        parsed = [
            parse_email_hash_line(line, origin=ORIGIN, line_no=i + 1)
            for i, line in enumerate(text.splitlines(keepends=True))
        ]
        assert parsed == [
            expected(row, line=i + 1, kind=CredentialKind.HASH) for i, row in enumerate(rows)
        ]


def test_email_hash_upper_case_hex_is_folded_bcrypt_kept() -> None:
    upper = parse_email_hash_line(
        "A@Partner.Example:5F4DCC3B5AA765D61D8327DEB882CF99", origin=ORIGIN, line_no=9
    )
    assert upper is not None
    assert upper.secret == Secret("5f4dcc3b5aa765d61d8327deb882cf99")
    assert (upper.login, upper.kind, upper.line) == ("a@partner.example", CredentialKind.HASH, 9)
    bcrypt = "$2y$10$" + "AbCdEfGhIj" * 5 + "xyz"
    record = parse_email_hash_line(f"b@partner.example;{bcrypt}\r\n", origin=ORIGIN, line_no=1)
    assert record is not None and record.secret == Secret(bcrypt)


@pytest.mark.parametrize(
    "line",
    [
        "a@partner.example:password123",  # a combo, not a hash
        "a@partner.example:5f4dcc3b5aa765d61d8327deb882cf9",  # 31 hex
        "a@partner.example:5f4dcc3b5aa765d61d8327deb882cf99a",  # 33 hex
        "a@partner.example:zz4dcc3b5aa765d61d8327deb882cf99",  # not hex
        "a@partner.example:$2c$10$" + "a" * 53,  # not a bcrypt variant
        "a@partner.example:$2b$10$" + "a" * 52,  # bcrypt too short
        "nobody:5f4dcc3b5aa765d61d8327deb882cf99",  # not an e-mail
        "https://site.example:user:5f4dcc3b5aa765d61d8327deb882cf99",  # ULP
        "",
        "a@partner.example:5f4dcc3b5aa765d61d8327deb882cf99:extra",
    ],
)
def test_email_hash_rejects(line: str) -> None:
    assert parse_email_hash_line(line, origin=ORIGIN, line_no=1) is None


def test_email_hash_stream_counts_bad_lines() -> None:
    text = (
        "a@partner.example:5f4dcc3b5aa765d61d8327deb882cf99\nnot a hash line\n\nb@x.example:nope\n"
    )
    records = list(parse_email_hash(io.StringIO(text), origin=ORIGIN))
    assert [type(r).__name__ for r in records] == ["LeakedCredential", "BadRecord", "BadRecord"]
    assert [r.line for r in records] == [1, 2, 4]


# ------------------------------------------------------------------------------------------------
# Sniffing
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "name", "fmt"),
    [
        ("email,password,url\r\na@x.example,p,https://x.example\r\n", "dump.txt", "csv"),
        ("\ufeffE-Mail;Pass\na@x.example;p\n", "leak", "csv"),
        ("username\tpassword_hash\nbob\t5f4dcc3b5aa765d61d8327deb882cf99\n", "x", "csv"),
        ("a@x.example,p1\nb@x.example,p2\n", "users.csv", "csv"),
        ("a@x.example,p1\nb@x.example,p2\n", "users.txt", "unknown"),
        ('{"email": "a@x.example", "password": "p"}\n{"email": "b@x.exa', "x.bin", "jsonl"),
        ('{"email": "a@x.example"}\n', "x.ndjson", "jsonl"),
        (
            "a@x.example:5f4dcc3b5aa765d61d8327deb882cf99\nb%40x.example:" + "0" * 40 + "\n",
            "h",
            "email_hash",
        ),
        ("email,hash\na@x.example,5f4dcc3b5aa765d61d8327deb882cf99\n", "h.txt", "csv"),
        ("https://site.example/login:alice@x.example:hunter2\n", "ulp.txt", "unknown"),
        ("site.example:alice:hunter2\n", "ulp.txt", "unknown"),
        ("alice@x.example:hunter2\n", "combo.txt", "unknown"),
        ("", "empty.csv", "unknown"),
        ("\x00\x01\x02binary", "blob.csv", "unknown"),
    ],
)
def test_sniff_corpus(head: str, name: str, fmt: str) -> None:
    assert sniff_corpus(head, name) == fmt


def test_parse_corpus_dispatch() -> None:
    text = write_jsonl(fake_rows(2, seed=1))
    fmt = sniff_corpus(text, "x")
    assert fmt == "jsonl"
    assert len(list(parse_corpus(io.StringIO(text), origin=ORIGIN, fmt=fmt))) == 2
    assert list(parse_corpus(io.StringIO(text), origin=ORIGIN, fmt="unknown")) == []


# ------------------------------------------------------------------------------------------------
# Never raise
# ------------------------------------------------------------------------------------------------

_ALPHABET = st.sampled_from(list(',;|\t\n\r"{}[]:@%$.0123456789abcdefAZ \x00\ufeffé\\'))
_TEXT = st.one_of(st.text(), st.text(alphabet=_ALPHABET))


def _all_valid(items: Iterable[Any], *, max_line: int) -> None:
    for item in items:
        assert isinstance(item, LeakedCredential | BadRecord)
        assert item.line is None or 1 <= item.line <= max_line


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT)
def test_parsers_never_raise_on_arbitrary_text(text: str) -> None:
    max_line = text.count("\n") + text.count("\r") + 1
    header_text = "email,password,url\n" + text
    _all_valid(parse_csv(io.StringIO(text, newline=""), origin="f"), max_line=max_line)
    _all_valid(parse_csv(io.StringIO(header_text, newline=""), origin="f"), max_line=max_line + 1)
    _all_valid(parse_csv(io.StringIO(text), origin="f"), max_line=max_line)
    _all_valid(parse_jsonl(io.StringIO(text), origin="f"), max_line=max_line)
    _all_valid(parse_email_hash(io.StringIO(text), origin="f"), max_line=max_line)
    for i, line in enumerate(text.splitlines()):
        record = parse_email_hash_line(line, origin="f", line_no=i + 1)
        assert record is None or record.kind is CredentialKind.HASH
    _all_valid(parse_json_array(io.StringIO(text), origin="f"), max_line=max_line)
    assert sniff_corpus(text, "x.csv") in ("csv", "jsonl", "json", "email_hash", "unknown")
    assert sniff_corpus(text, "") in ("csv", "jsonl", "json", "email_hash", "unknown")


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.example", fullmatch=True),
            st.text(min_size=1),
        ),
        min_size=1,
        max_size=20,
    ),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_csv_round_trip_of_any_password(rows: list[tuple[str, str]], delimiter: str) -> None:
    """Whatever the password holds, a CSV writer's output parses back to the same secret."""
    data = [BreachRow(email=e, password=p) for e, p in rows]
    text = write_csv(data, columns={"email": "email", "password": "password"}, delimiter=delimiter)
    records = csv_records(text)
    starts = csv_start_lines(text, delimiter=delimiter)
    assert records == [expected(row, line=starts[i]) for i, row in enumerate(data)]


def test_tricky_passwords_are_covered() -> None:
    assert any("\n" in p for p in TRICKY_PASSWORDS)
    assert any(c in p for p in TRICKY_PASSWORDS for c in ',;|\t"')
