"""The asyncpg connection pool: connect (embedded server or CREDWATCH_DSN), create the database, migrate."""

from __future__ import annotations

import logging
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import platformdirs

from monitor.config import DSN_ENV
from monitor.errors import StoreError
from monitor.settings import env_or_file
from monitor.store import embedded
from monitor.store.migrate import migrate

log = logging.getLogger(__name__)


PASSWORD_ENV = "CREDWATCH_DB_PASSWORD"  # noqa: S105 (a variable name) -- or CREDWATCH_DB_PASSWORD_FILE; kept out of the DSN


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    dsn: str
    embedded_root: Path | None  # set when credwatch runs its own server
    password: str | None = None  # from CREDWATCH_DB_PASSWORD(_FILE); overrides the DSN's


def data_dir() -> Path:
    """Where credwatch keeps its own files: $CREDWATCH_HOME or the user's data directory."""
    home = os.environ.get("CREDWATCH_HOME")
    return Path(home) if home else Path(platformdirs.user_data_dir("credwatch"))


def resolve_target() -> Target:
    """CREDWATCH_DSN when set; otherwise the embedded server under the data directory."""
    dsn = os.environ.get(DSN_ENV, "").strip()
    if dsn:
        password = env_or_file(PASSWORD_ENV, os.environ, strip=False).rstrip("\r\n") or None
        return Target(dsn=dsn, embedded_root=None, password=password)
    root = data_dir() / "postgres"
    server = embedded.ensure_running(root)
    return Target(dsn=server.dsn(), embedded_root=root)


def redact(dsn: str) -> str:
    """Only the DSN's scheme, user, host, port and database, whatever characters the password
    holds (`@ / # : ? %` included): for messages. A `key=value` DSN keeps its non-secret keys."""
    scheme, sep, rest = dsn.strip().partition("://")
    if not sep:
        kept = (w for w in dsn.split() if w.partition("=")[0].lower() in _KEYWORDS_SHOWN)
        return " ".join(kept)
    # The host never holds '@': everything before the last one is userinfo.
    userinfo, at, hostpart = rest.rpartition("@")
    user = urllib.parse.unquote(userinfo.partition(":")[0]) if at else ""
    hostport, _, tail = hostpart.partition("/")
    hostport = hostport.partition("?")[0]
    database = tail.partition("?")[0].partition("#")[0]
    who = f"{urllib.parse.quote(user, safe='')}@" if user else ""
    return f"{scheme}://{who}{hostport}/{database}" if database else f"{scheme}://{who}{hostport}"


_KEYWORDS_SHOWN = frozenset({"host", "hostaddr", "port", "dbname", "user"})


def _scrub(text: str, target: Target | str) -> str:
    """An error text without the password, should the driver have quoted the DSN."""
    dsn = target if isinstance(target, str) else target.dsn
    secrets = [urllib.parse.urlsplit(dsn).password if "://" in dsn else None]
    if isinstance(target, Target):
        secrets.append(target.password)
    userinfo = dsn.partition("://")[2].rpartition("@")[0]
    secrets.append(userinfo.partition(":")[2] or None)
    for secret in filter(None, secrets):
        text = text.replace(secret, "***")
        text = text.replace(urllib.parse.unquote(secret), "***")
    return text.replace(dsn, redact(dsn))


async def ensure_database(dsn: str, *, password: str | None = None) -> None:
    """Create the DSN's database when it does not exist yet (connects to 'postgres' to do so)."""
    parts = urllib.parse.urlsplit(dsn)
    name = parts.path.lstrip("/") or "postgres"
    try:
        conn = await asyncpg.connect(dsn, password=password, timeout=10)
    except asyncpg.InvalidCatalogNameError:
        admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
        conn = await asyncpg.connect(admin, password=password, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            pass
        finally:
            await conn.close()
        return
    await conn.close()


async def _session_kept(_conn: asyncpg.Connection) -> None:
    """A connection goes back to the pool as it is, without asyncpg's default reset query (a round
    trip per release: `RESET ALL`, `UNLISTEN *`, advisory unlocks, `CLOSE ALL`). The store leaves
    no session state behind: no SET, LISTEN, advisory lock or cursor outside a transaction (the
    queue listens on a connection of its own). asyncpg still rolls back a transaction left open."""


async def open_pool(
    dsn: str, *, password: str | None = None, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    """Connect, create the database if needed and apply migrations."""

    def create() -> asyncpg.Pool:
        return asyncpg.create_pool(
            dsn,
            password=password,
            min_size=min_size,
            max_size=max_size,
            timeout=10,
            reset=_session_kept,
        )

    try:
        try:
            pool = await create()
        except asyncpg.InvalidCatalogNameError:  # first start: create the database
            await ensure_database(dsn, password=password)
            pool = await create()
    except (OSError, ValueError, asyncpg.PostgresError, TimeoutError) as exc:
        where = redact(dsn)
        reason = _scrub(str(exc), Target(dsn=dsn, embedded_root=None, password=password))
        raise StoreError(f"cannot connect to PostgreSQL at {where}: {reason}") from None
    assert pool is not None
    async with pool.acquire() as conn:
        await migrate(conn)
    return pool


async def open_existing_pool(dsn: str, *, password: str | None = None) -> asyncpg.Pool:
    """Connect to a database as it is: nothing created, nothing migrated (for `credwatch doctor`)."""
    try:
        pool = await asyncpg.create_pool(dsn, password=password, min_size=1, max_size=2, timeout=10)
    except (OSError, ValueError, asyncpg.PostgresError, TimeoutError) as exc:
        where = redact(dsn)
        reason = _scrub(str(exc), Target(dsn=dsn, embedded_root=None, password=password))
        raise StoreError(f"cannot connect to PostgreSQL at {where}: {reason}") from None
    assert pool is not None
    return pool


async def migrate_database(dsn: str, *, password: str | None = None) -> list[str]:
    """Create the DSN's database if needed and apply what is missing; returns the names applied."""
    await ensure_database(dsn, password=password)
    conn = await asyncpg.connect(dsn, password=password)
    try:
        return await migrate(conn)
    finally:
        await conn.close()
