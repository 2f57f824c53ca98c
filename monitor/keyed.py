"""The one keyed hash (HMAC-SHA256, hex) behind every fingerprint: secrets, exposures, machine ids."""

from __future__ import annotations

import hashlib
import hmac

SEPARATOR = b"\x1f"  # between parts: ("ab", "c") and ("a", "bc") never collide


def keyed_hash(key: bytes, *parts: bytes) -> str:
    """HMAC-SHA256 over `parts` joined by SEPARATOR, hex. Stable for one key; useless without it."""
    return hmac.new(key, SEPARATOR.join(parts), hashlib.sha256).hexdigest()
