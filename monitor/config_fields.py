"""Field types shared by the core's config sections: tables, name lists, counts, domains, cron."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator


def _table(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError("must be a table")
    return dict(value)


def _table_array(value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ValueError("must be an array of tables ([[partners]])")
    return tuple(dict(v) for v in value)


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _email(value: str) -> str:
    if "@" not in value:
        raise ValueError("not an e-mail address")
    return value


def at_least(minimum: int) -> Callable[[int], int]:
    """A check that an integer is `minimum` or more."""

    def check(value: int) -> int:
        if value < minimum:
            raise ValueError(f"must be >= {minimum}")
        return value

    return check


def _port(value: int) -> int:
    if not 0 <= value <= 65535:
        raise ValueError("must be between 0 and 65535")
    return value


def _domains(values: tuple[str, ...]) -> tuple[str, ...]:
    from monitor.normalize import canonical_host

    for domain in values:
        host = canonical_host(domain)
        if not host or "." not in host or "://" in domain or "/" in domain:
            raise ValueError(f"not a domain name: {domain!r}")
    return values


def _portals(values: tuple[str, ...]) -> tuple[str, ...]:
    from monitor.normalize import split_url

    for url in values:
        scheme = url.partition("://")[0].lower()
        host, _ = split_url(url)
        if scheme not in ("http", "https") or not host or "." not in host:
            raise ValueError(f"not an http(s) URL with a host: {url!r}")
    return values


def _cron(value: str) -> str:
    """A crontab line the scheduler accepts ("" keeps the default)."""
    if value:
        from monitor.scheduler import cron_trigger

        try:
            cron_trigger(value, "UTC")
        except ValueError as exc:
            raise ValueError(f"not a cron expression ({exc}): {value!r}") from None
    return value


def _time_zone(value: str) -> str:
    """A time zone name the scheduler accepts ("" keeps the default)."""
    if value:
        from apscheduler.util import astimezone

        try:
            astimezone(value)
        except (LookupError, ValueError):
            raise ValueError(f"unknown time zone: {value!r}") from None
    return value


def _clock_time(value: str) -> str:
    """A time of day as HH:MM (24-hour clock)."""
    hour, sep, minute = value.strip().partition(":")
    if not (sep and hour.isdigit() and minute.isdigit() and len(minute) == 2):
        raise ValueError(f"not a time of day (HH:MM): {value!r}")
    if not (0 <= int(hour) <= 23 and 0 <= int(minute) <= 59):
        raise ValueError(f"not a time of day (HH:MM): {value!r}")
    return f"{int(hour):02d}:{minute}"


Table = Annotated[dict[str, Any], BeforeValidator(_table)]
# A table of tables (`[notifiers.slack]`, `[feeds.hibp]`, ...): each inner one goes to a plug-in.
Tables = Annotated[dict[str, Table], BeforeValidator(_table)]
TableArray = Annotated[tuple[dict[str, Any], ...], BeforeValidator(_table_array)]
Texts = Annotated[tuple[str, ...], BeforeValidator(_texts)]
Domains = Annotated[Texts, AfterValidator(_domains)]
Portals = Annotated[Texts, AfterValidator(_portals)]
Name = Annotated[str, AfterValidator(_not_blank)]
Email = Annotated[str, AfterValidator(_email)]
Count = Annotated[int, AfterValidator(at_least(0))]
Size = Annotated[int, AfterValidator(at_least(1))]  # 0 would silently disable what it limits


def _positive_seconds_or_ratio(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a number greater than 0")
    return value


Positive = Annotated[float, AfterValidator(_positive_seconds_or_ratio)]
Port = Annotated[int, AfterValidator(_port)]
Cron = Annotated[str, AfterValidator(_cron)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]
ClockTime = Annotated[str, AfterValidator(_clock_time)]
