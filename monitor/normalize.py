"""Canonical forms for hosts, logins and URLs, so that matching compares like with like."""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Iterable

from monitor import public_suffix

_AUTHORITY_END = "/?#"
# What stealers and combo lists write where no login was captured.
PLACEHOLDER_LOGINS = frozenset({"", "unknown", "none", "null", "undefined", "n/a", "-"})
# A path segment that looks like a token (reset links, magic links, JWTs, session ids): long,
# made only of token characters, with both letters and digits.
_TOKEN_SEGMENT = re.compile(r"[A-Za-z0-9_\-.~+=%]{20,}")
MASKED_SEGMENT = "***"
# DNS limits: a name past them can never be a host, so it is never handed to the IDNA codec,
# whose cost on a long label or on many labels grows faster than the input.
MAX_HOST = 253
MAX_LABEL = 63


def _idna_worthy(host: str) -> bool:
    """Could the IDNA codec turn this into a host? Only within DNS's name and label lengths."""
    return len(host) <= MAX_HOST and all(len(label) <= MAX_LABEL for label in host.split("."))


def canonical_host(raw: str) -> str:
    """Lower-case, strip brackets/trailing dots, IDNA A-label. Returns "" when not a host. A
    non-ASCII name longer than DNS allows is returned as it is, as when the codec refuses it."""
    host = raw.strip().strip("[]").rstrip(".").lower()
    if not host or any(c in host for c in " \t\r\n/\\@"):
        return ""
    if not host.isascii() and _idna_worthy(host):
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return host
    return host


def _split_authority(rest: str, special: bool) -> tuple[str, str]:
    """Split `authority/path...` into (authority, path). Special schemes treat `\\` as `/`."""
    if special:
        rest = rest.replace("\\", "/")
    cut = len(rest)
    for ch in _AUTHORITY_END:
        i = rest.find(ch)
        if i != -1 and i < cut:
            cut = i
    authority, tail = rest[:cut], rest[cut:]
    path = tail.split("?", 1)[0].split("#", 1)[0]
    return authority, path


def _host_from_authority(authority: str) -> str:
    authority = authority.rpartition("@")[2]  # userinfo never decides the host
    if authority.startswith("["):
        return canonical_host(authority[: authority.find("]") + 1])
    return canonical_host(authority.partition(":")[0])


def android_package_host(package: str) -> str:
    """`com.example.app` → `app.example.com`: the reversed package names the vendor's domain."""
    labels = [p for p in package.strip().strip("/").lower().split(".") if p]
    return canonical_host(".".join(reversed(labels)))


def split_url(url: str) -> tuple[str, str]:
    """Return (canonical host, path) of a URL as found in a dump (scheme optional)."""
    text = url.strip().strip("\"'").strip()
    if not text:
        return "", ""
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    scheme = scheme.lower()
    if scheme == "android":
        package = rest.rpartition("@")[2].split("/", 1)[0]
        return android_package_host(package), ""
    if not scheme and rest.startswith("//"):
        rest = rest[2:]
    special = scheme in ("", "http", "https", "ftp", "ws", "wss")
    if special:  # the same userinfo rule as safe_url: a password may hold `/`, `?` or `#`
        rest = _drop_userinfo(rest.replace("\\", "/"))
    authority, path = _split_authority(rest, special=special)
    host = _host_from_authority(authority)
    if path:
        path = urllib.parse.unquote(path)
    return host, path


def _looks_like_token(segment: str) -> bool:
    return (
        _TOKEN_SEGMENT.fullmatch(segment) is not None
        and any(c.isdigit() for c in segment)
        and any(c.isalpha() for c in segment)
    )


def _safe_segment(segment: str) -> str:
    segment = segment.split(";", 1)[0]
    return MASKED_SEGMENT if _looks_like_token(segment) else segment


# An `@` and the host it would introduce: what follows, up to the next `/?#` or the end.
_AT_HOST = re.compile(r"@([^@/?#]*)(?=[/?#]|$)")


def _plausible_host(authority: str) -> bool:
    """Is `authority` what can only be a host: a dotted name, `[v6]` or localhost?"""
    host = _host_from_authority(authority)
    return "." in host or ":" in host or host == "localhost"


