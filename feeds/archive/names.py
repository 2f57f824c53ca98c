"""Member names are hostile input: turn one into a label that is never usable as a path."""

from __future__ import annotations

import re

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def safe_name(raw: str) -> str:
    """A member name usable only as a label: "/" separators, no root, drive, "." or "..".

    Backslashes become "/", control characters "_"; an empty result is "_".
    """
    text = _CONTROL_CHARS.sub("_", raw.replace("\\", "/"))
    parts: list[str] = []
    for part in text.split("/"):
        if not parts:
            part = _DRIVE.sub("", part)
        if part in ("", ".", ".."):
            continue
        parts.append(part)
    return "/".join(parts) or "_"
