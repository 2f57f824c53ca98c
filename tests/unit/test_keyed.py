"""The keyed hash is HMAC-SHA256, whatever the key's length and the parts."""

from __future__ import annotations

import hashlib
import hmac
import random

from monitor.keyed import SEPARATOR, keyed_hash


def test_keyed_hash_is_hmac_sha256() -> None:
    rng = random.Random(7)
    for length in (0, 1, 32, 48, 63, 64, 65, 100, 200):
        key = rng.randbytes(length)
        for _ in range(20):
            parts = [rng.randbytes(rng.randrange(0, 90)) for _ in range(rng.randrange(1, 5))]
            want = hmac.new(key, SEPARATOR.join(parts), hashlib.sha256).hexdigest()
            assert keyed_hash(key, *parts) == want
    # the same key again (its pads are kept): still the same answers
    assert keyed_hash(b"k" * 48, b"a", b"b") == hmac.new(b"k" * 48, b"a\x1fb", "sha256").hexdigest()
