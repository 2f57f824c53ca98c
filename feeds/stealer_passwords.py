"""Password files of stealer logs (RedLine, META, Raccoon, Vidar, StealC, Lumma...) → entries."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from monitor.normalize import canonical_login
from monitor.types import Secret

# Label (lower-case, single spaces) → field. Leet and obfuscated spellings included.
_LABELS: dict[str, str] = {
    "soft": "soft",
    "browser": "soft",
    "application": "soft",
    "storage": "soft",
    "profile": "profile",
    "host": "url",
    "hostname": "url",
    "url": "url",
    "ur1": "url",
    "website": "url",
    "web site": "url",
    "site": "url",
    "location": "url",
    "origin": "url",
    "server": "url",
    "ip": "url",
    "login": "login",
    "username": "login",
    "user name": "login",
    "user": "login",
    "user login": "login",
    "login name": "login",
    "email": "login",
    "e-mail": "login",
    "u53rn4m3": "login",
    "password": "password",
    "pass": "password",
    "passwd": "password",
    "pwd": "password",
    "user password": "password",
    "p455w0rd": "password",
}
# A label at the start of a line (after indentation) or after ` | ` / whitespace on one-line
# records, then its separator: `:`, `=`, or `:` followed by a `|` column (`Login:    | bob`).
# Indentation is only taken at the start of the line: elsewhere the label must follow the
# whitespace or `|` directly, so a search never re-scans a run of blanks (linear time).
_LABEL_RE = re.compile(
    r"(?:^[ \t]*|(?<=[\s|]))("
    + "|".join(
        sorted((re.escape(k).replace(r"\ ", r"[ \t]+") for k in _LABELS), key=len, reverse=True)
    )
    + r")[ \t]*(?::[ \t]*\|(?=[ \t])|:|=)",
    re.IGNORECASE,
)
# `["Browser" = "Profile"]`: the software line of some builds, without a label.
_BRACKET_SOFT_RE = re.compile(r'\s*\[\s*"([^"]*)"\s*=\s*"([^"]*)"\s*\]\s*')
# `===============`, `====Brand====`, `---------`, `*********`.
_SEPARATOR_RE = re.compile(r"\s*(?:[=\-*_#~―─━]{5,}|[=\-]{3,}[^:]*?[=\-]{3,}|-{2,4})\s*")
_EOL = "\r\n"


@dataclass(slots=True, kw_only=True)
class ParseStats:
    """Counters for one password file: blocks seen, entries yielded, incomplete blocks."""

    blocks: int = 0
    entries: int = 0
    incomplete: int = 0  # blocks without a url or without a password


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordEntry:
    """One saved browser login read from a password file."""

    url: str
    login: str  # as written, trimmed; "" when absent or a placeholder such as UNKNOWN
    secret: Secret
    line: int  # line of the password field
    software: str | None


def _field(label: str) -> str | None:
    """The field a label names (`Login`, ` USER  LOGIN `, `P455W0RD`...), else None."""
    key = label.strip().lower()
    field = _LABELS.get(key)
    if field is None and len(key) <= 20 and ("  " in key or "\t" in key):
        field = _LABELS.get(" ".join(key.split()))
    return field


def _password_value(raw: str) -> str:
    """Verbatim password: drop the one space or tab after the colon and the EOL, nothing else.

    Passwords may begin or end with spaces, so no further trimming is done.
    """
    value = raw.rstrip(_EOL)
    if value[:1] in (" ", "\t"):
        value = value[1:]
    return value


def line_fields(line: str) -> list[tuple[str, str]]:
    """The labelled fields of one line, in order: `Label: value`, `Label = value`,
    `Label:   | value`, indented or not, and one-line records (`URL: a | USER: b | PASS: c`).

    A password is verbatim (one space after the separator dropped); on a one-line record it
    runs to the next ` | Label:` only, so a password may hold spaces and colons.
    """
    first = _LABEL_RE.match(line)
    if first is None:
        return []
    marks = [first]
    pos = first.end()
    while True:
        nxt = _LABEL_RE.search(line, pos)
        if nxt is None:
            break
        if _field(marks[-1].group(1)) == "password" and not line[: nxt.start()].rstrip().endswith(
            "|"
        ):
            pos = nxt.end()  # inside a password, only ` | Label:` starts another field
            continue
        marks.append(nxt)
        pos = nxt.end()
    out: list[tuple[str, str]] = []
    for i, m in enumerate(marks):
        field = _field(m.group(1))
        if field is None:
            continue
        end = marks[i + 1].start() if i + 1 < len(marks) else len(line)
        raw = line[m.end() : end]
        if i + 1 < len(marks):
            raw = raw.rstrip().removesuffix("|").rstrip()
        value = _password_value(raw) if field == "password" else raw.strip()
        out.append((field, value))
    return out


def labelled_fields(line: str) -> set[str]:
    """The fields (`url`, `login`, `password`, `soft`...) a line labels; empty when none."""
    return {field for field, _ in line_fields(line)}


class _Block:
    __slots__ = ("fields", "password_line")

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.password_line = 0

    def entry(self) -> PasswordEntry | None:
        url = self.fields.get("url", "")
        password = self.fields.get("password", "")
        if not url or not password:
            return None
        login = self.fields.get("login", "")
        if not canonical_login(login):
            login = ""
        soft = self.fields.get("soft")
        profile = self.fields.get("profile")
        if soft and profile:
            software: str | None = f"{soft} [{profile}]"
        else:
            software = soft or profile or None
        return PasswordEntry(
            url=url,
            login=login,
            secret=Secret(password),
            line=self.password_line,
            software=software,
        )


def parse_passwords(
    lines: Iterable[tuple[int, str]], stats: ParseStats | None = None
) -> Iterator[PasswordEntry]:
    """Yield every complete entry (url and password present) of a stealer password file.

    Fields come in any order; blocks end at a separator line, a blank line, or when a field
    already set in the current block appears again (files without separators). Banners,
    seller lines and unknown labels are ignored. Never raises on junk.
    """
    counters = stats if stats is not None else ParseStats()
    block = _Block()

    def flush() -> PasswordEntry | None:
        nonlocal block
        if not block.fields:
            return None
        counters.blocks += 1
        entry = block.entry()
        if entry is None:
            counters.incomplete += 1
        else:
            counters.entries += 1
        block = _Block()
        return entry

    for number, raw in lines:
        line = raw.rstrip(_EOL)
        found = line_fields(line)
        if not found:
            if not line.strip() or _SEPARATOR_RE.fullmatch(line):
                done = flush()
                if done is not None:
                    yield done
                continue
            bracket = _BRACKET_SOFT_RE.fullmatch(line) if "[" in line else None
            if bracket is None:
                continue  # banner, seller line, unknown label, continuation
            found = [("soft", f"{bracket.group(1).strip()} [{bracket.group(2).strip()}]")]
        for field, value in found:
            if field in block.fields:
                done = flush()
                if done is not None:
                    yield done
            block.fields[field] = value
            if field == "password":
                block.password_line = number
    done = flush()
    if done is not None:
        yield done
