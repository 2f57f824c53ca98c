"""Load the SQL statements kept in monitor/store/sql/*.sql, once."""

from __future__ import annotations

import functools
from importlib import resources


@functools.cache
def sql(name: str) -> str:
    return (resources.files("monitor.store") / "sql" / f"{name}.sql").read_text("utf-8")
