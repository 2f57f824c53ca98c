"""Load credwatch.toml and the environment into one validated, frozen Config (secrets only from env)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError

DEFAULT_CONFIG = Path("credwatch.toml")
HMAC_KEY_ENV = "CREDWATCH_HMAC_KEY"
HMAC_KEY_FILE_ENV = "CREDWATCH_HMAC_KEY_FILE"
DSN_ENV = "CREDWATCH_DSN"

_TOP_KEYS = {
    "organisation", "partners", "accounts", "scan", "serve", "policy",
    "notifiers", "responders", "feeds",
}  # fmt: skip
_ORG_KEYS = {"name", "domains", "portals"}
_PARTNER_KEYS = {"name", "email_domains", "security_contact"}
_ACCOUNT_KEYS = {"logins", "file"}
_SCAN_KEYS = {
    "workdir", "archive_passwords", "max_depth", "max_member_size", "max_total_size",
    "max_ratio", "max_line", "workers",
}  # fmt: skip
_SERVE_KEYS = {
    "nightly", "timezone", "sources", "watch_dir", "metrics_host", "metrics_port",
    "hibp_interval_minutes", "outbox_interval_seconds", "settle_seconds",
}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class PartnerConfig:
    name: str
    email_domains: tuple[str, ...] = ()
    security_contact: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanConfig:
    workdir: Path | None = None  # temp files (nested archives) go only here
    archive_passwords: tuple[str, ...] = ("infected", "123", "1234")
    max_depth: int = 4
    max_member_size: int = 4 << 30
    max_total_size: int = 64 << 30
    max_ratio: float = 200.0
    max_line: int = 1 << 20
    workers: int = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeConfig:
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
class Config:
    path: Path
    organisation: str
    domains: tuple[str, ...]
    portals: tuple[str, ...]
    partners: tuple[PartnerConfig, ...]
    account_logins: tuple[str, ...]
    accounts_file: Path | None
    scan: ScanConfig
    serve: ServeConfig
    policy: Mapping[str, Any] = field(default_factory=dict)
    notifiers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    responders: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    feeds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


_SCAN = ScanConfig()
_SERVE = ServeConfig()


class _Reader:
    """Typed access to one table of the file; every error names the key and the file."""

    def __init__(self, path: Path, section: str, table: Any, allowed: set[str]) -> None:
        self.path, self.section = path, section
        if not isinstance(table, dict):
            self.fail(section, "must be a table")
        self.table: dict[str, Any] = table
        for key in table:
            if key not in allowed:
                self.fail(f"{section}.{key}" if section else key, "unknown key")

    def fail(self, key: str, problem: str) -> None:
        raise ConfigError(f"{self.path}: {key}: {problem}")

    def _get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        if key not in self.table:
            return default
        value = self.table[key]
        if (
            isinstance(value, bool)
            and kind is not bool
            and bool not in (kind if isinstance(kind, tuple) else (kind,))
        ):
            self.fail(f"{self.section}.{key}", "wrong type")
        if not isinstance(value, kind):
            self.fail(f"{self.section}.{key}", f"expected {_kind_name(kind)}")
        return value

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        if required and key not in self.table:
            self.fail(f"{self.section}.{key}", "missing")
        value = self._get(key, str, default)
        if required and not (value or "").strip():
            self.fail(f"{self.section}.{key}", "must not be empty")
        return value  # type: ignore[no-any-return]

    def number(self, key: str, default: float) -> float:
        return float(self._get(key, (int, float), default))

    def integer(self, key: str, default: int) -> int:
        value = int(self._get(key, int, default))
        if value < 0:
            self.fail(f"{self.section}.{key}", "must not be negative")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._get(key, list, [])
        for item in value:
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{self.section}.{key}", "expected a list of non-empty strings")
        return tuple(v.strip() for v in value)

    def path_(self, key: str) -> Path | None:
        value = self.text(key)
        if value is None:
            return None
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.path.parent / p)

    def tables(self, key: str) -> dict[str, dict[str, Any]]:
        value = self._get(key, dict, {})
        for name, sub in value.items():
            if not isinstance(sub, dict):
                self.fail(f"{key}.{name}", "must be a table")
        return value  # type: ignore[no-any-return]


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {"str": "a string", "int": "an integer", "float": "a number", "list": "a list"}
    names |= {"dict": "a table", "bool": "true or false"}
    return " or ".join(names.get(k.__name__, k.__name__) for k in kinds)


def _check_domain(reader: _Reader, key: str, domain: str) -> None:
    from monitor.normalize import canonical_host

    host = canonical_host(domain)
    if not host or "." not in host or "://" in domain or "/" in domain:
        reader.fail(key, f"not a domain name: {domain!r}")


def _check_portal(reader: _Reader, key: str, url: str) -> None:
    from monitor.normalize import split_url

    scheme = url.partition("://")[0].lower()
    host, _ = split_url(url)
    if scheme not in ("http", "https") or not host or "." not in host:
        reader.fail(key, f"not an http(s) URL with a host: {url!r}")


def load_config(path: Path | str = DEFAULT_CONFIG) -> Config:
    """Read and validate the file. A missing file, unknown key or bad value raises ConfigError."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: configuration file not found (create one with `credwatch init`)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    top = _Reader(path, "", data, _TOP_KEYS)
    if "organisation" not in data:
        top.fail("organisation", "missing")
    org = _Reader(path, "organisation", data["organisation"], _ORG_KEYS)
    name = org.text("name", required=True) or ""
    domains = org.texts("domains")
    for d in domains:
        _check_domain(org, "organisation.domains", d)
    portals = org.texts("portals")
    for p in portals:
        _check_portal(org, "organisation.portals", p)

    partners: list[PartnerConfig] = []
    raw_partners = data.get("partners", [])
    if not isinstance(raw_partners, list):
        top.fail("partners", "must be an array of tables ([[partners]])")
    for i, raw in enumerate(raw_partners):
        pr = _Reader(path, f"partners[{i}]", raw, _PARTNER_KEYS)
        doms = pr.texts("email_domains")
        for d in doms:
            _check_domain(pr, f"partners[{i}].email_domains", d)
        contact = pr.text("security_contact")
        if contact is not None and "@" not in contact:
            pr.fail(f"partners[{i}].security_contact", "not an e-mail address")
        partners.append(
            PartnerConfig(
                name=pr.text("name", required=True) or "",
                email_domains=doms,
                security_contact=contact,
            )
        )

    acc = _Reader(path, "accounts", data.get("accounts", {}), _ACCOUNT_KEYS)
    accounts_file = acc.path_("file")
    if accounts_file is not None and not accounts_file.is_file():
        acc.fail("accounts.file", f"file not found: {accounts_file}")

    sc = _Reader(path, "scan", data.get("scan", {}), _SCAN_KEYS)
    scan = ScanConfig(
        workdir=sc.path_("workdir"),
        archive_passwords=sc.texts("archive_passwords")
        if "archive_passwords" in sc.table
        else _SCAN.archive_passwords,
        max_depth=sc.integer("max_depth", _SCAN.max_depth),
        max_member_size=sc.integer("max_member_size", _SCAN.max_member_size),
        max_total_size=sc.integer("max_total_size", _SCAN.max_total_size),
        max_ratio=sc.number("max_ratio", _SCAN.max_ratio),
        max_line=sc.integer("max_line", _SCAN.max_line),
        workers=max(1, sc.integer("workers", _SCAN.workers)),
    )
    sv = _Reader(path, "serve", data.get("serve", {}), _SERVE_KEYS)
    nightly = sv.text("nightly", _SERVE.nightly) or _SERVE.nightly
    try:
        from monitor.scheduler import cron_trigger

        cron_trigger(nightly, "UTC")
    except ValueError as exc:
        sv.fail("serve.nightly", f"not a cron expression ({exc}): {nightly!r}")
    serve = ServeConfig(
        nightly=nightly,
        timezone=sv.text("timezone", _SERVE.timezone) or "UTC",
        sources=tuple(
            (p if p.is_absolute() else path.parent / p)
            for p in (Path(s).expanduser() for s in sv.texts("sources"))
        ),
        watch_dir=sv.path_("watch_dir"),
        metrics_host=sv.text("metrics_host", _SERVE.metrics_host) or "127.0.0.1",
        metrics_port=sv.integer("metrics_port", _SERVE.metrics_port),
        hibp_interval_minutes=sv.integer("hibp_interval_minutes", 360),
        outbox_interval_seconds=sv.number("outbox_interval_seconds", 1.0),
        settle_seconds=sv.number("settle_seconds", 1.0),
    )
    return Config(
        path=path,
        organisation=name,
        domains=domains,
        portals=portals,
        partners=tuple(partners),
        account_logins=acc.texts("logins"),
        accounts_file=accounts_file,
        scan=scan,
        serve=serve,
        policy=_table(top, data, "policy"),
        notifiers=top.tables("notifiers"),
        responders=top.tables("responders"),
        feeds=top.tables("feeds"),
    )


def _table(reader: _Reader, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        reader.fail(key, "must be a table")
    return value  # type: ignore[no-any-return]


def hmac_key(env: Mapping[str, str] | None = None) -> bytes:
    """The fingerprint key, from CREDWATCH_HMAC_KEY or the file named by CREDWATCH_HMAC_KEY_FILE."""
    env = os.environ if env is None else env
    value = env.get(HMAC_KEY_ENV, "")
    if not value and env.get(HMAC_KEY_FILE_ENV):
        key_file = Path(env[HMAC_KEY_FILE_ENV])
        try:
            value = key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"{HMAC_KEY_FILE_ENV}: cannot read {key_file}: {exc.strerror}"
            ) from None
    if len(value) < 32:
        raise ConfigError(
            f"{HMAC_KEY_ENV}: missing or shorter than 32 characters; it keys the fingerprints "
            "of leaked secrets (generate one with `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`)"
        )
    return value.encode("utf-8")
