"""Recognise a container by its magic bytes, whatever the file is called."""

from __future__ import annotations

import re

_BZ2 = re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)")

COMPRESSED = frozenset({"gz", "bz2", "xz"})
"""Single-stream compressors: one member inside, or a tar walked in place."""


def sniff_archive(head: bytes) -> str | None:
    """The container kind announced by magic bytes: zip, 7z, rar, gz, bz2, xz, tar or None."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith((b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00")):
        return "rar"
    if head.startswith(b"\x1f\x8b"):
        return "gz"
    if _BZ2.match(head[:10]):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if len(head) >= 512 and (head[257:262] == b"ustar" or _tar_checksum_ok(head[:512])):
        return "tar"
    return None


def _tar_checksum_ok(block: bytes) -> bool:
    """An old-style (pre-POSIX) tar header: its octal checksum field adds up."""
    if block[0] == 0:
        return False
    field_ = block[148:156].replace(b"\x00", b" ").strip()
    if not field_ or not all(48 <= c <= 55 for c in field_):
        return False
    stored = int(field_, 8)
    computed = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    return stored == computed
