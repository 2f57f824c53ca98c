"""Breach corpora: CSV with a header, JSON lines and `email:hash` lines → leaked credentials.

Parsers are synchronous generators (run them in a worker thread). They never raise on bad input:
a malformed record becomes a `BadRecord` (origin, line, reason) and parsing goes on. Memory stays
flat: a physical line or CSV record longer than `MAX_RECORD_CHARS` is skipped without being held.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal, TextIO

from feeds.hashes import NT_NAMES, canonical_hash, crypt_algorithm, hash_algorithm
from monitor.normalize import canonical_login, email_domain, split_url
from monitor.types import CredentialKind, LeakedCredential, Secret

FEED: Final = "breach"
MAX_FIELD_CHARS: Final = 128 * 1024  # a field longer than this is junk, not a credential
MAX_RECORD_CHARS: Final = 1024 * 1024  # hard cap on what is held for one line or record
_HEAD_LINES: Final = 50
_DELIMITERS: Final = (",", ";", "\t", "|")

CorpusFormat = Literal["csv", "jsonl", "json", "email_hash", "unknown"]
Role = Literal["email", "username", "password", "hash", "nt_hash", "url", "domain"]

# Column / key names (normalised: lower-case, runs of space, "-" and "." turned into "_").
_ROLE_NAMES: Final[dict[str, Role]] = {
    **dict.fromkeys(
        ("email", "email_address", "emailaddress", "e_mail", "mail", "email_addr", "emails"),
        "email",
    ),
    **dict.fromkeys(
        (
            "username",
            "user_name",
            "login",
            "user",
            "userid",
            "user_id",
            "account",
            "login_name",
            "login_username",
            "stringvalue_username",
        ),
        "username",
    ),
    **dict.fromkeys(
        (
            "password",
            "passwords",
            "pass",
            "passwd",
            "pwd",
            "plaintext",
            "plain_password",
            "login_password",
        ),
        "password",
    ),
    **dict.fromkeys(
        (
            "hash",
            "password_hash",
            "passwordhash",
            "hashed_password",
            "pass_hash",
            "passhash",
            "hashes",
            "pwd_hash",
            "md5",
            "sha1",
            "sha256",
            "bcrypt",
        ),
        "hash",
    ),
    **dict.fromkeys(NT_NAMES, "nt_hash"),
    **dict.fromkeys(
        (
            "url",
            "website",
            "web_site",
            "link",
            "site",
            "uri",
            "login_url",
            "origin_url",
            "login_uri",
            "action_url",
            "hostname_url",
        ),
        "url",
    ),
    **dict.fromkeys(("domain", "domain_name", "host", "hostname"), "domain"),
}

_EMAIL_HASH = re.compile(r"\s*(?P<email>[^\s:;|,]+)\s*[:;|\t,]\s*(?P<hash>\S+)\s*")
_KEY_SEPARATORS = re.compile(r"[\s\-.]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class BadRecord:
    """A record that could not be used: counted by the caller, never fatal. No field values."""

    origin: str
    line: int | None
    reason: str


Parsed = LeakedCredential | BadRecord


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------


class _Oversize:
    """Stands for a physical line that was too long and has been skipped."""


_OVERSIZE: Final = _Oversize()


class _RecordTooLarge(Exception):
    """Raised from the CSV source iterator to abort a record that grew past the cap."""


class _Lines:
    """Physical lines of a text stream, each at most `cap` characters; counts what it hands out."""

    def __init__(self, stream: TextIO, cap: int = MAX_RECORD_CHARS) -> None:
        self._stream = stream
        self._cap = cap
        self._buffer: deque[str | _Oversize] = deque()
        self.count = 0  # physical lines handed out so far

    def _read(self) -> str | _Oversize | None:
        line = self._stream.readline(self._cap + 1)
        if not line:
            return None
        if len(line) <= self._cap:
            return line
        while not line.endswith(("\n", "\r")):  # drain the rest of the long line in chunks
            line = self._stream.readline(self._cap)
            if not line:
                break
        return _OVERSIZE

    def head(self, n: int = _HEAD_LINES) -> list[str]:
        """Look at (and keep for later) up to `n` lines from the start."""
        while len(self._buffer) < n:
            line = self._read()
            if line is None:
                break
            self._buffer.append(line)
        return [line for line in self._buffer if isinstance(line, str)]

    def next(self) -> str | _Oversize | None:
        line = self._buffer.popleft() if self._buffer else self._read()
        if line is not None:
            self.count += 1
        return line


def _norm_key(raw: str) -> str:
    key = raw.strip().lstrip("\ufeff").strip().strip("\"'").strip().lower()
    return _KEY_SEPARATORS.sub("_", key).strip("_")


def hash_kind(value: str) -> str | None:
    """The hash algorithm `value`'s shape names (see feeds.hashes), else None."""
    return hash_algorithm(value)


