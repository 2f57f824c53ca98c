"""Walk files, folders and nested archives as a stream of members, safely and within limits.

`walk()` yields a `Member` for every readable file (on disk or inside zip, tar[.gz|.bz2|.xz],
7z, rar, and single .gz/.bz2/.xz streams, nested up to `ArchiveLimits.max_depth`) and a
`Problem` for everything it had to skip. It never raises for bad input and never writes
anything to disk except short-lived spool files (random names) under `workdir` for nested
archives that need seeking (zip, 7z, rar). Member names are hostile input: they are only ever
used as labels, sanitised, never as paths.

Reading a member can still fail half-way (a bad CRC is only known at the end of the data,
a bomb only once it inflates): `Member.open()` streams raise `FeedError` (an `ArchiveError`)
mid-read. Consumers must catch `FeedError` around reading a member, or use `read_member()`.

A `Member` is valid until the walk advances to the next item. Members of single-pass
containers (tar, 7z, compressed streams) are streamed: they can be re-opened (from byte 0)
only while less than `REPLAY_LIMIT` bytes of them have been read. `Member.head` holds the
first bytes of every member so consumers can classify it without opening it.

One module per job: `walker` dispatches; `zip`, `tar`, `sevenzip`, `rar` and `compressed`
list one kind of container each; `guards` holds the limits, `disk` the folder walk.
"""

from feeds.archive.entries import REPLAY_LIMIT
from feeds.archive.errors import ArchiveError, LimitExceeded
from feeds.archive.member import HEAD_SIZE, Member, read_member
from feeds.archive.names import safe_name
from feeds.archive.sniff import sniff_archive
from feeds.archive.walker import walk
from monitor.types import Problem

__all__ = [
    "HEAD_SIZE",
    "REPLAY_LIMIT",
    "ArchiveError",
    "LimitExceeded",
    "Member",
    "Problem",
    "read_member",
    "safe_name",
    "sniff_archive",
    "walk",
]
