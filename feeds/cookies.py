"""Netscape cookie files (stealer `Cookies/*.txt`) → cookie entries with masked values."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.normalize import canonical_host
from monitor.types import Secret

_HTTP_ONLY = "#httponly_"
_FLAGS = {"true": True, "false": False}
_SPACES_RE = re.compile(r"[ \t]+")
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z


@functools.lru_cache(maxsize=4096)
def _domain(raw: str) -> str:
    """Canonical cookie domain (leading dot dropped); cookie files repeat a few domains."""
    return canonical_host(raw.strip().lstrip("."))


@dataclass(frozen=True, slots=True, kw_only=True)
class CookieEntry:
    """One cookie: the domain is canonical (no leading dot); the value is a Secret."""

    domain: str
    include_subdomains: bool
    path: str
    secure: bool
    expires: datetime | None  # None for a session cookie (expiry 0)
    name: str
    value: Secret
    http_only: bool
    line: int


def _fields(line: str) -> list[str] | None:
    """The 7 fields of a cookie line: TAB-separated, else separated by runs of spaces."""
    if "\t" in line:
        parts = line.split("\t")
        if len(parts) == 7:
            return parts
        if len(parts) > 7 and all(parts[:6]):  # a TAB inside the value
            return [*parts[:6], "\t".join(parts[6:])]
    parts = _SPACES_RE.split(line.strip(), maxsplit=6)
    return parts if len(parts) == 7 else None


def _expires(text: str) -> tuple[bool, datetime | None]:
    """(valid, expiry); 0 or negative is a session cookie. Milliseconds are accepted too."""
    try:
        epoch = float(text)
    except ValueError:
        return False, None
    if epoch != epoch or epoch in (float("inf"), float("-inf")):
        return False, None
    if epoch <= 0:
        return True, None
    if epoch > _MAX_EPOCH:
        epoch /= 1000  # some browsers export milliseconds
        if epoch > _MAX_EPOCH:
            return False, None
    return True, datetime.fromtimestamp(epoch, tz=UTC)


def parse_cookie_line(number: int, raw: str) -> CookieEntry | None:
    """One line → a cookie, or None for comments, blanks and malformed lines."""
    line = raw.rstrip("\r\n")
    http_only = line[: len(_HTTP_ONLY)].lower() == _HTTP_ONLY
    if http_only:
        line = line[len(_HTTP_ONLY) :]
    elif line.lstrip().startswith("#"):
        return None
    fields = _fields(line)
    if fields is None:
        return None
    domain_raw, sub_raw, path, secure_raw, expiry_raw, name, value = fields
    include_subdomains = _FLAGS.get(sub_raw.strip().lower())
    secure = _FLAGS.get(secure_raw.strip().lower())
    if include_subdomains is None or secure is None:
        return None
    domain = _domain(domain_raw)
    valid, expires = _expires(expiry_raw.strip())
    value = value.rstrip("\r\n")
    if not domain or not valid or not name.strip() or not value:
        return None  # an empty value leaks nothing
    return CookieEntry(
        domain=domain,
        include_subdomains=include_subdomains,
        path=path.strip() or "/",
        secure=secure,
        expires=expires,
        name=name.strip(),
        value=Secret(value),
        http_only=http_only,
        line=number,
    )


def parse_cookies(lines: Iterable[tuple[int, str]]) -> Iterator[CookieEntry]:
    """Yield the cookies of a Netscape cookie file; comments and malformed lines are skipped."""
    for number, raw in lines:
        entry = parse_cookie_line(number, raw)
        if entry is not None:
            yield entry
