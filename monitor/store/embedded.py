"""Start (or reuse) a private PostgreSQL under a data directory when no CREDWATCH_DSN is given."""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import StoreError

log = logging.getLogger(__name__)

_SERVICE_USER = "postgres"  # initdb refuses to run as root; Debian's package creates this user


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddedServer:
    root: Path  # holds data/, run/ (socket) and server.log
    bindir: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def dsn(self, database: str = "credwatch") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port=5432"


def find_bindir() -> Path:
    """The PostgreSQL server binaries: $CREDWATCH_PG_BINDIR, Debian's layout, then PATH."""
    if os.environ.get("CREDWATCH_PG_BINDIR"):
        given = Path(os.environ["CREDWATCH_PG_BINDIR"])
        if not (given / "initdb").is_file():
            raise StoreError(
                f"CREDWATCH_PG_BINDIR={given}: no initdb there (point it at PostgreSQL's bin "
                "directory, e.g. /usr/lib/postgresql/16/bin, or unset it)",
                retryable=False,
            )
        return given
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise StoreError(
        "no PostgreSQL server binaries found (install Debian's 'postgresql' package, "
        "or set CREDWATCH_DSN to an existing server)",
        retryable=False,
    )


def _run_as() -> dict[str, object]:
    """subprocess arguments that drop root to the service user (initdb refuses root)."""
    if os.geteuid() != 0:
        return {}
    try:
        pw = pwd.getpwnam(_SERVICE_USER)
    except KeyError:
        raise StoreError(
            f"running as root needs the '{_SERVICE_USER}' system user (Debian's postgresql "
            "package creates it)",
            retryable=False,
        ) from None
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _grant_traverse(path: Path) -> None:
    """As root, let the service user reach its directory: add o+x (traverse, not list) upwards."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)
            log.info("directory made traversable for the database", extra={"path": str(parent)})


def _prepare_dirs(server: EmbeddedServer) -> None:
    server.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    server.socket_dir.mkdir(exist_ok=True, mode=0o700)
    if os.geteuid() == 0:
        pw = pwd.getpwnam(_SERVICE_USER)
        for p in (server.root, server.socket_dir):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        if server.data.exists():
            os.chown(server.data, pw.pw_uid, pw.pw_gid)
        _grant_traverse(server.root.parent)


def _run(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args,
        capture_output=True,
        text=True,
        check=False,
        **_run_as(),
        **kw,  # type: ignore[call-overload]
    )
    return result  # type: ignore[no-any-return]


def is_running(server: EmbeddedServer) -> bool:
    if not (server.data / "PG_VERSION").exists():
        return False
    res = _run([str(server.bindir / "pg_ctl"), "-D", str(server.data), "status"])
    return res.returncode == 0


def ensure_running(root: Path) -> EmbeddedServer:
    """Create the cluster on first use, start it if stopped, and return it. Idempotent."""
    server = EmbeddedServer(root=root.resolve(), bindir=find_bindir())
    _prepare_dirs(server)
    if not (server.data / "PG_VERSION").exists():
        res = _run(
            [
                str(server.bindir / "initdb"),
                "-D", str(server.data),
                "-U", "postgres",
                "--auth=trust",
                "-E", "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )  # fmt: skip
        if res.returncode != 0:
            raise StoreError(
                f"initdb failed in {server.data}: {res.stderr.strip()}", retryable=False
            )
        log.info("database cluster created", extra={"path": str(server.data)})
    if is_running(server):
        return server
    options = (
        f"-c listen_addresses='' -c unix_socket_directories='{server.socket_dir}' "
        "-c port=5432 -c max_connections=50 -c shared_buffers=64MB"
    )
    res = _run(
        [
            str(server.bindir / "pg_ctl"),
            "-D", str(server.data),
            "-l", str(server.log_file),
            "-o", options,
            "-w", "-t", "60",
            "start",
        ]
    )  # fmt: skip
    if res.returncode != 0 and not is_running(server):
        raise StoreError(
            f"PostgreSQL did not start (see {server.log_file}): {res.stderr.strip()[-500:]}",
            retryable=False,
        )
    return server


def stop(root: Path, *, mode: str = "fast") -> bool:
    server = EmbeddedServer(root=root.resolve(), bindir=find_bindir())
    if not is_running(server):
        return False
    _run([str(server.bindir / "pg_ctl"), "-D", str(server.data), "-m", mode, "-w", "stop"])
    for _ in range(50):
        if not is_running(server):
            return True
        time.sleep(0.1)
    return not is_running(server)
