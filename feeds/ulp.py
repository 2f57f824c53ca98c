"""Split one ULP / combolist line (`url:login:password` and its variants) into url, login, password.

This runs on candidate lines only (a byte screen has already found a watched name in the
line), so it favours a few C-level searches per line over a general grammar.

Input handling
  * Surrounding whitespace and CR/LF are stripped, then one leading `@` (a Telegram-channel
    habit). Lines longer than `MAX_LINE_CHARS` after stripping, or holding the redaction
    block `█`, are junk.
  * Bytes are decoded as strict UTF-8; a line that is not valid UTF-8 is decoded with
    `surrogateescape`, so the password keeps its exact original bytes (the caller wraps it in
    `Secret`, whose fingerprint encodes with `surrogateescape` too). The url and login never
    carry lone surrogates or control characters: undecodable bytes become U+FFFD and C0/DEL
    controls are dropped, because both are stored and logged.

Decision rules, first that applies wins
  1. Quoted URL first: `"https://site/x":login:password` (double or single quotes).
  2. Scheme URL first: the line starts with `scheme://` (scheme: ASCII letter, then letters,
     digits, `+ - .`, at most 32 chars). The authority runs to the first `/ ? #`, `|`, `;`,
     TAB or space. When that whole authority is `userinfo@host[:port]` it is kept as is
     (`http://user:pw@host/`, `android://SIG==@com.pkg.app/`); otherwise the host ends at the
     first `:`. A path (from `/ ? #`) runs to the first `:`, `|`, TAB or space; when that
     reading leaves no login/password, the first `;` is tried as the end instead.
  3. Scheme-less host first: the first field (up to `: / ? # | ;` TAB or space) looks like a
     host: it contains a `.`, no `@`, only letters, digits, `. - _`, and its last label is not
     all digits unless the field is a dotted IPv4. `[v6]` literals count as hosts too. So
     `site.com:login:pw` and `1.2.3.4:login:pw` are host first, `mail@x.com:pw` is not.
     3b. An Android record that lost its scheme (`SIG==@com.pkg.app/:login:pw`, the signature
     ending in base64 padding) reads as `android://SIG==@com.pkg.app/`.
  4. Port: a field of 1-5 digits (<= 65535) right after the host is a port when a `/ ? #`
     follows it, or when a separator follows it and the rest still holds another separator
     (so a login and a password remain): `site.com:8443:login:pw` has a port,
     `site.com:8443:pw` has the login `8443`. A first field that is not a host is never
     followed by a port: `user:8443:pass` is the combo (`user`, `8443:pass`).
  5. After the URL comes the separator: `:`, `|`, `;`, or a run of spaces/TABs (possibly
     around one of `: | ;`, as in `url | login | pw`). The login runs to the next separator;
     the password is everything after it, separators included (`https://a.b/:u:pa:ss` gives
     `pa:ss`). When the separator was padded with whitespace, the login and the start of the
     password are trimmed; inner spaces of the password are always kept.
  6. URL last: `login:password:https://site/` (a `scheme://` whose scheme is preceded by a
     separator) or `login:password:site.com[/path]` (last field looks like a host, rule 3).
     The login is the first field; the password is everything between it and the URL.
  7. Combo: `login:password` with the first `:`, `;`, `|` or TAB as separator; url "".
     A combo needs a login (`:password` alone names nobody).
  8. Junk → None: no separator, a URL with no login/password field, an empty (or placeholder
     such as `UNKNOWN`) login together with an empty password, a password that is a
     placeholder (`null`, `undefined`, `(null)`), the example pair `user:pass` and its
     variants, and `Label: value` lines (`URL: https://...`) from stealer password blocks.

Known ambiguities (resolved as above, documented so nobody is surprised): a numeric login
right after a URL without a path can read as a port; `john.doe:pass:word` reads as host first;
a `:` inside a URL path ends the URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.normalize import PLACEHOLDER_LOGINS

__all__ = ["MAX_LINE_CHARS", "UlpRecord", "parse_ulp_bytes", "parse_ulp_line"]

MAX_LINE_CHARS = 4096
_MAX_SCHEME = 32
_ANDROID = "android://"
_REDACTED = "█"
_SEPARATORS = ":|;"
_WHITESPACE = " \t"
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")

# One C-level scan each for "the first of these characters".
_AUTH_END = re.compile(r"[/?#|;\t ]")
_HOST_END = re.compile(r"[:/?#|;\t ]")
_PATH_END = re.compile(r"[:|\t ]")
_ANY_SEP = re.compile(r"[:|;\t ]")
_COMBO_SEP = re.compile(r"[:;|\t]")
_WS_RUN = re.compile(r"[ \t]+")
_PORT = re.compile(r"[0-9]{1,5}")
# The common shape, `scheme://[userinfo@]host[:port]/path:login:password` (no `;`, `[`, padding)
# in one match. It gives exactly what rules 2, 4 and 5 give; anything else takes the long way.
_COMMON = re.compile(
    r"([A-Za-z][A-Za-z0-9+.-]{0,31}://(?:[^/?#|;\t ]*@)?[^/?#|;\t @:\[]+"
    r"(?::(?:[0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    r"[/?#][^:|;\t ]*):((?:[^: \t][^:]*)?):"
)

_PLACEHOLDER_PASSWORDS = frozenset({"null", "undefined", "(null)"})
_PLACEHOLDER_LOGINS = frozenset({"user", "username", "login", "email", "mail", "e-mail"})
_PLACEHOLDER_SECRETS = frozenset({"pass", "password", "passwd", "pwd"})
_LABELS = frozenset(
    {
        "url",
        "host",
        "hostname",
        "user",
        "username",
        "login",
        "password",
        "pass",
        "soft",
        "software",
        "browser",
        "application",
        "storage",
        "profile",
    }
)
_CONTROL = {**{c: None for c in range(32)}, 127: None}


@dataclass(frozen=True, slots=True, kw_only=True)
class UlpRecord:
    """One credential line split into its parts. The password is toxic: wrap it, never log it."""

    url: str  # as found (scheme optional, quotes removed); "" for login:password combos
    login: str  # raw login (the caller canonicalises)
    password: str  # raw password (the caller wraps it in Secret immediately)

    def __repr__(self) -> str:
        return f"UlpRecord(url={self.url!r}, login={self.login!r}, password=<{len(self.password)}>)"


def parse_ulp_bytes(line: bytes) -> UlpRecord | None:
    """Decode one line (UTF-8; `surrogateescape` when invalid) and parse it."""
    if len(line) > 4 * MAX_LINE_CHARS + 8:
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("utf-8", "surrogateescape")
    return parse_ulp_line(text)


def parse_ulp_line(line: str) -> UlpRecord | None:
    """Parse one ULP or combo line; None when it is not a credential line."""
    s = line.strip()
    if s[:1] == "@":
        s = s[1:].lstrip()
    if not s or len(s) > MAX_LINE_CHARS or _REDACTED in s:
        return None
    m = _COMMON.match(s)
    if m is not None:
        url, login = m.groups()
        password = s[m.end() :]
    else:
        parts = _split(s)
        if parts is None:
            return None
        url, login, password = parts
    if not url.isprintable():
        url = _clean(url)
    if not login.isprintable():
        login = _clean(login)
    if len(password) <= 9:
        low = password.lower()
        if low in _PLACEHOLDER_PASSWORDS:
            return None
        if low in _PLACEHOLDER_SECRETS and login.lower() in _PLACEHOLDER_LOGINS:
            return None
        if not low and login.strip().lower() in PLACEHOLDER_LOGINS:
            return None
    return UlpRecord(url=url, login=login, password=password)


def _clean(text: str) -> str:
    """Undecodable bytes → U+FFFD, other lone surrogates → `?`, C0/DEL controls dropped."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text.translate(_CONTROL)


