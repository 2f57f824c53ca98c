"""Text bound for PostgreSQL: no NUL, no lone surrogate, and short enough for its column's index.

PostgreSQL refuses a text value holding NUL and a B-tree entry over 2704 bytes; asyncpg refuses a
string it cannot encode. Every text the store writes from input passes through `db_text`, so no
leaked value can make a row unstorable. A value cut short ends with a digest of the whole value,
so two long values that share a prefix stay two values (identities are fingerprinted in full
before they get here).
"""

from __future__ import annotations

import hashlib

INDEXED = 1024  # bytes of UTF-8 for a value in an indexed column (a B-tree row holds 2704)
WIDE = 8192  # bytes for an unindexed column
_DIGEST = 16  # hex characters of SHA-256 kept after a cut value


def db_text(value: str, limit: int = INDEXED) -> str:
    """`value` without NUL or lone surrogates, at most `limit` bytes of UTF-8."""
    if len(value) <= limit and value.isascii() and "\x00" not in value:
        return value  # one byte a character, no surrogate: nothing to change
    raw = value.replace("\x00", "").encode("utf-8", "replace")
    if len(raw) <= limit:
        return raw.decode("utf-8")
    digest = hashlib.sha256(raw).hexdigest()[:_DIGEST]
    head = raw[: limit - _DIGEST - 4].decode("utf-8", "ignore")
    return f"{head}…{digest}"


def db_opt(value: str | None, limit: int = INDEXED) -> str | None:
    """`db_text` for a nullable column."""
    return None if value is None else db_text(value, limit)
