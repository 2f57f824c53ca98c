"""Spool files of stopped processes are swept at start; a live process's are kept; nothing
else in the work directory is touched."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from monitor import proc, spool


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def touch(path: Path, mtime: float | None = None) -> Path:
    path.write_bytes(b"nested archive bytes")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_sweep_removes_only_the_spool_files_of_stopped_processes(tmp_path: Path) -> None:
    boot = proc.boot_time()
    assert boot is not None
    gone = touch(tmp_path / f".credwatch-{dead_pid()}-x1y2z3ab.spool")
    mine = touch(tmp_path / f".credwatch-{os.getpid()}-abcdefgh.spool")
    # pid 1 is alive, but it started at boot: a file older than that was left by an earlier pid 1.
    reused = touch(tmp_path / ".credwatch-1-qwertyui.spool", mtime=boot - 3600)
    # A file named before names carried a pid: removed once it predates the boot.
    old_style = touch(tmp_path / ".credwatch-zxcvbnm_.spool", mtime=boot - 3600)
    recent_old_style = touch(tmp_path / ".credwatch-asdfghjk.spool")
    other = touch(tmp_path / "notes.credwatch-1-x.spool")
    assert spool.sweep(tmp_path) == 3
    assert not gone.exists() and not reused.exists() and not old_style.exists()
    assert mine.exists() and recent_old_style.exists() and other.exists()


def test_a_live_process_keeps_its_spool_files(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.05)
        theirs = touch(tmp_path / f".credwatch-{child.pid}-abcdefgh.spool")
        assert spool.sweep(tmp_path) == 0 and theirs.exists()
    finally:
        child.kill()
        child.wait()
    assert spool.sweep(tmp_path) == 1 and not theirs.exists()


def test_remove_own_takes_this_process_files_only(tmp_path: Path) -> None:
    mine = touch(tmp_path / f".credwatch-{os.getpid()}-abcdefgh.spool")
    other = touch(tmp_path / ".credwatch-1-abcdefgh.spool")
    assert spool.remove_own(tmp_path) == 1
    assert not mine.exists() and other.exists()


def test_an_owner_survives_its_text_and_a_reused_pid_is_not_alive() -> None:
    me = proc.me()
    assert proc.Owner.parse(str(me)) == me
    assert proc.alive(me) is True
    assert proc.alive(proc.Owner(host=me.host, pid=me.pid, started=me.started + 1)) is False
    assert proc.alive(proc.Owner(host=me.host, pid=dead_pid(), started=1)) is False
    assert proc.alive(proc.Owner(host="elsewhere/1", pid=me.pid, started=me.started)) is None