def _split(s: str) -> tuple[str, str, str] | None:
    c0 = s[0]
    if c0 == '"' or c0 == "'":
        close = s.find(c0, 1)
        if close > 1:
            lp = _login_password(s, close + 1)
            if lp is not None:
                return s[1:close], lp[0], lp[1]
    k = s.find("://")
    if 0 < k <= _MAX_SCHEME and c0.isalpha() and _is_scheme(s[:k]):
        return _url_first(s, k + 3, userinfo=True)
    if c0 == "[":
        found = _url_first(s, 0, userinfo=False)
        if found is not None:
            return found
    else:
        m = _HOST_END.search(s)
        if m is not None and _is_host(s[: m.start()]):
            found = _url_first(s, 0, userinfo=False)
            if found is not None:
                return found
        if m is not None and _is_android_authority(s[: m.start()]):
            found = _url_first(_ANDROID + s, len(_ANDROID), userinfo=True)
            if found is not None:
                return found
    found = _url_last(s, k)
    if found is not None:
        return found
    return _combo(s)


def _is_android_authority(text: str) -> bool:
    """`<base64 signature>=@com.package` without its `android://` scheme (rule 3b)."""
    sig, at, package = text.rpartition("@")
    return bool(at) and sig.endswith("=") and "." in package and _is_host(package)


