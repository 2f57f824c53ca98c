"""Password hashes told apart from passwords: which algorithm a value's shape names, if any.

The rule, in every file kind:
  * a self-describing hash (`$2b$…` bcrypt, `$argon2id$…`, `$1$` / `$5$` / `$6$` / `$y$` crypt,
    `$apr1$`, phpass `$P$` / `$H$`, `pbkdf2_sha256$…`) is a hash wherever it appears;
  * bare hex (32, 40, 64 or 128 digits: MD5 or NTLM, SHA-1, SHA-256, SHA-512) is a hash only
    when something says so: a column or key named like a hash, or a file whose lines are
    mostly `login:hex`. A lone hex-looking value among plaintext passwords stays a password.
  * 32 hex digits are MD5 unless their column, key or label names NTLM (`ntlm`, `nt`,
    `nthash`, ...): then they are `ntlm`. The shape alone cannot tell the two apart.
"""

from __future__ import annotations

import re

_HEX = re.compile(r"[0-9a-fA-F]+")
_HEX_ALGORITHMS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
# Column / key / label names (lower-case, separators as `_`) that say a value is an NT hash.
NT_NAMES = frozenset(
    {"ntlm", "nt", "nthash", "nt_hash", "ntlm_hash", "ntlmhash", "nt_password", "nthash_hex"}
)
_CRYPT = (
    (re.compile(r"\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}"), "bcrypt"),
    (
        re.compile(
            r"\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+"
        ),
        "argon2",
    ),
    (re.compile(r"\$1\$[./A-Za-z0-9]{0,8}\$[./A-Za-z0-9]{22}"), "md5crypt"),
    (re.compile(r"\$apr1\$[./A-Za-z0-9]{0,8}\$[./A-Za-z0-9]{22}"), "apr1"),
    (re.compile(r"\$5\$(?:rounds=\d+\$)?[./A-Za-z0-9]{0,16}\$[./A-Za-z0-9]{43}"), "sha256crypt"),
    (re.compile(r"\$6\$(?:rounds=\d+\$)?[./A-Za-z0-9]{0,16}\$[./A-Za-z0-9]{86}"), "sha512crypt"),
    (re.compile(r"\$y\$[./A-Za-z0-9]+\$[./A-Za-z0-9]{0,86}\$[./A-Za-z0-9]{43}"), "yescrypt"),
    (re.compile(r"\$[PH]\$[./A-Za-z0-9]{31}"), "phpass"),
    (re.compile(r"pbkdf2_sha(?:1|256|512)\$\d+\$[^$]+\$[A-Za-z0-9+/=]+"), "pbkdf2"),
)


def crypt_algorithm(value: str) -> str | None:
    """The algorithm of a self-describing hash (`$2b$…`, `$argon2id$…`, `$6$…`), else None."""
    if not value or value[0] not in "$p":
        return None
    for regex, name in _CRYPT:
        if regex.fullmatch(value):
            return name
    return None


def hex_algorithm(value: str) -> str | None:
    """`md5` (or NTLM: same shape), `sha1`, `sha256` or `sha512` for bare hex of that length."""
    algorithm = _HEX_ALGORITHMS.get(len(value))
    return algorithm if algorithm and _HEX.fullmatch(value) else None


def hash_algorithm(value: str, *, ntlm: bool = False) -> str | None:
    """The algorithm a value's shape names (self-describing or bare hex), else None; `ntlm`
    when the value's column or label names NTLM and it has an NT hash's shape (32 hex)."""
    algorithm = crypt_algorithm(value) or hex_algorithm(value)
    return "ntlm" if ntlm and algorithm == "md5" else algorithm


def canonical_hash(value: str) -> str:
    """Hex digests in lower case so one digest has one fingerprint; other hashes kept as is."""
    return value.lower() if _HEX.fullmatch(value) else value
