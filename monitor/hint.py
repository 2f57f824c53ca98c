"""The masked hint of a leaked secret: the one rule for what of a secret may ever be shown.

At most two characters are revealed (none of a short secret, the first of a medium one, the
first and last of a long one) and the length only as a bucket: `s…(8–11)`, `P…!(16–23)`,
`…(1–7)`. Partners never get even that (monitor.partner_report leaves it out).
"""

from __future__ import annotations

# (lowest length, highest length or None) of each bucket, and how many characters it reveals
BUCKETS: tuple[tuple[int, int | None, int], ...] = (
    (0, 0, 0),
    (1, 7, 0),
    (8, 11, 1),
    (12, 15, 1),
    (16, 23, 2),
    (24, None, 2),
)
ELLIPSIS = "…"


def _printable(text: str) -> str:
    """Lone surrogates (undecodable bytes) and control characters become `?`."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(c if c.isprintable() and not "\ud800" <= c <= "\udfff" else "?" for c in text)


def bucket(length: int) -> tuple[str, int]:
    """The length bucket's label (`8–11`, `24+`) and how many characters it may reveal."""
    for low, high, shown in BUCKETS:
        if high is None:
            return f"{low}+", shown
        if low <= length <= high:
            return (f"{low}" if low == high else f"{low}–{high}"), shown
    return "?", 0  # a negative length: nothing to reveal


def mask(value: str) -> str:
    """The hint of `value`: first character, `…`, last character when long, length bucket."""
    label, shown = bucket(len(value))
    head = value[:1] if shown >= 1 else ""
    tail = value[-1:] if shown >= 2 else ""
    return f"{_printable(head)}{ELLIPSIS}{_printable(tail)}({label})"
