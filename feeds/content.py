"""What a member holds, read from its first bytes: the name is only a hint, the content decides."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from feeds.cookies import parse_cookie_line
from feeds.stealer_passwords import labelled_fields
from feeds.textio import mostly_binary

_IMAGE_EXT = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"RIFF")
_BINARY_EXT = (".ldb", ".log.old", ".exe", ".dll", ".db", ".sqlite", ".sqlite3", ".dat")
_SAMPLE_LINES = 40


class Content(StrEnum):
    """The kind of a member, as its head shows it."""

    SCREENSHOT = "screenshot"
    BINARY = "binary"
    COOKIES = "cookies"  # Netscape cookie lines
    PASSWORD_BLOCKS = "password_blocks"  # noqa: S105  # labelled url/login/password blocks
    TEXT = "text"  # anything else that is text: breach corpora, ULP lines, combos


def _sample(head: bytes) -> list[str]:
    """Up to `_SAMPLE_LINES` non-blank lines of the head; a line cut by the head's end is dropped."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines.pop()
    return [line for line in lines if line.strip()][:_SAMPLE_LINES]


def is_cookie_text(lines: list[str]) -> bool:
    """Most lines that are not comments are Netscape cookie lines (at least one)."""
    body = [ln for ln in lines if not ln.lstrip().startswith("#") or ln.startswith("#HttpOnly_")]
    if not body:
        return False
    good = sum(parse_cookie_line(0, ln) is not None for ln in body)
    return good > 0 and good * 2 > len(body)


def is_password_blocks(lines: list[str]) -> bool:
    """Labelled url/password fields make up half the lines or more (banners allowed)."""
    fields: set[str] = set()
    labelled = 0
    for line in lines:
        found = labelled_fields(line)
        if found:
            labelled += 1
            fields.update(found)
    return (
        "password" in fields
        and ("url" in fields or "login" in fields)
        and labelled * 2 >= len(lines)
    )


def sniff_content(head: bytes, name: str) -> Content:
    """The kind of a member from its head (`name` only tells a screenshot from other binaries)."""
    lower = name.lower()
    if head.startswith(_IMAGE_MAGIC) or lower.endswith(_IMAGE_EXT):
        return Content.SCREENSHOT
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Content.TEXT  # UTF-16 with a BOM: NUL bytes are expected
    if mostly_binary(head[:4096]) or lower.endswith(_BINARY_EXT):
        return Content.BINARY
    lines = _sample(head)
    if not lines:
        return Content.TEXT
    if is_cookie_text(lines):
        return Content.COOKIES
    if is_password_blocks(lines):
        return Content.PASSWORD_BLOCKS
    return Content.TEXT


def unknown_format(head: bytes, parses: Callable[[str], bool]) -> bool:
    """A text member whose sampled head lines mostly do not parse (`parses` says which do):
    neither ULP nor any shape sniffed before. UTF-16 heads are left to the line readers."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    lines = _sample(head)
    if not lines:
        return False
    good = sum(parses(line) for line in lines)
    return good * 2 < len(lines)
