"""The identity screen on disk: one versioned, checksummed file, read without parsing accounts.

Layout (little-endian): a fixed head (magic, format version, length of the JSON meta, SHA-256
of meta and payload), the JSON meta (what it was built from, sizes, combos, needles), then the
payload: the pybloom-live filter (its own format), the sorted fingerprints (high and low 64
bits), each account's combo index and IdP user id offsets, the IdP user ids. Loading is one read,
one checksum and zero-copy views: about 0.1 s for a million accounts.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.bloom import KeyBloom
from monitor.errors import CredwatchError
from monitor.identity_index import IdentityIndex, pair_seed
from monitor.identity_tokens import domain_key

MAGIC = b"CWIDSCRN"
FORMAT = 1
_HEAD = struct.Struct("<8sII32s")


class ScreenFileError(CredwatchError):
    """A persisted identity screen is unreadable, truncated, corrupt or of another format."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Loaded:
    index: IdentityIndex
    meta: dict[str, Any]


def save(path: Path, index: IdentityIndex, meta: dict[str, Any]) -> None:
    """Write atomically (a temporary file renamed over `path`)."""
    n = len(index)
    bloom = index.bloom.to_bytes()
    domains = b"\n".join(index.domains)
    compiled = index.scanner_db or scanner_db(index.domains)
    parts = [
        bloom,
        domains,
        compiled,
        _bytes(index.fp_hi, "Q"),
        _bytes(index.fp_lo, "Q"),
        _bytes(index.combo, "I"),
        _bytes(index.id_offsets, "I"),
        index.ids,
    ]
    full = {
        **meta,
        "format": FORMAT,
        "accounts": n,
        "bloom_bytes": len(bloom),
        "domains_bytes": len(domains),
        "scanner_bytes": len(compiled),
        "ids_bytes": len(index.ids),
        "combos": [list(c) for c in index.combos],
        "needles": [n.hex() for n in index.needles],
        "full_pass": index.full_pass,
        "bloom_fp_rate": index.bloom.expected_fp_rate(),
    }
    raw_meta = json.dumps(full, sort_keys=True).encode("utf-8")
    digest = hashlib.sha256(raw_meta)
    for p in parts:
        digest.update(p)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(_HEAD.pack(MAGIC, FORMAT, len(raw_meta), digest.digest()))
            fh.write(raw_meta)
            for p in parts:
                fh.write(p)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def load(path: Path, key: bytes) -> Loaded:
    """Read a screen written by `save`; anything amiss raises ScreenFileError saying what."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScreenFileError(f"{path}: cannot read identity screen: {exc.strerror}") from None
    if len(data) < _HEAD.size:
        raise ScreenFileError(f"{path}: identity screen truncated")
    magic, fmt, meta_len, digest = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise ScreenFileError(f"{path}: not a credwatch identity screen")
    if fmt != FORMAT:
        raise ScreenFileError(f"{path}: identity screen format {fmt}, this version reads {FORMAT}")
    body = memoryview(data)[_HEAD.size :]
    if len(body) < meta_len or hashlib.sha256(body).digest() != digest:
        raise ScreenFileError(f"{path}: identity screen checksum mismatch (corrupt or truncated)")
    try:
        meta = json.loads(bytes(body[:meta_len]))
        n = int(meta["accounts"])
        sizes = (
            int(meta["bloom_bytes"]),
            int(meta["domains_bytes"]),
            int(meta["scanner_bytes"]),
            8 * n,
            8 * n,
            4 * n,
            4 * (n + 1),
            int(meta["ids_bytes"]),
        )
        if meta_len + sum(sizes) != len(body) or sys.byteorder != "little":
            raise ValueError("sizes")
        views = []
        at = meta_len
        for size in sizes:
            views.append(body[at : at + size])
            at += size
        bloom = KeyBloom.from_bytes(bytes(views[0]))
        seed = pair_seed(key)
        domains = tuple(bytes(views[1]).split(b"\n")) if views[1] else ()
        index = IdentityIndex(
            key=key,
            seed=seed,
            bloom=bloom,
            domains=domains,
            domain_keys=frozenset(domain_key(d, seed) for d in domains),
            scanner_db=bytes(views[2]),
            fp_hi=views[3].cast("Q"),
            fp_lo=views[4].cast("Q"),
            combo=views[5].cast("I"),
            combos=tuple((c[0], c[1]) for c in meta["combos"]),
            id_offsets=views[6].cast("I"),
            ids=bytes(views[7]),
            needles=tuple(bytes.fromhex(x) for x in meta["needles"]),
            full_pass=bool(meta["full_pass"]),
        )
    except (ValueError, KeyError, TypeError, IndexError, struct.error) as exc:
        raise ScreenFileError(f"{path}: identity screen malformed ({type(exc).__name__})") from None
    return Loaded(index=index, meta=meta)


def scanner_db(domains: tuple[bytes, ...]) -> bytes:
    """The domains' compiled Hyperscan database, or nothing where Hyperscan is missing."""
    try:
        from monitor.identity_hyper import dump
    except ImportError:
        return b""
    return dump(domains)


def _bytes(values: Any, code: str) -> bytes:
    if isinstance(values, memoryview | array):
        return values.tobytes()
    return array(code, values).tobytes()
