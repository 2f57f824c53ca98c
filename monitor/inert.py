"""Attacker-controlled text made inert for display: the one rule shared by every channel and the
partner report.

Everything read from a dump (host, login, URL, origin, cookie name, stealer family, country) is
attacker-controlled. It is stripped of control and invisible characters, capped in length and
"defanged" (`hxxps://evil[.]example`) so that no channel turns it into a link; each channel then
escapes it for its own markup. The organisation's own identifiers (its logins, domains and
portals) are cleaned but not defanged: an admin copies them into the identity provider.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VALUE_MAX = 300  # one value from a dump (host, login, URL...)

_INVISIBLE = re.compile(
    "[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u206f\u3164\ud800-\udfff\ufe00-\ufe0f\ufeff\ufff9-\ufffb]"
)
_SCHEME = re.compile(r"(?i)\b(h)tt(ps?)(?=[:\[])|\b(f)t(p)(?=[:\[])")


def clean(text: str | None, limit: int = VALUE_MAX) -> str:
    """One line of text: control/invisible/bidi characters removed, whitespace collapsed, capped."""
    if not text:
        return ""
    return cut(" ".join(_INVISIBLE.sub(" ", text).split()), limit)


def cut(text: str, limit: int) -> str:
    """`text` shortened to at most `limit` characters, ending with "…" when shortened."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "…"


def defang(text: str) -> str:
    """Make URLs, domains and e-mail domains unclickable: `hxxps://evil[.]example`."""
    text = _SCHEME.sub(lambda m: f"{m[1]}xx{m[2]}" if m[1] else f"{m[3]}x{m[4]}", text)
    return text.replace("://", "[://]").replace(".", "[.]")


def hostile(text: str | None, limit: int = VALUE_MAX) -> str:
    """Attacker-controlled text made safe for display in any channel (before channel escaping)."""
    return defang(clean(text, limit))


def shown(text: str | None, *, own: bool, limit: int = VALUE_MAX) -> str:
    """A value as displayed: the organisation's own identifiers cleaned only (copied into the
    identity provider as they are), anything else from a dump cleaned and defanged."""
    return clean(text, limit) if own else hostile(text, limit)


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """A piece of displayed text, already inert: plain words, or a code span (identifiers,
    masked hints, commands) that a channel shows as code and never turns into a link."""

    text: str
    code: bool = False


Line = tuple[Span, ...]


def plain(line: Line) -> str:
    return "".join(s.text for s in line)
