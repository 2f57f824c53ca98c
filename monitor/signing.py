"""HMAC-SHA256 signatures for outbound webhooks: `sha256=<hex>` over `<timestamp>.<body>`.

Signing the timestamp with the body means a captured request cannot be replayed later with a
new timestamp; receivers check both with `verify_signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Credwatch-Signature"
TIMESTAMP_HEADER = "X-Credwatch-Timestamp"


def sign(key: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256(key, timestamp + "." + body)."""
    mac = hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(key: bytes, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The timestamp and signature headers for `body`, stamped `now` (default: the clock)."""
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(key, timestamp, body)}


def verify_signature(
    key: bytes,
    *,
    body: bytes,
    timestamp: str,
    signature: str,
    now: float | None = None,
    tolerance: float = 300.0,
) -> bool:
    """True when `signature` is ours for this body and the timestamp is within `tolerance` s."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(key, timestamp, body), signature)