def _is_scheme(text: str) -> bool:
    if text.isalpha():
        return text.isascii()
    return text.isascii() and all(c in _SCHEME_CHARS for c in text)


def _is_host(text: str) -> bool:
    """A bare host name or IPv4 address (rule 3)."""
    if "." not in text or "@" in text:
        return False
    body = text.rstrip(".")
    if not body or body[0] in ".-":
        return False
    if not body.replace(".", "").replace("-", "").replace("_", "").isalnum():
        return False
    tld = body.rpartition(".")[2]
    if not tld:
        return False
    if tld.isdigit():
        return body.count(".") == 3 and body.replace(".", "").isdigit()
    return True


def _is_hostport(text: str) -> bool:
    """`host`, `host:port` or `[v6]:port`, nothing more (decides whether `@` is userinfo)."""
    if text.startswith("["):
        rb = text.find("]")
        if rb == -1:
            return False
        rest = text[rb + 1 :]
        if not rest:
            return True
        if rest[0] != ":":
            return False
        port = rest[1:]
    else:
        host, _, port = text.partition(":")
        if not host:
            return False
        if not _:
            return True
    return port.isdigit() and len(port) <= 5 and int(port) <= 65535


def _port_end(s: str, colon: int) -> int:
    """End of a port that starts after `colon`, or -1 when the field is not a port (rule 4)."""
    m = _PORT.match(s, colon + 1)
    if m is None:
        return -1
    end = m.end()
    if end >= len(s) or int(m.group()) > 65535:
        return -1
    c = s[end]
    if c in "/?#":
        return end
    if c in _SEPARATORS or c in _WHITESPACE:
        return end if _ANY_SEP.search(s, end + 1) is not None else -1
    return -1


def _url_first(s: str, i: int, *, userinfo: bool) -> tuple[str, str, str] | None:
    """URL at the start of `s`, its authority starting at `i` (rules 2-5)."""
    n = len(s)
    if s.startswith("[", i):
        rb = s.find("]", i)
        if rb == -1:
            return None
        auth_end = rb + 1
        if auth_end < n and s[auth_end] == ":":
            p = _port_end(s, auth_end)
            if p != -1:
                auth_end = p
        return _after_authority(s, auth_end)
    m = _AUTH_END.search(s, i)
    cand_end = m.start() if m is not None else n
    if userinfo:
        at = s.rfind("@", i, cand_end)
        if at != -1 and _is_hostport(s[at + 1 : cand_end]):
            found = _after_authority(s, cand_end)
            if found is not None:
                return found
    colon = s.find(":", i, cand_end)
    if colon == -1:
        auth_end = cand_end
    else:
        p = _port_end(s, colon)
        auth_end = p if p != -1 else colon
    if auth_end == i and not (auth_end < n and s[auth_end] in "/?#"):
        return (
            None  # `https://:x:y`; an empty authority before a path is kept (`android:///Ab=@pkg/`)
        )
    return _after_authority(s, auth_end)


