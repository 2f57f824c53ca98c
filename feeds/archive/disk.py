"""Files on disk: a folder walked in sorted order, symlinks kept inside it, litter skipped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from feeds.archive.names import safe_name
from feeds.stealer_layout import LITTER_FILES, LITTER_FOLDERS
from monitor.types import Problem

_LITTER = LITTER_FILES | LITTER_FOLDERS


def folder_files(root: Path, *, workdir: Path) -> Iterator[tuple[Path, str] | Problem]:
    """Every regular file under `root` as (path, name relative to `root`), or a `Problem`.

    Depth-first in sorted order: the files of a folder come before its subfolders. A symlink
    that leaves `root` is a `Problem`; one to a folder is skipped (its target is walked where
    it really is). `workdir` is never walked.
    """
    real_root = root.resolve()
    skip = {workdir.resolve()}
    stack: list[Path] = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            yield Problem(origin=str(folder), reason="unreadable folder")
            continue
        subfolders: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            if entry.name.lower() in _LITTER:
                continue
            if entry.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(real_root):
                    yield Problem(origin=str(path), reason="symlink leaves the tree")
                    continue
                if target.is_dir():
                    continue
            if entry.is_dir(follow_symlinks=False):
                if path.resolve() not in skip:
                    subfolders.append(path)
            elif entry.is_file():
                yield path, safe_name(path.relative_to(root).as_posix())
        stack.extend(reversed(subfolders))
