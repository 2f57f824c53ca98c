"""The core's credwatch.toml tables as typed section models: keys, TOML types and value checks.

A key left out is None (or empty) here; `monitor.config` turns the models into the `Config` the
rest of the code uses and owns the defaults. `[feeds.*]`, `[notifiers.*]` and `[responders.*]`
stay raw tables: each plug-in validates its own section.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from monitor.config_fields import (
    ClockTime,
    Count,
    Cron,
    Domains,
    Email,
    Name,
    Port,
    Portals,
    Positive,
    Size,
    Table,
    TableArray,
    Tables,
    Texts,
    TimeZone,
)
from monitor.settings import Section


class FileSection(Section):
    """The top level: which tables the file may hold, and their shape."""

    organisation: Table
    partners: TableArray = ()
    accounts: Table = Field(default_factory=dict)
    scan: Table = Field(default_factory=dict)
    serve: Table = Field(default_factory=dict)
    policy: Table = Field(default_factory=dict)
    log: Table = Field(default_factory=dict)
    retention: Table = Field(default_factory=dict)
    notifiers: Tables = Field(default_factory=dict)
    responders: Tables = Field(default_factory=dict)
    feeds: Tables = Field(default_factory=dict)


class OrganisationSection(Section):
    """`[organisation]`: who is watched."""

    name: Name = Field(description="The organisation's name, shown in alerts.")
    domains: Domains = Field(
        default=(),
        description="Watched domains: a host equal to one or under one (label boundary) matches.",
    )
    portals: Portals = Field(
        default=(),
        description="Partner portal URLs (host and path prefix): the most severe host match.",
    )


class PartnerSection(Section):
    """One `[[partners]]` entry."""

    name: Name = Field(description="The partner's name, shown in alerts.")
    email_domains: Domains = Field(
        default=(), description="The partner's mail domains: logins under them match."
    )
    security_contact: Email | None = Field(
        default=None,
        description="Who at the partner is told about their users' exposures (e-mail).",
    )


class AccountsSection(Section):
    """`[accounts]`: monitored logins, inline or in a CSV file (relative to the config file)."""

    logins: Texts = Field(default=(), description="Monitored logins (exact, case-insensitive).")
    file: str | None = Field(
        default=None,
        description="A CSV of monitored accounts (`login, partner, idp, idp_user_id`), relative to this file.",
    )


class ScanSection(Section):
    """`[scan]`: archive limits and parallelism."""

    workdir: str | None = Field(
        default=None,
        description="Where temporary files of nested archives go (default: under the data directory).",
    )
    archive_passwords: Texts | None = Field(
        default=None, description="Passwords tried on encrypted archives."
    )
    max_depth: Count | None = Field(
        default=None, description="How deep archives may nest in each other."
    )
    max_member_size: Count | None = Field(
        default=None, description="Largest archive member read, in bytes."
    )
    max_total_size: Count | None = Field(
        default=None, description="Most bytes inflated from one archive."
    )
    max_ratio: Positive | None = Field(
        default=None, description="Largest compression ratio accepted (zip bombs are refused)."
    )
    max_line: Size | None = Field(
        default=None,
        description="Longest line read, in bytes; longer ones are counted and skipped.",
    )
    member_cpu_seconds: Positive | None = Field(
        default=None,
        description="CPU seconds one file or archive member may take (plus one per MiB read); "
        "a member over it is reported and skipped.",
    )
    workers: Count | None = Field(default=None, description="Paths scanned in parallel.")
    threads: Count | None = Field(
        default=None,
        description="Threads that read one plain text file (or one range of it) in blocks; "
        "0: one per core.",
    )


class ServeSection(Section):
    """`[serve]`: the daemon's schedule, sources, drop folder and metrics endpoint."""

    nightly: Cron | None = Field(
        default=None, description="When the nightly scan of `sources` runs (crontab syntax)."
    )
    timezone: TimeZone | None = Field(default=None, description="The time zone of `nightly`.")
    sources: Texts = Field(default=(), description="Files and folders the nightly scan reads.")
    watch_dir: str | None = Field(
        default=None,
        description="The drop folder: each file copied here is scanned once, when complete.",
    )
    metrics_host: str | None = Field(
        default=None,
        description="Address of /metrics, /healthz and /readyz (CREDWATCH_METRICS_HOST overrides).",
    )
    metrics_port: Port | None = Field(
        default=None,
        description="Port of /metrics, /healthz and /readyz (CREDWATCH_METRICS_PORT overrides).",
    )
    hibp_interval_minutes: Count | None = Field(
        default=None, description="Minutes between Have I Been Pwned polls (with [feeds.hibp])."
    )
    outbox_interval_seconds: Positive | None = Field(
        default=None, description="Seconds between rounds of containment and alert delivery."
    )
    settle_seconds: Positive | None = Field(
        default=None, description="Seconds a dropped file must stay unchanged before it is scanned."
    )


class RetentionSection(Section):
    """`[retention]`: how long personal data is kept; `credwatch serve` purges daily when set."""

    days: int | None = Field(
        default=None,
        ge=1,
        le=36500,
        description="Days sightings, problems, delivered alerts and closed exposures are kept "
        "(unset: nothing is purged by `serve`).",
    )
    purge_at: ClockTime | None = Field(
        default=None,
        description="Time of day (HH:MM, in [serve] timezone) of the daily purge.",
    )


def _upper(value: object) -> object:
    """Level names in any case, as the command-line flag takes them."""
    return value.upper() if isinstance(value, str) else value


class LogSection(Section):
    """`[log]`: log lines; `--log-format` / `--log-level` and their environment variables win."""

    format: Literal["console", "json"] | None = Field(
        default=None,
        description="`console` (key=value text) or `json` (one JSON object a line); "
        "CREDWATCH_LOG_FORMAT overrides.",
    )
    level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None, BeforeValidator(_upper)
    ] = Field(
        default=None,
        description="Least severe level written (default WARNING); CREDWATCH_LOG_LEVEL overrides.",
    )