def _looks_url(value: str) -> bool:
    v = value.strip().lower()
    return "://" in v or v.startswith("www.")


# Corpora repeat the same few sites on millions of rows; only short URLs are cached.
_split_cached = functools.lru_cache(maxsize=8192)(split_url)


def _split_url(url: str) -> tuple[str, str]:
    return _split_cached(url) if len(url) <= 512 else split_url(url)


def _credential(
    *,
    login_raw: str,
    password: str,
    hashed: str,
    url_raw: str,
    origin: str,
    line: int | None,
    ntlm: bool = False,
) -> Parsed:
    """One record from the fields of a row; a BadRecord when it carries nothing usable.
    `ntlm`: the hash came from a column or key that names NTLM."""
    if max(len(login_raw), len(password), len(hashed), len(url_raw)) > MAX_FIELD_CHARS:
        return BadRecord(origin=origin, line=line, reason="field too large")
    login = canonical_login(login_raw)
    if not login:
        return BadRecord(origin=origin, line=line, reason="no login")
    host, path = _split_url(url_raw.strip()) if url_raw else ("", "")
    algorithm = None
    if password and crypt_algorithm(password.strip()):
        password, hashed = "", password  # a self-describing hash in a password column
    if password:
        kind, secret = CredentialKind.PASSWORD, Secret(password)
    elif hashed.strip():
        kind, secret = CredentialKind.HASH, Secret(canonical_hash(hashed.strip()))
        algorithm = hash_algorithm(hashed.strip(), ntlm=ntlm)
    else:
        kind, secret = CredentialKind.ACCOUNT, None
    return LeakedCredential(
        kind=kind,
        url=url_raw.strip() if host else "",
        host=host,
        path=path if host else "",
        login=login,
        secret=secret,
        origin=origin,
        line=line,
        feed=FEED,
        hash_algorithm=algorithm,
    )


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------


def _raise_field_limit() -> None:
    """Let the csv module read fields up to the record cap, so that we can count and drop them."""
    if csv.field_size_limit() < MAX_RECORD_CHARS + 1:
        csv.field_size_limit(MAX_RECORD_CHARS + 1)


def sniff_delimiter(lines: list[str]) -> str | None:
    """The delimiter (`,` `;` tab `|`) that splits the sample into a steady column count (≥ 2)."""
    sample = [line for line in lines if line.strip()][:20]
    best: tuple[tuple[int, int], str] | None = None
    for delimiter in _DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(sample, delimiter=delimiter) if row]
        except csv.Error:
            continue
        if not widths:
            continue
        width, freq = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        score = (freq, width)
        if best is None or score > best[0]:
            best = (score, delimiter)
    return best[1] if best else None


# Names that only stand for a login when nothing better names one (KeePass `Account` is a title).
_WEAK_NAMES: Final = frozenset({"account", "user"})


def _header_roles(row: list[str]) -> dict[Role, int] | None:
    """Column index per role when `row` is a header (names we know, no e-mail in it)."""
    if any("@" in cell for cell in row):
        return None
    roles: dict[Role, int] = {}
    weak: set[Role] = set()
    for index, cell in enumerate(row):
        key = _norm_key(cell)
        role = _ROLE_NAMES.get(key)
        if role is None or (role in roles and role not in weak):
            continue
        if role in roles and key in _WEAK_NAMES:
            continue
        roles[role] = index
        if key in _WEAK_NAMES:
            weak.add(role)
        else:
            weak.discard(role)
    return roles or None


