"""Only monitor/store/ talks SQL: no statement text, no `sql(...)`, no query call anywhere else."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("monitor", "feeds", "notifiers")
STORE = ROOT / "monitor" / "store"
STATEMENT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP)\s")
QUERY_METHODS = {
    "fetch",
    "fetchrow",
    "fetchval",
    "execute",
    "executemany",
    "copy_records_to_table",
    "copy_to_table",
    "copy_from_query",
}


def violations(source: str) -> list[str]:
    """What in this module's source only the store may do, as `line: what`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if STATEMENT.match(node.value):
                found.append(f"{node.lineno}: SQL text {node.value.strip()[:40]!r}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "sql":
                found.append(f"{node.lineno}: sql(...)")
            elif isinstance(func, ast.Attribute) and func.attr in QUERY_METHODS | {"sql"}:
                found.append(f"{node.lineno}: .{func.attr}(...)")
        elif isinstance(node, ast.ImportFrom) and node.module == "monitor.store.queries":
            found.append(f"{node.lineno}: imports monitor.store.queries")
    return found


def test_the_guard_sees_sql_outside_the_store() -> None:
    source = (
        "from monitor.store.queries import sql\n"
        "async def f(conn):\n"
        "    await conn.execute(sql('exposure_status'), 1)\n"
        '    await conn.fetch("SELECT id FROM alerts")\n'
        "    q = '''\n  WITH x AS (SELECT 1) SELECT * FROM x'''\n"
    )
    found = violations(source)
    assert len(found) == 6, found  # import, execute, sql, fetch, two statements
    assert violations('"""Update the docs; select what to say."""\nx = "UPDATED"\n') == []


def test_no_module_outside_the_store_runs_sql() -> None:
    modules = [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if STORE not in path.parents
    ]
    assert len(modules) > 20
    found = {
        str(path.relative_to(ROOT)): v
        for path in modules
        if (v := violations(path.read_text(encoding="utf-8")))
    }
    assert found == {}
