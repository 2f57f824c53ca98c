"""Migration 016 rewrites hints stored in the earlier form (first character, stars, last two)
into the rule every new hint follows (monitor.hint), in exposures and in scan output rows."""

from __future__ import annotations

import json
import re
from importlib import resources

import asyncpg

from monitor.types import Secret

SECRETS = ["", "abc12", "abcdef", "s3cretpw", "Correct-Hor", "Correct-Horse", "Correct-Horse-42",
           "x" * 23, "y" * 24 + "Z", "\x1b" + "q" * 30]  # fmt: skip


def old_hint(value: str) -> str:
    """How hints were stored before: first character and last two, stars between."""
    n = len(value)
    if n < 6:
        return "*" * n
    text = f"{value[0]}{'*' * min(n - 3, 12)}{value[-2:]}"
    return "".join(c if c.isprintable() else "?" for c in text)


def rewrites() -> list[str]:
    """The migration's UPDATE statements (run again here on rows stored the old way)."""
    sql = (resources.files("monitor.store") / "migrations" / "016_alert_facts.sql").read_text()
    code = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    return [s for s in re.split(r";\s*\n", code) if s.lstrip().startswith("UPDATE")]


async def test_old_hints_become_the_new_rule(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        for i, value in enumerate(SECRETS):
            exposure = await conn.fetchval(
                "INSERT INTO exposures (fingerprint, kind, secret_hint, secret_length, reasons,"
                " severity) VALUES ($1, 'password', $2, $3, '{host}', 2) RETURNING id",
                f"fp{i}",
                old_hint(value),
                len(value),
            )
            await conn.execute(
                "INSERT INTO scan_hits (scan_id, exposure_id, origin, row) VALUES ('s', $1, 'o', $2)",
                exposure,
                json.dumps({"secret_hint": old_hint(value), "login": "x"}),
            )
        for statement in rewrites():
            await conn.execute(statement)
        stored = await conn.fetch("SELECT fingerprint, secret_hint FROM exposures ORDER BY id")
        rows = await conn.fetch("SELECT row FROM scan_hits ORDER BY id")
        for statement in rewrites():  # a second run changes nothing
            await conn.execute(statement)
        again = await conn.fetch("SELECT secret_hint FROM exposures ORDER BY id")
    assert [r["secret_hint"] for r in stored] == [Secret(v).hint for v in SECRETS]
    assert [json.loads(r["row"])["secret_hint"] for r in rows] == [Secret(v).hint for v in SECRETS]
    assert [r["secret_hint"] for r in again] == [r["secret_hint"] for r in stored]
