"""`credwatch doctor`'s checks of the host: archive backends, the metrics address, folders.

Each looks and changes nothing: a port is bound and released at once, folders are stat()ed.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import urllib.request
from pathlib import Path

from monitor.doctor_types import Check, Status


def archive_backends() -> list[Check]:
    """RAR needs an external tool for compressed members; 7z is read by py7zr."""
    import rarfile

    checks: list[Check] = []
    try:
        setup = rarfile.tool_setup(force=True)
        tool = str(setup.setup["open_cmd"][0]).removesuffix("_TOOL").lower()
        checks.append(Check(name="archive rar", status=Status.OK, detail=f"backend: {tool}"))
    except rarfile.RarCannotExec:
        checks.append(
            Check(
                name="archive rar",
                status=Status.WARNING,
                detail="no RAR backend (unrar, unar, 7z or bsdtar) on PATH: compressed RAR "
                "members are skipped",
                fix="install one, e.g. `apt-get install unar` (the container image has it)",
            )
        )
    try:
        import py7zr  # noqa: F401

        checks.append(Check(name="archive 7z", status=Status.OK, detail="py7zr available"))
    except ImportError:
        checks.append(
            Check(
                name="archive 7z",
                status=Status.FAILED,
                detail="py7zr is not installed: .7z archives cannot be read",
                fix="reinstall credwatch with its dependencies",
            )
        )
    return checks


def screen_engine() -> Check:
    """Which engine screens text, as a scan picks it (`build_screen`): the system's Hyperscan
    (the CPU's SIMD), the wheel's (SSE only, slower) or the portable screen (several times
    slower)."""
    from monitor.fastscreen import HyperScreen
    from monitor.screen import build_screen

    screen = build_screen([b"credwatch"])
    if isinstance(screen, HyperScreen) and screen.native:
        return Check(
            name="screen engine", status=Status.OK, detail=f"system Hyperscan ({screen.engine})"
        )
    fix = "install the system's Hyperscan (`apt-get install libhyperscan5`; the image has it)"
    if not isinstance(screen, HyperScreen):
        return Check(
            name="screen engine",
            status=Status.WARNING,
            detail="no Hyperscan: the portable screen reads text several times more slowly",
            fix=fix,
        )
    return Check(
        name="screen engine",
        status=Status.WARNING,
        detail=f"the hyperscan wheel ({screen.engine}): SSE code only, slower than the system "
        "library where the CPU has AVX2 (0.5-0.7x in the README's benchmark)",
        fix=fix,
    )


def metrics_address(host: str, port: int) -> Check:
    """The address `serve` binds for /metrics: free now, or already held by a running credwatch."""
    name, where = "metrics address", f"{host}:{port}"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return Check(
            name=name,
            status=Status.FAILED,
            detail=f"{where}: cannot resolve the host ({exc.strerror})",
            fix="set [serve] metrics_host (or CREDWATCH_METRICS_HOST) to an address of this host",
        )
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE and _credwatch_answers(host, port):
                return Check(
                    name=name,
                    status=Status.OK,
                    detail=f"{where}: held by a running credwatch (its /healthz answers)",
                )
            return Check(
                name=name,
                status=Status.FAILED,
                detail=f"{where}: cannot bind ({exc.strerror})",
                fix="free the port or set [serve] metrics_port (or CREDWATCH_METRICS_PORT)",
            )
    return Check(name=name, status=Status.OK, detail=f"{where}: can bind")


def _credwatch_answers(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 (compared)
    if ":" in target:
        target = f"[{target}]"
    try:
        with urllib.request.urlopen(f"http://{target}:{port}/healthz", timeout=3) as reply:
            body = json.loads(reply.read(4096))
    except (OSError, ValueError):
        return False
    return isinstance(body, dict) and body.get("status") == "ok" and "last_progress_age" in body


def drop_folder(folder: Path | None) -> Check:
    """The drop folder: a folder this process can list and read, that others cannot write to."""
    name = "drop folder"
    if folder is None:
        return Check(name=name, status=Status.OK, detail="none configured ([serve] watch_dir)")
    try:
        st = folder.stat()
    except OSError as exc:
        return Check(
            name=name,
            status=Status.FAILED,
            detail=f"{folder}: {exc.strerror}",
            fix=f"create it (`mkdir -m 750 {folder}`) or fix [serve] watch_dir",
        )
    if not stat.S_ISDIR(st.st_mode):
        return Check(
            name=name,
            status=Status.FAILED,
            detail=f"{folder}: not a folder",
            fix="point [serve] watch_dir at a folder",
        )
    if not os.access(folder, os.R_OK | os.X_OK):
        return Check(
            name=name,
            status=Status.FAILED,
            detail=f"{folder}: this user (uid {os.getuid()}) cannot list it",
            fix=f"give uid {os.getuid()} read and execute access (`chmod u+rx` or a group)",
        )
    if st.st_mode & stat.S_IWOTH:
        return Check(
            name=name,
            status=Status.WARNING,
            detail=f"{folder}: any user of this host can write to it (mode "
            f"{stat.S_IMODE(st.st_mode):o}): anyone can have files scanned",
            fix=f"`chmod o-w {folder}`",
        )
    if st.st_mode & stat.S_IROTH:
        return Check(
            name=name,
            status=Status.WARNING,
            detail=f"{folder}: any user of this host can read it (mode "
            f"{stat.S_IMODE(st.st_mode):o}); dumps hold plaintext passwords",
            fix=f"`chmod o-rwx {folder}`",
        )
    return Check(
        name=name,
        status=Status.OK,
        detail=f"{folder}: readable by this user, closed to others (mode "
        f"{stat.S_IMODE(st.st_mode):o})",
    )


def sources(paths: tuple[Path, ...]) -> Check:
    """The nightly scan's sources: each present and readable."""
    name = "nightly sources"
    if not paths:
        return Check(name=name, status=Status.OK, detail="none configured ([serve] sources)")
    missing = [p for p in paths if not p.exists()]
    unreadable = [p for p in paths if p.exists() and not os.access(p, os.R_OK)]
    if missing or unreadable:
        problems = [f"{p}: not found" for p in missing] + [f"{p}: unreadable" for p in unreadable]
        return Check(
            name=name,
            status=Status.WARNING,
            detail="; ".join(problems),
            fix="fix [serve] sources, or mount the folders they name",
        )
    return Check(name=name, status=Status.OK, detail=f"{len(paths)} present and readable")