def _after_authority(s: str, auth_end: int) -> tuple[str, str, str] | None:
    """Read the optional path after the authority, then the login and password."""
    if auth_end < len(s) and s[auth_end] in "/?#":
        m = _PATH_END.search(s, auth_end)
        path_end = m.start() if m is not None else len(s)
        lp = _login_password(s, path_end)
        if lp is not None:
            return s[:path_end], lp[0], lp[1]
        semi = s.find(";", auth_end, path_end)
        if semi == -1:
            return None
        path_end = semi
    else:
        path_end = auth_end
    lp = _login_password(s, path_end)
    if lp is None:
        return None
    return s[:path_end], lp[0], lp[1]


def _login_password(s: str, j: int) -> tuple[str, str] | None:
    """Read `<sep>login<sep>password` starting at the separator at `j` (rule 5)."""
    n = len(s)
    if j >= n:
        return None
    c = s[j]
    padded = False
    sep = ""
    if c in _WHITESPACE:
        m = _WS_RUN.match(s, j)
        k = m.end() if m is not None else j + 1
        if k >= n:
            return None
        padded = True
        if s[k] in _SEPARATORS:
            sep = s[k]
            k += 1
    elif c in _SEPARATORS:
        sep = c
        k = j + 1
        if k < n and s[k] in _WHITESPACE:
            padded = True
    else:
        return None
    if padded:
        m = _WS_RUN.match(s, k)
        if m is not None:
            k = m.end()
    if not sep:
        m = _WS_RUN.search(s, k)
        if m is None:
            return None
        return s[k : m.start()], s[m.end() :]
    e = s.find(sep, k)
    if e == -1:
        return None
    if padded:
        return s[k:e].strip(), s[e + 1 :].lstrip(_WHITESPACE)
    return s[k:e], s[e + 1 :]


def _head_split(head: str) -> tuple[str, str] | None:
    """`login<sep>password<sep>` before a trailing URL → (login, password) (rule 6)."""
    body = head.rstrip(_WHITESPACE)
    padded = len(body) != len(head)
    if body and body[-1] in _SEPARATORS:
        sep = body[-1]
        body = body[:-1]
        if body[-1:] in (" ", "\t"):
            padded = True
            body = body.rstrip(_WHITESPACE)
    elif padded:
        sep = ""
    else:
        return None
    if not sep:
        m = _WS_RUN.search(body)
        if m is None:
            return None
        return body[: m.start()], body[m.end() :]
    e = body.find(sep)
    if e == -1:
        return None
    if padded:
        return body[:e].strip(), body[e + 1 :].lstrip(_WHITESPACE)
    return body[:e], body[e + 1 :]


def _url_last(s: str, k: int) -> tuple[str, str, str] | None:
    """`login:password:url` with a scheme URL or a bare host as the last field (rule 6)."""
    while k != -1:
        b = k
        while b > 0 and s[b - 1] in _SCHEME_CHARS:
            b -= 1
        if 1 < b < k and (s[b - 1] in _SEPARATORS or s[b - 1] in _WHITESPACE):
            lp = _head_split(s[:b])
            if lp is not None and _is_scheme(s[b:k]) and s[b].isalpha():
                return s[b:], lp[0], lp[1]
        k = s.find("://", k + 3)
    m = _COMBO_SEP.search(s)
    if m is None:
        return None
    sep = m.group()
    last = s.rfind(sep)
    if last <= m.start():
        return None
    tail = s[last + 1 :]
    host = tail
    for ch in "/?#":
        cut = host.find(ch)
        if cut != -1:
            host = host[:cut]
    if not _is_host(host.strip()):
        return None
    lp = _head_split(s[: last + 1])
    if lp is None:
        return None
    return tail.strip(), lp[0], lp[1]


def _combo(s: str) -> tuple[str, str, str] | None:
    """`login:password` (rule 7); `Label: value` lines are not credentials."""
    m = _COMBO_SEP.search(s)
    if m is None:
        return None
    start = m.start()
    login = s[:start]
    password = s[m.end() :]
    if login[-1:] in (" ", "\t") and password[:1] in (" ", "\t"):
        password = password.lstrip(_WHITESPACE)
    elif password[:1] == " " and login.strip().lower() in _LABELS:
        return None
    login = login.strip()
    if not login:
        return None
    return "", login, password