def _content_roles(rows: list[list[str]]) -> dict[Role, int]:
    """Column roles guessed from values when there is no header: e-mail, URL, hash, password."""
    width = max((len(r) for r in rows), default=0)
    votes: dict[Role, list[int]] = {role: [0] * width for role in ("email", "url", "hash")}
    for row in rows:
        for i, cell in enumerate(row):
            value = cell.strip()
            if email_domain(canonical_login(value)):
                votes["email"][i] += 1
            elif hash_kind(value):
                votes["hash"][i] += 1
            elif _looks_url(value):
                votes["url"][i] += 1
    roles: dict[Role, int] = {}
    half = max(1, len(rows) // 2)
    for role, counts in votes.items():
        col = counts.index(max(counts)) if width else -1
        if col >= 0 and counts[col] >= half and col not in roles.values():
            roles[role] = col
    free = [i for i in range(width) if i not in roles.values()]
    if "email" not in roles and free:
        roles["username"] = free.pop(0)
    if "hash" not in roles and free:
        roles["password"] = free[0]
    return roles


def _cell(row: list[str], roles: dict[Role, int], role: Role) -> str:
    index = roles.get(role)
    return row[index] if index is not None and index < len(row) else ""


class _CsvSource:
    """Feeds the csv reader one physical line at a time; aborts a record past the cap."""

    def __init__(self, lines: _Lines) -> None:
        self._lines = lines
        self._used = 0

    def start_record(self) -> None:
        self._used = 0

    def __iter__(self) -> _CsvSource:
        return self

    def __next__(self) -> str:
        line = self._lines.next()
        if line is None:
            raise StopIteration
        if isinstance(line, _Oversize):
            raise _RecordTooLarge
        self._used += len(line)
        if self._used > MAX_RECORD_CHARS:
            raise _RecordTooLarge
        return line


def parse_csv(stream: TextIO, *, origin: str) -> Iterator[LeakedCredential | BadRecord]:
    """Rows of a delimited breach file; header names decide the columns (else the values do).

    `line` is the 1-based line where a record starts (quoted fields may span lines).
    Open files with `newline=""` so that line breaks inside quoted fields are kept as they are.
    """
    _raise_field_limit()
    lines = _Lines(stream)
    head = lines.head()
    delimiter = sniff_delimiter(head) or ","
    source = _CsvSource(lines)
    reader = csv.reader(source, delimiter=delimiter)
    roles: dict[Role, int] | None = None
    guessed = False
    consumed = 0
    while True:
        start = consumed + 1
        source.start_record()
        try:
            row = next(reader)
        except StopIteration:
            return
        except _RecordTooLarge:
            consumed = lines.count
            yield BadRecord(origin=origin, line=start, reason="record too large")
            continue
        except csv.Error:
            consumed = lines.count
            yield BadRecord(origin=origin, line=start, reason="malformed csv")
            continue
        consumed = lines.count
        if not "".join(row).strip():
            continue
        if roles is None:
            roles = _header_roles(row)
            if roles is not None:
                continue  # the header row itself
            head_rows = _rows(head, delimiter)
            roles = _content_roles(head_rows or [row])
            guessed = True
        yield _from_row(row, roles, origin=origin, line=start, guessed=guessed)


def _rows(head: list[str], delimiter: str) -> list[list[str]]:
    try:
        return [r for r in csv.reader(head, delimiter=delimiter) if any(c.strip() for c in r)]
    except csv.Error:
        return []


def _from_row(
    row: list[str], roles: dict[Role, int], *, origin: str, line: int, guessed: bool
) -> Parsed:
    if max(map(len, row)) > MAX_FIELD_CHARS:
        return BadRecord(origin=origin, line=line, reason="field too large")
    login = _cell(row, roles, "email").strip() or _cell(row, roles, "username").strip()
    password, hashed = _cell(row, roles, "password"), _cell(row, roles, "hash")
    nt_hash = _cell(row, roles, "nt_hash")
    if guessed and hashed and not hash_kind(hashed.strip()):
        password, hashed = hashed, ""  # a guessed hash column holding a plain password
    return _credential(
        login_raw=login,
        password=password,
        hashed=hashed if hashed.strip() or not nt_hash.strip() else nt_hash,
        ntlm=not hashed.strip() and bool(nt_hash.strip()),
        url_raw=_cell(row, roles, "url").strip() or _cell(row, roles, "domain").strip(),
        origin=origin,
        line=line,
    )


# ---------------------------------------------------------------------------------------------
# JSON lines
# ---------------------------------------------------------------------------------------------


def _scalar(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _json_fields(obj: dict[str, Any]) -> dict[Role, list[str]]:
    """Values per role: top-level keys first, then keys of nested objects (two levels)."""
    found: dict[Role, list[str]] = {}

    def take(key: Any, value: Any) -> bool:
        role = _ROLE_NAMES.get(_norm_key(key)) if isinstance(key, str) else None
        if role is None or role in found:
            return False
        if isinstance(value, list):
            values = [v for v in (_scalar(item) for item in value) if v]
        else:
            one = _scalar(value)
            values = [one] if one else []
        if values:
            found[role] = values
        return bool(values)

    level: list[dict[str, Any]] = [obj]
    for _depth in range(_JSON_DEPTH):
        nested: list[dict[str, Any]] = []
        for one in level:
            for key, value in one.items():
                typed = _typed_value(value)
                if typed is not None:
                    take(key, typed)
                elif isinstance(value, dict):
                    nested.append(value)
                else:
                    take(key, value)
        level = nested
        if not level:
            break
    return found


_JSON_DEPTH: Final = 3  # the top level and two of nesting (`{"fields": {"email": {...}}}`)


def _typed_value(value: Any) -> str | None:
    """The scalar of a typed wrapper: Firestore `{"stringValue": x}`, DynamoDB `{"S": x}`."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        if isinstance(key, str) and (key.endswith("Value") or key in ("S", "N")):
            return _scalar(inner)
    return None


def parse_jsonl(stream: TextIO, *, origin: str) -> Iterator[LeakedCredential | BadRecord]:
    """One JSON object per line; key names in any case and spelling we know, nested one level.

    A list of passwords (or hashes) gives one record each. Bad lines become BadRecords.
    """
    lines = _Lines(stream)
    while True:
        raw = lines.next()
        if raw is None:
            return
        line_no = lines.count
        if isinstance(raw, _Oversize):
            yield BadRecord(origin=origin, line=line_no, reason="record too large")
            continue
        text = raw.strip().lstrip("\ufeff")
        if not text:
            continue
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            yield BadRecord(origin=origin, line=line_no, reason="bad json")
            continue
        if not isinstance(obj, dict):
            yield BadRecord(origin=origin, line=line_no, reason="not an object")
            continue
        yield from _from_json(obj, origin=origin, line=line_no)


def _from_json(obj: dict[str, Any], *, origin: str, line: int) -> Iterator[Parsed]:
    fields = _json_fields(obj)
    login = (fields.get("email") or fields.get("username") or [""])[0]
    url = (fields.get("url") or fields.get("domain") or [""])[0]
    passwords = fields.get("password", [])
    hashes = fields.get("hash", [])
    ntlm = not hashes and "nt_hash" in fields
    hashes = hashes or fields.get("nt_hash", [])
    if passwords:
        for password in passwords:
            yield _credential(
                login_raw=login, password=password, hashed="", url_raw=url, origin=origin, line=line
            )
    elif hashes:
        for hashed in hashes:
            yield _credential(
                login_raw=login,
                password="",
                hashed=hashed,
                url_raw=url,
                origin=origin,
                line=line,
                ntlm=ntlm,
            )
    else:
        yield _credential(
            login_raw=login, password="", hashed="", url_raw=url, origin=origin, line=line
        )


_JSON_ARRAY_START = re.compile(r"\s*\[\s*(?:\{|\]|$)")


def _array_objects(stream: TextIO, chunk: int = 1 << 16) -> Iterator[tuple[int, str | None]]:
    """(line, text) of each top-level object of a JSON array, streamed; text None when too large.

    Only the current object is held, never more than `MAX_RECORD_CHARS`.
    """
    depth = 0
    in_string = escaped = False
    parts: list[str] = []
    held = 0
    oversize = False
    line = 1
    start_line = 1
    while True:
        data = stream.read(chunk)
        if not data:
            return
        begin = 0 if depth > 0 else -1
        for i, ch in enumerate(data):
            if ch == "\n":
                line += 1
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
                continue
            if ch == '"':
                in_string = depth > 0
            elif ch == "{":
                depth += 1
                if depth == 1:
                    begin, parts, held, oversize, start_line = i, [], 0, False, line
            elif ch == "}" and depth > 0:
                depth -= 1
                if depth == 0:
                    text = data[begin : i + 1]
                    held += len(text)
                    whole = None if oversize or held > MAX_RECORD_CHARS else "".join(parts) + text
                    yield start_line, whole
                    begin = -1
        if depth > 0 and begin >= 0:
            piece = data[begin:]
            held += len(piece)
            if held > MAX_RECORD_CHARS:
                oversize, parts = True, []
            elif not oversize:
                parts.append(piece)


def parse_json_array(stream: TextIO, *, origin: str) -> Iterator[LeakedCredential | BadRecord]:
    """A JSON array of objects (password-manager and browser exports, dumps), streamed."""
    for line, text in _array_objects(stream):
        if text is None:
            yield BadRecord(origin=origin, line=line, reason="record too large")
            continue
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            yield BadRecord(origin=origin, line=line, reason="bad json")
            continue
        yield from _from_json(obj, origin=origin, line=line)


# ---------------------------------------------------------------------------------------------
# email:hash
# ---------------------------------------------------------------------------------------------


def parse_email_hash_line(
    line: str, *, origin: str, line_no: int, any_login: bool = False
) -> LeakedCredential | None:
    """`email:hash` (hex digest or a `$…$` hash, see feeds.hashes) → HASH, else None.

    With `any_login` the login need not be an e-mail (`admin:5f4d…` in a file of such lines).
    """
    if len(line) > MAX_FIELD_CHARS:
        return None
    found = _EMAIL_HASH.fullmatch(line)
    if found is None:
        return None
    hashed = found["hash"]
    algorithm = hash_algorithm(hashed)
    if algorithm is None:
        return None
    login = canonical_login(found["email"])
    if not login or not (any_login or email_domain(login)):
        return None
    return LeakedCredential(
        kind=CredentialKind.HASH,
        url="",
        host="",
        path="",
        login=login,
        secret=Secret(canonical_hash(hashed)),
        origin=origin,
        line=line_no,
        feed=FEED,
        hash_algorithm=algorithm,
    )


def parse_email_hash(stream: TextIO, *, origin: str) -> Iterator[LeakedCredential | BadRecord]:
    """Every line of an `email:hash` file; lines of another shape become BadRecords."""
    lines = _Lines(stream)
    while True:
        raw = lines.next()
        if raw is None:
            return
        if isinstance(raw, _Oversize):
            yield BadRecord(origin=origin, line=lines.count, reason="record too large")
            continue
        if not raw.strip():
            continue
        record = parse_email_hash_line(raw, origin=origin, line_no=lines.count, any_login=True)
        yield record or BadRecord(origin=origin, line=lines.count, reason="not login:hash")


# ---------------------------------------------------------------------------------------------
# Sniffing and dispatch
# ---------------------------------------------------------------------------------------------


def sniff_corpus(head: str, name: str) -> CorpusFormat:
    """Which breach parser fits a file, from its first bytes (decoded) and its name.

    Content decides; the extension only settles a delimited file without a known header.
    ULP lines (`url:login:password`) and plain combos are "unknown" here: they have their own parser.
    """
    lines = [line for line in head.lstrip("\ufeff").splitlines() if line.strip()]
    if len(lines) > 1 and not head.endswith(("\n", "\r")):
        lines.pop()  # the head was cut inside its last line
    lines = lines[:20]
    if not lines:
        return "unknown"
    sample = lines
    if lines[0].strip().startswith("[") and _JSON_ARRAY_START.match(head.lstrip("\ufeff")):
        return "json"
    if sum(_is_json_object(line) for line in sample) * 2 > len(sample):
        return "jsonl"
    delimiter = sniff_delimiter(lines)
    if delimiter is not None:
        first = _rows(lines[:1], delimiter)
        if first and _header_roles(first[0]):
            return "csv"
    origin = name or "-"
    hashes = sum(
        parse_email_hash_line(line, origin=origin, line_no=0, any_login=True) is not None
        for line in sample
    )
    if hashes * 2 > len(sample):
        return "email_hash"
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if delimiter is not None and suffix in ("csv", "tsv", "psv"):
        return "csv"
    if suffix in ("jsonl", "ndjson") and _is_json_object(lines[0]):
        return "jsonl"
    return "unknown"


def _is_json_object(line: str) -> bool:
    text = line.strip()
    if not text.startswith("{"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False


def parse_corpus(
    stream: TextIO, *, origin: str, fmt: CorpusFormat
) -> Iterator[LeakedCredential | BadRecord]:
    """Dispatch to the parser for `fmt` (from `sniff_corpus`); "unknown" yields nothing."""
    if fmt == "csv":
        return parse_csv(stream, origin=origin)
    if fmt == "jsonl":
        return parse_jsonl(stream, origin=origin)
    if fmt == "json":
        return parse_json_array(stream, origin=origin)
    if fmt == "email_hash":
        return parse_email_hash(stream, origin=origin)
    return iter(())