def _is_host_port(authority: str) -> bool:
    """`name.example:8443`: a dotted host and a port of digits, which no userinfo looks like."""
    name, colon, port = authority.rpartition("@")[2].rpartition(":")
    return bool(colon) and port.isdigit() and "." in canonical_host(name)


def _drop_userinfo(rest: str) -> str:
    """`rest` (after `scheme://`) without a userinfo whose password holds an unencoded `/`, `?`
    or `#`: `bob:pa/ss@portal.example/x` → `portal.example/x`.

    The rule: when the authority (up to the first `/?#`) holds a `:` and an `@` follows that
    cut, the userinfo ends at the last such `@` followed by a dotted host, `[v6]` or
    localhost, or when none is, at the last such `@`. Leaving a password in place is worse
    than losing a path, so an ambiguous URL is read the way that keeps no secret; the one
    exception is an authority that is a dotted host and a numeric port
    (`portal.example:8443/login?mail=a@b.example`), kept as it is."""
    cut = min((i for i in (rest.find(c) for c in _AUTHORITY_END) if i != -1), default=-1)
    if cut == -1 or ":" not in rest[:cut]:
        return rest
    last = rest.rfind("@")
    if last < cut or _is_host_port(rest[:cut]):
        return rest
    for at in reversed(list(_AT_HOST.finditer(rest, cut))):
        if _plausible_host(at.group(1)):
            return rest[at.start() + 1 :]
    return rest[last + 1 :]


def _without_bad_port(authority: str) -> str:
    """`bob:pa` is a login and part of a password, not a host and a port: a port is digits."""
    if authority.startswith("["):
        return authority
    host, colon, port = authority.partition(":")
    return host if colon and port and not port.isdigit() else authority


def safe_url(url: str, *, limit: int = 2048) -> str:
    """The URL without userinfo, query, fragment or `;params` (they can carry passwords, tokens
    and session ids), a token-looking path segment masked; `android://…@pkg/` keeps only the
    package. Idempotent: every record's URL goes through it once, where the record is built."""
    text = url.strip().strip("\"'").strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    if scheme.lower() == "android":
        package = rest.rpartition("@")[2].split("/", 1)[0].split(";", 1)[0]
        return f"android://{package}/"[:limit]
    rest = _drop_userinfo(rest.replace("\\", "/"))
    authority, path = _split_authority(rest, special=True)
    authority = _without_bad_port(authority.rpartition("@")[2].split(";", 1)[0])
    path = "/".join(_safe_segment(segment) for segment in path.split("/"))
    prefix = f"{scheme}://" if sep else ""
    return f"{prefix}{authority}{path}"[:limit]


def canonical_login(raw: str) -> str:
    """Trimmed, lower-cased login; `%40` decoded; placeholders such as `UNKNOWN` become ""."""
    login = raw.strip().strip("\"'").strip()
    if "%40" in login or "%40" in login.lower():
        login = urllib.parse.unquote(login)
    login = login.lower()
    if login in PLACEHOLDER_LOGINS:
        return ""
    return login


def email_domain(login: str) -> str:
    """The canonical domain of an e-mail login, or "" when the login is not an e-mail."""
    local, at, domain = login.rpartition("@")
    if not at or not local:
        return ""
    return canonical_host(domain)


def under_domain(host: str, domains: frozenset[str] | set[str]) -> str | None:
    """The watched domain `host` equals or sits under on a label boundary, else None."""
    if not host:
        return None
    if host in domains:
        return host
    i = host.find(".")
    while i != -1:
        suffix = host[i + 1 :]
        if suffix in domains:
            return suffix
        i = host.find(".", i + 1)
    return None


def path_under(path: str, prefix: str) -> bool:
    """True when `path` is `prefix` or below it on a segment boundary ("" prefix = whole host)."""
    prefix = prefix.rstrip("/")
    if not prefix:
        return True
    path = path or "/"
    return path == prefix or path.startswith(prefix + "/")


@functools.lru_cache(maxsize=65536)
def registered_domain(host: str) -> str:
    """The domain under its public suffix (`a.b.francetravail.fr` → `francetravail.fr`)."""
    if not host:
        return ""
    return public_suffix.top_domain(host) or host


def canonical_domains(domains: Iterable[str]) -> frozenset[str]:
    return frozenset(h for h in (canonical_host(d) for d in domains) if h)
