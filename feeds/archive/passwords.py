"""The passwords of one walk: tried in order, the last one that worked first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO, BinaryIO

from feeds.archive.errors import ArchiveError, LimitExceeded
from feeds.archive.member import HEAD_SIZE
from feeds.archive.streams import put_back
from feeds.textio import read_head


class PasswordRing:
    """The configured archive passwords, most recently successful first (sets often share one)."""

    __slots__ = ("_passwords",)

    def __init__(self, passwords: Sequence[str]) -> None:
        self._passwords = list(dict.fromkeys(passwords))

    def candidates(self) -> list[str]:
        """The passwords to try, in order (a copy: `remember` may reorder while one is tried)."""
        return list(self._passwords)

    def remember(self, password: str) -> None:
        """Try a password that worked first next time."""
        if self._passwords and self._passwords[0] != password:
            self._passwords.remove(password)
            self._passwords.insert(0, password)

    def open_member(
        self, open_: Callable[[bytes], IO[bytes]], guard: Callable[[IO[bytes]], BinaryIO]
    ) -> BinaryIO:
        """Open an encrypted member with the first password whose data decodes."""
        for password in self.candidates():
            try:
                raw = open_(password.encode("utf-8"))
            except RuntimeError:
                continue  # wrong password (the check bytes said so)
            stream = guard(raw)
            try:
                head = read_head(stream, HEAD_SIZE)
            except LimitExceeded:
                stream.close()
                raise
            except ArchiveError:
                stream.close()
                continue  # the check bytes matched by chance: the data does not decode
            self.remember(password)
            return put_back(head, stream)
        raise ArchiveError("encrypted, no configured password fits")
