"""Load credwatch.toml and the environment into one validated, frozen Config (secrets only from env)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from monitor.config_path import DEFAULT_CONFIG
from monitor.config_sections import (
    AccountsSection,
    FileSection,
    LogSection,
    OrganisationSection,
    PartnerSection,
    RetentionSection,
    ScanSection,
    ServeSection,
)
from monitor.errors import ConfigError
from monitor.policy import PolicyConfig
from monitor.settings import SettingError, env_or_file, load_section

HMAC_KEY_ENV = "CREDWATCH_HMAC_KEY"
HMAC_KEY_FILE_ENV = "CREDWATCH_HMAC_KEY_FILE"
HMAC_KEY_PREVIOUS_ENV = "CREDWATCH_HMAC_KEY_PREVIOUS"
DSN_ENV = "CREDWATCH_DSN"

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class PartnerConfig:
    """One `[[partners]]` entry."""

    name: str
    email_domains: tuple[str, ...] = ()
    security_contact: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanConfig:
    """`[scan]` with its defaults."""

    workdir: Path | None = None  # temp files (nested archives) go only here
    archive_passwords: tuple[str, ...] = ("infected", "123", "1234")
    max_depth: int = 4
    max_member_size: int = 4 << 30
    max_total_size: int = 64 << 30
    max_ratio: float = 200.0
    max_line: int = 1 << 20
    member_cpu_seconds: float = 120.0
    workers: int = 2
    threads: int = 0  # threads reading one plain text file; 0: one per core


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeConfig:
    """`[serve]` with its defaults."""

    nightly: str = "30 2 * * *"
    timezone: str = "UTC"
    sources: tuple[Path, ...] = ()
    watch_dir: Path | None = None
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9185
    hibp_interval_minutes: int = 360
    outbox_interval_seconds: float = 1.0
    settle_seconds: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionConfig:
    """`[retention]` with its defaults; `days` None: no scheduled purge."""

    days: int | None = None
    purge_at: str = "03:30"


@dataclass(frozen=True, slots=True, kw_only=True)
class LogConfig:
    """`[log]`; None where the file leaves the choice to the command line or the default."""

    format: str | None = None
    level: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The whole file; plug-in sections and `[policy]` stay tables (checked, read-only)."""

    path: Path
    organisation: str
    domains: tuple[str, ...]
    portals: tuple[str, ...]
    partners: tuple[PartnerConfig, ...]
    account_logins: tuple[str, ...]
    accounts_file: Path | None
    scan: ScanConfig
    serve: ServeConfig
    log: LogConfig = field(default_factory=lambda: LogConfig())
    retention: RetentionConfig = field(default_factory=lambda: RetentionConfig())
    policy: Mapping[str, Any] = field(default_factory=dict)
    notifiers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    responders: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    feeds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def load_config(path: Path | str = DEFAULT_CONFIG) -> Config:
    """Read and validate the file. A missing file, unknown key or bad value raises ConfigError.

    Every problem names the file, the table and the key:
    `credwatch.toml: [scan] max_depth: must be >= 0`.
    """
    path = Path(path)
    top = _load_top(_read_toml(path), path)
    org = load_section(OrganisationSection, top.organisation, section="organisation", file=path)
    partners = tuple(
        _partner(load_section(PartnerSection, raw, section=f"partners[{i}]", file=path))
        for i, raw in enumerate(top.partners)
    )
    accounts = load_section(AccountsSection, top.accounts, section="accounts", file=path)
    accounts_file = _path(accounts.file, path)
    if accounts_file is not None and not accounts_file.is_file():
        raise SettingError("accounts", "file", f"file not found: {accounts_file}", file=path)
    scan = load_section(ScanSection, top.scan, section="scan", file=path)
    serve = load_section(ServeSection, top.serve, section="serve", file=path)
    PolicyConfig.from_mapping(top.policy, file=path)  # checked here, built by its users
    log = load_section(LogSection, top.log, section="log", file=path)
    retention = load_section(RetentionSection, top.retention, section="retention", file=path)
    return Config(
        path=path,
        organisation=org.name,
        domains=org.domains,
        portals=org.portals,
        partners=partners,
        account_logins=accounts.logins,
        accounts_file=accounts_file,
        scan=_scan(scan, path),
        serve=_serve(serve, path),
        log=LogConfig(format=log.format, level=log.level),
        retention=RetentionConfig(
            days=retention.days, purge_at=retention.purge_at or RetentionConfig().purge_at
        ),
        policy=MappingProxyType(top.policy),
        notifiers=_frozen(top.notifiers),
        responders=_frozen(top.responders),
        feeds=_frozen(top.feeds),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: configuration file not found (create one with `credwatch init`)"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a configuration file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _load_top(data: Mapping[str, Any], path: Path) -> FileSection:
    """The top level; a problem there is about a whole table: `credwatch.toml: [scan] ...`."""
    try:
        return load_section(FileSection, data, section="", file=path)
    except SettingError as exc:
        problem = "unknown table" if exc.problem == "unknown key" else exc.problem
        raise SettingError(exc.key, "", problem, file=path) from None


def _partner(section: PartnerSection) -> PartnerConfig:
    return PartnerConfig(
        name=section.name,
        email_domains=section.email_domains,
        security_contact=section.security_contact,
    )


def _scan(section: ScanSection, path: Path) -> ScanConfig:
    default = ScanConfig()
    return ScanConfig(
        workdir=_path(section.workdir, path),
        archive_passwords=_or(section.archive_passwords, default.archive_passwords),
        max_depth=_or(section.max_depth, default.max_depth),
        max_member_size=_or(section.max_member_size, default.max_member_size),
        max_total_size=_or(section.max_total_size, default.max_total_size),
        max_ratio=float(_or(section.max_ratio, default.max_ratio)),
        max_line=_or(section.max_line, default.max_line),
        member_cpu_seconds=float(_or(section.member_cpu_seconds, default.member_cpu_seconds)),
        workers=max(1, _or(section.workers, default.workers)),
        threads=_or(section.threads, default.threads),
    )


def _serve(section: ServeSection, path: Path) -> ServeConfig:
    default = ServeConfig()
    return ServeConfig(
        nightly=section.nightly or default.nightly,
        timezone=section.timezone or default.timezone,
        sources=tuple(p for p in (_path(s, path) for s in section.sources) if p is not None),
        watch_dir=_path(section.watch_dir, path),
        metrics_host=section.metrics_host or default.metrics_host,
        metrics_port=_or(section.metrics_port, default.metrics_port),
        hibp_interval_minutes=_or(section.hibp_interval_minutes, default.hibp_interval_minutes),
        outbox_interval_seconds=float(
            _or(section.outbox_interval_seconds, default.outbox_interval_seconds)
        ),
        settle_seconds=float(_or(section.settle_seconds, default.settle_seconds)),
    )


def _or(value: T | None, default: T) -> T:
    return default if value is None else value


def _path(value: str | None, config_path: Path) -> Path | None:
    """A path from the file: `~` expanded, relative to the file's directory."""
    if value is None:
        return None
    p = Path(value).expanduser()
    return p if p.is_absolute() else config_path.parent / p


def _frozen(tables: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    return MappingProxyType({name: MappingProxyType(dict(t)) for name, t in tables.items()})


def hmac_key(env: Mapping[str, str] | None = None) -> bytes:
    """The fingerprint key, from CREDWATCH_HMAC_KEY or the file named by CREDWATCH_HMAC_KEY_FILE
    (surrounding white space stripped in both: the same key whichever way it comes)."""
    env = os.environ if env is None else env
    value = env_or_file(HMAC_KEY_ENV, env)
    if len(value) < 32:
        raise ConfigError(
            f"{HMAC_KEY_ENV}: missing or shorter than 32 characters; it keys the fingerprints "
            "of leaked secrets (generate one with `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`)"
        )
    return value.encode("utf-8")


def previous_hmac_keys(env: Mapping[str, str] | None = None) -> tuple[bytes, ...]:
    """Keys retired by a rotation, comma-separated in CREDWATCH_HMAC_KEY_PREVIOUS: exposures
    they fingerprinted are found (and re-keyed) with them. Taken as given, like the key."""
    env = os.environ if env is None else env
    raw = env.get(HMAC_KEY_PREVIOUS_ENV, "")
    return tuple(part.encode("utf-8") for part in raw.split(",") if part)
