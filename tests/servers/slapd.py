"""A throwaway OpenLDAP slapd with the ppolicy overlay on a free loopback port, in a temp dir."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():
    # ldap3 2.9.1 imports names newer pyasn1 releases deprecate (`tagMap`...): harmless.
    warnings.filterwarnings("ignore", r".* is deprecated\. Please use .*", DeprecationWarning)
    from ldap3 import Connection, Server

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
SLAPTEST = Path("/usr/sbin/slaptest")
SUFFIX = "dc=example,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "adminpw"
LEAKED_PASSWORD = "Leaked#Pass1"  # synthetic: the "leaked" password of every fixture user
RUN_AS = "nobody"

CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
database mdb
suffix "{suffix}"
rootdn "{admin}"
rootpw {admin_pw}
directory {dir}/db
maxsize 16777216
overlay ppolicy
ppolicy_default "cn=default,ou=policies,{suffix}"
ppolicy_use_lockout
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by self read
    by users read
    by * none
"""

BASE = """\
dn: {suffix}
objectClass: dcObject
objectClass: organization
dc: example
o: Example Test

dn: ou=people,{suffix}
objectClass: organizationalUnit
ou: people

dn: ou=policies,{suffix}
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,{suffix}
objectClass: applicationProcess
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdMustChange: TRUE
pwdAllowUserChange: TRUE
pwdLockout: TRUE
"""

USER = """
dn: uid={uid},ou=people,{suffix}
objectClass: inetOrgPerson
uid: {uid}
cn: {uid}
sn: {uid}
mail: {mail}
userPassword: {password}
"""


def available() -> bool:
    return SLAPD.exists() and SLAPADD.exists() and SLAPTEST.exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Slapd:
    directory: Path
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def dn(self, uid: str) -> str:
        return f"uid={uid},ou=people,{SUFFIX}"

    def admin(self) -> Connection:
        return Connection(Server(self.url), ADMIN_DN, ADMIN_PASSWORD, auto_bind=True)

    def binds(self, uid: str, password: str) -> bool:
        """Does a simple bind as `uid` with `password` succeed?"""
        conn = Connection(Server(self.url), self.dn(uid), password)
        try:
            return bool(conn.bind())
        finally:
            conn.unbind()

    def attribute(self, uid: str, name: str) -> str | None:
        conn = self.admin()
        try:
            conn.search(self.dn(uid), "(objectClass=*)", attributes=[name])
            entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
            values = entries[0]["raw_attributes"].get(name) if entries else None
            return values[0].decode() if values else None
        finally:
            conn.unbind()

    def stop(self) -> None:
        """Stop this slapd by its own PID, then remove its directory."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        shutil.rmtree(self.directory, ignore_errors=True)


def start(users: list[dict[str, str]]) -> Slapd:
    """Start slapd with the given users (`uid`, `mail`, optional `pwdChangedTime`).

    As root, the daemon and its files belong to `nobody` (the directory lives under /tmp so
    `nobody` can reach it). Stop with `Slapd.stop()`.
    """
    directory = Path(tempfile.mkdtemp(prefix="cw-slapd-", dir="/tmp"))
    (directory / "db").mkdir()
    fmt = {"dir": directory, "suffix": SUFFIX, "admin": ADMIN_DN, "admin_pw": ADMIN_PASSWORD}
    (directory / "slapd.conf").write_text(CONF.format(**fmt))
    ldif = BASE.format(suffix=SUFFIX)
    for u in users:
        ldif += USER.format(suffix=SUFFIX, uid=u["uid"], mail=u["mail"], password=LEAKED_PASSWORD)
        if "pwdChangedTime" in u:
            ldif += f"pwdChangedTime: {u['pwdChangedTime']}\n"
    (directory / "base.ldif").write_text(ldif)

    as_user: dict[str, object] = {}
    if os.geteuid() == 0:
        entry = pwd.getpwnam(RUN_AS)
        for path in [directory, *directory.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
        as_user = {"user": entry.pw_uid, "group": entry.pw_gid}
    conf = str(directory / "slapd.conf")
    port = free_port()
    url = f"ldap://127.0.0.1:{port}/"
    for cmd in (
        [str(SLAPTEST), "-u", "-f", conf, "-Q"],
        [str(SLAPADD), "-f", conf, "-l", str(directory / "base.ldif"), "-q"],
        [str(SLAPD), "-f", conf, "-h", url],  # daemonizes and writes slapd.pid
    ):
        subprocess.run(cmd, check=True, capture_output=True, timeout=30, **as_user)  # type: ignore[call-overload]

    pid_file = directory / "slapd.pid"
    for _ in range(100):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        time.sleep(0.05)
    server = Slapd(directory=directory, port=port, pid=int(pid_file.read_text().strip()))
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            time.sleep(0.05)
            continue
        server.admin().unbind()
        return server
    server.stop()
    raise RuntimeError("slapd did not come up")
