"""`credwatch pending`: the containments that wait for a human's approval."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor import output
from monitor.cli_common import ConfigOpt, JsonOpt, _open, _run
from monitor.config_path import DEFAULT_CONFIG

if TYPE_CHECKING:
    from monitor.approvals import Waiting


def pending_item(w: Waiting) -> dict[str, Any]:
    item = asdict(w)
    item["steps"] = list(w.steps)
    item["since"] = w.since.isoformat()
    item["approve"] = f"credwatch approve {w.exposure_id}"
    item["reject"] = f"credwatch reject {w.exposure_id} --reason TEXT"
    return item


def print_pending(items: list[dict[str, Any]]) -> None:
    if not items:
        output.console().print("nothing waits for approval")
        return
    table = output.table("Waiting for approval")
    for col in ("exposure", "since", "login", "provider", "severity", "steps", "why"):
        table.add_column(col)
    for i in items:
        steps = ", ".join(i["steps"]) + (" (dry run)" if i["dry_run"] else "")
        table.add_row(
            str(i["exposure_id"]), i["since"][:19], output.safe(i["login"] or "-"),
            output.safe(i["provider"]), i["severity"], output.safe(steps),
            output.safe(i["reason"][:80]),
        )  # fmt: skip
    output.console().print(table)


def pending(
    config: ConfigOpt = DEFAULT_CONFIG,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, oldest first.")] = 500,
    as_json: JsonOpt = False,
) -> None:
    """What waits for a human: containments to approve (`approve ID`) or reject (`reject ID`)."""
    items = [pending_item(w) for w in _run(lambda: _pending(config, limit))]
    if as_json:
        output.json_lines(items)
    else:
        print_pending(items)


async def _pending(config: Path, limit: int) -> list[Waiting]:
    from monitor.approvals import Approvals

    async with _open(config, need_key=False, with_plugins=False) as a:
        return await Approvals(a.store, a.responses).pending(limit=limit)


def register(app: typer.Typer) -> None:
    app.command("pending")(pending)
