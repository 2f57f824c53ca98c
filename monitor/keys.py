"""Keys you cannot mix up: the database records which HMAC key made its fingerprints.

A key is known by a check value (an HMAC of a constant under it) and a short key id cut from
that check value; neither reveals the key. The first run records its key. A later run with a
different key is refused (every exposure would be created, alerted and contained again). A
rotation makes a new key current and keeps the old one as previous; runs then give the old
key(s) in CREDWATCH_HMAC_KEY_PREVIOUS so exposures fingerprinted before keep their identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.config import HMAC_KEY_ENV, HMAC_KEY_PREVIOUS_ENV
from monitor.errors import ConfigError
from monitor.keyed import keyed_hash
from monitor.store import db
from monitor.store.records import StoredKey
from monitor.store.store import Store

_CHECK = b"credwatch fingerprint key check v1"
_ID_LENGTH = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRing:
    """The current key, and the retired keys still used to find older exposures."""

    current: bytes
    previous: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotation:
    """What a rotation did: the key retired and the key now current (ids only)."""

    retired: str
    current: str
    changed: bool


def check_value(key: bytes) -> str:
    return keyed_hash(key, _CHECK)


def key_id(key: bytes) -> str:
    """A short, printable name for a key; safe to show (it is cut from the check value)."""
    return check_value(key)[:_ID_LENGTH]


async def verify(store: Store, ring: KeyRing) -> None:
    """Refuse to run with a key that did not make this database's fingerprints.

    Records the key of a database that has none. Raises ConfigError with what to do otherwise.
    """
    known = await store.fingerprint_keys()
    if not known:
        await store.record_first_key(key_id(ring.current), check_value(ring.current))
        known = await store.fingerprint_keys()
    problem = refusal(known, ring)
    if problem is not None:
        raise ConfigError(problem)


def refusal(known: Sequence[StoredKey], ring: KeyRing) -> str | None:
    """Why `ring` cannot run against a database holding the `known` keys; None when it can (or
    when the database records no key yet). Names keys by id only."""
    if not known:
        return None
    current = _current(known)
    if current.check_value != check_value(ring.current):
        return _mismatch(ring.current, current, known)
    given = {check_value(k) for k in ring.previous}
    missing = [k.key_id for k in known if k.role == "previous" and k.check_value not in given]
    if missing:
        return (
            f"this database holds fingerprints made by retired key(s) {', '.join(missing)}; "
            f"give them in {HMAC_KEY_PREVIOUS_ENV} (comma-separated) so the exposures they "
            "fingerprinted are recognised, not created again"
        )
    unknown = [key_id(k) for k in ring.previous if check_value(k) not in _checks(known)]
    if unknown:
        return (
            f"{HMAC_KEY_PREVIOUS_ENV}: key(s) {', '.join(unknown)} never made this database's "
            "fingerprints (check for a typo or stray whitespace)"
        )
    return None


async def rotate(store: Store, ring: KeyRing) -> Rotation:
    """Make `ring.current` the current key; the key it replaces must be among `ring.previous`.

    Running it again after it succeeded changes nothing.
    """
    known = await store.fingerprint_keys()
    new_id = key_id(ring.current)
    if not known:
        raise ConfigError("this database records no key yet: nothing to rotate (just run)")
    current = _current(known)
    if current.check_value == check_value(ring.current):
        return Rotation(retired="", current=new_id, changed=False)
    if current.check_value not in {check_value(k) for k in ring.previous}:
        raise ConfigError(
            f"to rotate, give the current key (id {current.key_id}) in {HMAC_KEY_PREVIOUS_ENV} "
            f"and the new key in {HMAC_KEY_ENV}"
        )
    await store.rotate_key(
        retire=current.key_id, key_id=new_id, check_value=check_value(ring.current)
    )
    return Rotation(retired=current.key_id, current=new_id, changed=True)


async def rotate_database(dsn: str, ring: KeyRing) -> Rotation:
    """`rotate` on the database at `dsn` (created and migrated when needed)."""
    pool = await db.open_pool(dsn, max_size=2)
    try:
        return await rotate(Store(pool), ring)
    finally:
        await pool.close()


def _current(known: Sequence[StoredKey]) -> StoredKey:
    return next(k for k in known if k.role == "current")


def _checks(known: Sequence[StoredKey]) -> set[str]:
    return {k.check_value for k in known}


def _mismatch(key: bytes, current: StoredKey, known: Sequence[StoredKey]) -> str:
    text = (
        f"{HMAC_KEY_ENV} (key id {key_id(key)}) is not the key that made this database's "
        f"fingerprints (key id {current.key_id}); with it every exposure would be created, "
        "alerted and contained again."
    )
    stripped = key.strip()
    if stripped != key and check_value(stripped) == current.check_value:
        return f"{text} The key given has surrounding whitespace; the stored one does not."
    if check_value(key) in _checks(known):
        return f"{text} That key was retired by a rotation."
    return f"{text} To change keys, run `credwatch db rotate-key` (see its --help)."
