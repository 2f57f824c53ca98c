"""The core's credwatch.toml tables as typed section models: keys, TOML types and value checks.

A key left out is None (or empty) here; `monitor.config` turns the models into the `Config` the
rest of the code uses and owns the defaults. `[feeds.*]`, `[notifiers.*]` and `[responders.*]`
stay raw tables: each plug-in validates its own section.
"""

from __future__ import annotations

from pydantic import Field

from monitor.config_fields import (
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
    notifiers: Tables = Field(default_factory=dict)
    responders: Tables = Field(default_factory=dict)
    feeds: Tables = Field(default_factory=dict)


class OrganisationSection(Section):
    """`[organisation]`: who is watched."""

    name: Name
    domains: Domains = ()
    portals: Portals = ()


class PartnerSection(Section):
    """One `[[partners]]` entry."""

    name: Name
    email_domains: Domains = ()
    security_contact: Email | None = None


class AccountsSection(Section):
    """`[accounts]`: monitored logins, inline or in a CSV file (relative to the config file)."""

    logins: Texts = ()
    file: str | None = None


class ScanSection(Section):
    """`[scan]`: archive limits and parallelism."""

    workdir: str | None = None
    archive_passwords: Texts | None = None
    max_depth: Count | None = None
    max_member_size: Count | None = None
    max_total_size: Count | None = None
    max_ratio: Positive | None = None
    max_line: Size | None = None
    workers: Count | None = None


class ServeSection(Section):
    """`[serve]`: the daemon's schedule, sources, drop folder and metrics endpoint."""

    nightly: Cron | None = None
    timezone: TimeZone | None = None
    sources: Texts = ()
    watch_dir: str | None = None
    metrics_host: str | None = None
    metrics_port: Port | None = None
    hibp_interval_minutes: Count | None = None
    outbox_interval_seconds: Positive | None = None
    settle_seconds: Positive | None = None
