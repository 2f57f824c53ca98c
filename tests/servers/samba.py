"""A throwaway Samba AD DC on 127.0.0.1:389/636, provisioned in a temp dir (root only)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

with warnings.catch_warnings():
    # ldap3 2.9.1 imports names newer pyasn1 releases deprecate (`tagMap`...): harmless.
    warnings.filterwarnings("ignore", r".* is deprecated\. Please use .*", DeprecationWarning)
    from ldap3 import MODIFY_REPLACE, Connection, Server, Tls

__all__ = ["MODIFY_REPLACE", "SambaDC", "available", "start", "why_not"]

SAMBA = Path("/usr/sbin/samba")
SAMBA_TOOL = Path("/usr/bin/samba-tool")
REALM = "CW.TEST"
BASE_DN = "DC=cw,DC=test"
ADMIN = "Administrator@cw.test"
ADMIN_PASSWORD = "Adm1n#Throwaway9"  # synthetic, for this throwaway domain only
LEAKED_PASSWORD = "Leaked#Pass1"  # synthetic: the "leaked" password of every fixture user
URL = "ldaps://127.0.0.1:636"
LOCK = Path("/tmp/cw-samba.lock")  # one DC per machine: the ports are fixed
PORTS = (389, 636)
UAC_NORMAL = 0x200
UAC_DONT_EXPIRE_PASSWORD = 0x10000


def available() -> bool:
    return SAMBA.exists() and SAMBA_TOOL.exists()


def why_not() -> str:
    if not available():
        return "samba-tool missing: bash scripts/system-deps.sh --test (as root)"
    return "a Samba AD DC needs root" if os.geteuid() != 0 else ""


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class SambaDC:
    directory: Path
    process: subprocess.Popen[bytes]
    lock: IO[str]
    users: dict[str, str] = field(default_factory=dict)  # sAMAccountName → DN

    def server(self) -> Server:
        return Server(URL, tls=Tls(validate=ssl.CERT_NONE), connect_timeout=5)

    def admin(self) -> Connection:
        return Connection(self.server(), ADMIN, ADMIN_PASSWORD, auto_bind=True)

    def dn(self, name: str) -> str:
        return f"CN={name},CN=Users,{BASE_DN}"

    def add_user(self, name: str, *, uac: int = UAC_NORMAL) -> str:
        """A user whose password is LEAKED_PASSWORD, with the given userAccountControl."""
        dn = self.dn(name)
        conn = self.admin()
        try:
            attrs = {
                "sAMAccountName": name,
                "userPrincipalName": f"{name}@cw.test",
                "mail": f"{name}@example.com",
            }
            classes = ["top", "person", "organizationalPerson", "user"]
            pwd = f'"{LEAKED_PASSWORD}"'.encode("utf-16-le")
            for ok in (
                lambda: conn.add(dn, classes, attrs),
                lambda: conn.modify(dn, {"unicodePwd": [(MODIFY_REPLACE, [pwd])]}),
                lambda: conn.modify(dn, {"userAccountControl": [(MODIFY_REPLACE, [uac])]}),
            ):
                if not ok():
                    raise RuntimeError(f"samba: adding {name} failed: {conn.result}")
        finally:
            conn.unbind()
        self.users[name] = dn
        return dn

    def bind_error(self, name: str, password: str) -> str | None:
        """None when `name` binds with `password`; otherwise AD's sub-code (52e, 533, 773...)."""
        conn = Connection(self.server(), f"{name}@cw.test", password)
        try:
            if conn.bind():
                return None
            message = str(conn.result.get("message", ""))
            return message.split("data ", 1)[1].split(",", 1)[0] if "data " in message else message
        finally:
            conn.unbind()

    def attribute(self, name: str, attr: str) -> str | None:
        conn = self.admin()
        try:
            conn.search(self.dn(name), "(objectClass=*)", attributes=[attr])
            entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
            values = entries[0]["raw_attributes"].get(attr) if entries else None
            return values[0].decode() if values else None
        finally:
            conn.unbind()

    def stop(self) -> None:
        """Stop this samba by its own PID, then remove its directory and release the lock."""
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)
        fcntl.flock(self.lock, fcntl.LOCK_UN)
        self.lock.close()


def start() -> SambaDC:
    """Provision a one-DC domain (LDAP service only, loopback only) and start it.

    Holds an exclusive lock on LOCK while it runs: the ports are fixed, so two test runs on the
    same machine take turns. Stop with `SambaDC.stop()`.
    """
    lock = LOCK.open("a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    directory = Path(tempfile.mkdtemp(prefix="cw-samba-", dir="/tmp"))
    try:
        busy = [p for p in PORTS if _listening(p)]
        if busy:
            raise RuntimeError(f"samba: ports {busy} already in use on 127.0.0.1")
        options = {
            "interfaces": "lo",
            "bind interfaces only": "yes",
            "server services": "ldap",
            "log file": f"{directory}/log.%m",
            "pid directory": str(directory),
        }
        subprocess.run(
            [
                str(SAMBA_TOOL),
                "domain",
                "provision",
                f"--targetdir={directory}",
                f"--realm={REALM}",
                "--domain=CW",
                "--server-role=dc",
                "--dns-backend=NONE",
                f"--adminpass={ADMIN_PASSWORD}",
                *(f"--option={k}={v}" for k, v in options.items()),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        with (directory / "samba.out").open("wb") as out:
            process = subprocess.Popen(
                [str(SAMBA), "-i", "-s", str(directory / "etc" / "smb.conf"), "-M", "single"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        lock.close()
        raise
    dc = SambaDC(directory=directory, process=process, lock=lock)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if _listening(636):
            with contextlib.suppress(Exception):
                dc.admin().unbind()
                return dc
        time.sleep(0.1)
    output = (directory / "samba.out").read_text(errors="replace")[-500:]
    dc.stop()
    raise RuntimeError(f"samba did not come up: {output}")
