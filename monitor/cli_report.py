"""`credwatch report --partner NAME`: the partner's exposures as the HTML their security contact
gets by e-mail (monitor.partner_report), for sending by hand or archiving."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli_common import ConfigOpt, _fail, _open, _run
from monitor.config_path import DEFAULT_CONFIG
from monitor.output import err

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _since(text: str | None) -> datetime:
    if not text:
        return EPOCH
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"--since: not an ISO date: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def report(
    partner: Annotated[str, typer.Option("--partner", help="The partner's name, as configured.")],
    since: Annotated[
        str | None,
        typer.Option(help="Only exposures seen since this ISO date (UTC when no offset)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the HTML here (default: standard output).")
    ] = None,
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """A partner's leaked credentials as HTML written for their security contact: what leaked,
    from which machine and when, what we did, what they must do (no internal ids or paths)."""
    from monitor import partner_report
    from monitor.alert_facts import gather

    moment = _since(since)

    async def go() -> str | None:
        async with _open(config, need_key=False, with_plugins=False) as a:
            known = {p.name for p in a.watch.partners}
            if partner not in known:
                return None
            contact = a.watch.partner_contacts.get(partner)
            items = []
            for exposure in await a.store.partner_exposures(partner, moment):
                facts = await gather(a.store, exposure, partner_contact=contact)
                items.append(partner_report.item(exposure, facts.machine, facts.advice))
        return partner_report.html_document(
            partner, items, since=moment if moment != EPOCH else None
        )

    document = _run(go)
    if document is None:
        raise _fail(f"--partner: no partner named {partner!r} in the configuration")
    if out is None:
        typer.echo(document, nl=False)
        return
    out.write_text(document, encoding="utf-8")
    err.print(f"wrote {out}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
