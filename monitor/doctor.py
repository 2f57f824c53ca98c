"""`credwatch doctor`: check a deployment, piece by piece, without changing anything.

Config (and every plug-in section), the HMAC key, the database and its schema, the key the
database recorded, each notifier (a real message only when asked), each identity provider (an
authenticated read-only lookup of a login that does not exist), archive backends, the metrics
address and the drop folder. A check says ok only when it looked and found it so. No secret
is printed: every value a secret variable holds is masked in the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor import doctor_host, keys, logs, plugins
from monitor.config import DSN_ENV, HMAC_KEY_ENV, Config, hmac_key, load_config, previous_hmac_keys
from monitor.doctor_types import Check, Status
from monitor.errors import CredwatchError
from monitor.notify import Alert, AlertEvent
from monitor.plugin_sections import plugin_sections
from monitor.plugins import Family
from monitor.responder import AccountRef
from monitor.settings import SettingError, env_or_file
from monitor.store import db
from monitor.store.migrate import available
from monitor.store.store import UNAVAILABLE, Store
from monitor.types import CredentialKind, Exposure, ExposureStatus, Reason, Severity

TIMEOUT = 30.0  # seconds one remote check may take, retries included

__all__ = ["Check", "Status", "diagnose"]


@dataclass(slots=True)
class _Built:
    """The plug-ins that built, by family and name."""

    plugins: dict[tuple[Family, str], Any] = field(default_factory=dict)


async def diagnose(
    config_path: Path,
    *,
    env: Mapping[str, str],
    send_test: bool = False,
    metrics_host: str | None = None,
    metrics_port: int | None = None,
) -> list[Check]:
    """Every check, in order; secrets masked."""
    checks: list[Check] = []
    config = _config(config_path, checks)
    built = _Built()
    try:
        if config is not None:
            _build_plugins(config, env, checks, built)
        key = _key(env, checks)
        await _database(key, env, checks)
        for (family, name), plugin in built.plugins.items():
            if family is Family.NOTIFIERS:
                checks.append(await _notifier(name, plugin, send_test=send_test))
            elif family is Family.RESPONDERS:
                checks.append(await _responder(name, plugin))
        checks.extend(doctor_host.archive_backends())
        checks.append(doctor_host.screen_engine())
        if config is not None:
            host = metrics_host if metrics_host is not None else config.serve.metrics_host
            port = metrics_port if metrics_port is not None else config.serve.metrics_port
            checks.append(doctor_host.metrics_address(host, port))
            checks.append(doctor_host.drop_folder(config.serve.watch_dir))
            checks.append(doctor_host.sources(config.serve.sources))
    finally:
        for plugin in built.plugins.values():
            close = getattr(plugin, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):  # a failing close must not hide the report
                    await close()
    hidden = _secrets(config, env)
    return [c.scrubbed(hidden) for c in checks]


def _config(path: Path, checks: list[Check]) -> Config | None:
    try:
        config = load_config(path)
        logs.from_file(level=config.log.level, fmt=config.log.format)
    except CredwatchError as exc:
        checks.append(
            Check(
                name="config",
                status=Status.FAILED,
                detail=str(exc),
                fix="fix the file (`credwatch init example.toml` writes a commented example)",
            )
        )
        return None
    checks.append(
        Check(
            name="config",
            status=Status.OK,
            detail=f"{path} loads: organisation {config.organisation!r}, "
            f"{len(config.domains)} domain(s), {len(config.portals)} portal(s), "
            f"{len(config.partners)} partner(s)",
        )
    )
    return config


def _build_plugins(
    config: Config, env: Mapping[str, str], checks: list[Check], built: _Built
) -> None:
    """Each enabled plug-in section built as `serve` builds it (secrets read, nothing sent)."""
    try:
        by_family = plugin_sections(config).by_family()
    except SettingError as exc:
        checks.append(
            Check(
                name="responders",
                status=Status.FAILED,
                detail=str(exc.in_file(config.path)),
                fix="fix the section",
            )
        )
        return
    for family, sections in by_family:
        for name, section in sections.items():
            label = f"{family.value}.{name}"
            if section.get("enabled", True) is False:
                checks.append(Check(name=label, status=Status.OK, detail="disabled (not built)"))
                continue
            options = {k: v for k, v in section.items() if k != "enabled"}
            try:
                plugin = plugins.build(family, name, options, env)
            except SettingError as exc:
                checks.append(
                    Check(
                        name=label,
                        status=Status.FAILED,
                        detail=str(exc.in_file(config.path)),
                        fix="fix the section, or set the environment variable it names",
                    )
                )
                continue
            except CredwatchError as exc:
                checks.append(Check(name=label, status=Status.FAILED, detail=str(exc)))
                continue
            built.plugins[(family, name)] = plugin
            if family is Family.FEEDS:
                checks.append(Check(name=label, status=Status.OK, detail="section builds"))


def _key(env: Mapping[str, str], checks: list[Check]) -> keys.KeyRing | None:
    try:
        ring = keys.KeyRing(current=hmac_key(env), previous=previous_hmac_keys(env))
    except CredwatchError as exc:
        checks.append(
            Check(
                name="hmac key",
                status=Status.FAILED,
                detail=str(exc),
                fix=f"set {HMAC_KEY_ENV} or {HMAC_KEY_ENV}_FILE (a file only you can read)",
            )
        )
        return None
    checks.append(
        Check(
            name="hmac key",
            status=Status.OK,
            detail=f"present (key id {keys.key_id(ring.current)})",
        )
    )
    return ring


async def _database(ring: keys.KeyRing | None, env: Mapping[str, str], checks: list[Check]) -> None:
    """Reachable, schema current, and the key the database recorded is the one given."""
    try:
        target = await asyncio.to_thread(db.resolve_target)
        pool = await db.open_existing_pool(target.dsn, password=target.password)
    except CredwatchError as exc:
        checks.append(
            Check(
                name="database",
                status=Status.FAILED,
                detail=str(exc),
                fix="check CREDWATCH_DSN, the password and that PostgreSQL is running",
            )
        )
        return
    where = db.redact(target.dsn)
    try:
        store = Store(pool)
        try:
            async with asyncio.timeout(TIMEOUT):
                applied = await store.migrations_applied()
        except UNAVAILABLE as exc:
            if type(exc).__name__ == "UndefinedTableError":
                checks.append(
                    Check(
                        name="database",
                        status=Status.FAILED,
                        detail=f"{where}: reachable, but no credwatch schema",
                        fix="run `credwatch db migrate`",
                    )
                )
            else:
                checks.append(_unreachable(where, exc))
            return
        missing = [m.name for m in available() if m.version not in applied]
        if missing:
            checks.append(
                Check(
                    name="database",
                    status=Status.FAILED,
                    detail=f"{where}: reachable, migrations not applied: {', '.join(missing)}",
                    fix="run `credwatch db migrate`",
                )
            )
            return
        latest = max(m.version for m in available())
        checks.append(
            Check(name="database", status=Status.OK, detail=f"{where}: schema {latest:03d}")
        )
        if ring is not None:
            checks.append(await _stored_key(store, ring))
    finally:
        await pool.close()


def _unreachable(where: str, exc: BaseException) -> Check:
    return Check(
        name="database",
        status=Status.FAILED,
        detail=f"{where}: {type(exc).__name__}: {str(exc)[:200]}",
        fix="check that PostgreSQL is running and reachable",
    )


async def _stored_key(store: Store, ring: keys.KeyRing) -> Check:
    known = await store.fingerprint_keys()
    if not known:
        return Check(
            name="key check",
            status=Status.OK,
            detail="the database records no key yet; the first run records this one",
        )
    problem = keys.refusal(known, ring)
    if problem is not None:
        return Check(name="key check", status=Status.FAILED, detail=problem)
    return Check(
        name="key check",
        status=Status.OK,
        detail=f"the key given made this database's fingerprints (key id "
        f"{keys.key_id(ring.current)})",
    )


async def _notifier(name: str, notifier: Any, *, send_test: bool) -> Check:
    label = f"notifiers.{name}"
    if not send_test:
        return Check(
            name=label,
            status=Status.OK,
            detail="section builds, credentials present; no message sent",
            fix="`--send-test` sends a test message",
        )
    try:
        async with asyncio.timeout(TIMEOUT):
            delivery = await notifier.send(sample_alert())
    except (CredwatchError, TimeoutError) as exc:
        return Check(
            name=label,
            status=Status.FAILED,
            detail=f"test message refused: {_reason(exc)}",
            fix="check the channel's URL, token and permissions",
        )
    extra = f" ({delivery.detail})" if getattr(delivery, "detail", "") else ""
    return Check(name=label, status=Status.OK, detail=f"test message accepted{extra}")


async def _responder(name: str, responder: Any) -> Check:
    """An authenticated, read-only lookup of a login that exists nowhere."""
    label = f"responders.{name}"
    login = f"credwatch-doctor-{secrets.token_hex(4)}@example.invalid"
    try:
        async with asyncio.timeout(TIMEOUT):
            user = await responder.find_user(AccountRef(login=login, email=login))
    except (CredwatchError, TimeoutError) as exc:
        return Check(
            name=label,
            status=Status.FAILED,
            detail=f"lookup failed: {_reason(exc)}",
            fix="check the URL, the credentials and the service account's read permission",
        )
    found = "found a user (unexpected)" if user is not None else "answered: no such user"
    return Check(name=label, status=Status.OK, detail=f"authenticated lookup {found}")


def _reason(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:300]


def sample_alert() -> Alert:
    """An alert that says it is a test, about nobody."""
    now = datetime.now(UTC)
    exposure = Exposure(
        id=0,
        fingerprint="credwatch-doctor-test",
        kind=CredentialKind.PASSWORD,
        host="example.invalid",
        login="credwatch-doctor-test",
        secret_hint=None,
        secret_length=None,
        reasons=(Reason.HOST,),
        severity=Severity.LOW,
        status=ExposureStatus.NEW,
        domain="example.invalid",
        portal=None,
        partner=None,
        account_login=None,
        infected_at=None,
        first_seen=now,
        last_seen=now,
        sightings=0,
    )
    return Alert(
        id=0,
        event=AlertEvent.NEW,
        exposure=exposure,
        origin="credwatch doctor --send-test (a test message: nothing was leaked)",
        action_summary="test message from credwatch doctor; no action",
        created_at=now,
    )


def _secrets(config: Config | None, env: Mapping[str, str]) -> frozenset[str]:
    """Every value a secret variable holds: the key, the database password, and each variable a
    plug-in section names (`*_env` keys)."""
    names = {HMAC_KEY_ENV, db.PASSWORD_ENV}
    if config is not None:
        for sections in (config.feeds, config.notifiers, config.responders):
            for section in sections.values():
                names.update(
                    str(v) for k, v in section.items() if k.endswith("_env") and isinstance(v, str)
                )
    found: set[str] = set()
    for name in names:
        try:
            value = env_or_file(name, env)
        except CredwatchError:
            continue
        if len(value) >= 4:
            found.add(value)
    found.update(k.decode("utf-8", "replace") for k in previous_hmac_keys(env) if len(k) >= 4)
    dsn_password = urllib.parse.urlsplit(env.get(DSN_ENV, "")).password
    if dsn_password:
        found.update({dsn_password, urllib.parse.unquote(dsn_password)})
    return frozenset(found)
