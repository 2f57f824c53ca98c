"""The one keyed hash (HMAC-SHA256, hex) behind every fingerprint: secrets, exposures, machine ids."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

SEPARATOR = b"\x1f"  # between parts: ("ab", "c") and ("a", "bc") never collide
_BLOCK = 64  # SHA-256's block size in bytes


@functools.lru_cache(maxsize=16)
def _pads(key: bytes) -> tuple[Any, Any]:
    """HMAC's inner and outer SHA-256 states after the key's padded block (RFC 2104), made once
    per key: each hash then only copies them instead of hashing the key twice again."""
    k = key if len(key) <= _BLOCK else hashlib.sha256(key).digest()
    k = k.ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in k))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in k))
    return inner, outer


def keyed_hash(key: bytes, *parts: bytes) -> str:
    """HMAC-SHA256 over `parts` joined by SEPARATOR, hex. Stable for one key; useless without it."""
    start_inner, start_outer = _pads(key)
    inner = start_inner.copy()
    inner.update(SEPARATOR.join(parts))
    outer = start_outer.copy()
    outer.update(inner.digest())
    return str(outer.hexdigest())
