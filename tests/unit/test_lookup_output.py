"""A lookup's report: inert for terminals and browsers, 80 columns wide, files only for the owner."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from monitor.domain_lookup import ApiSide, Finding, HibpState, LookupResult, Tally
from monitor.lookup_output import print_result, report_console, save

HOSTILE = "<script>alert(1)</script>[bold]x@supplier.example"


def result() -> LookupResult:
    t = Tally("acme.example")
    t.add(
        Finding(
            identity="1", kind="password", host="portal.acme.example", login=HOSTILE,
            url="https://portal.acme.example/" + "a-very-long-path-segment/" * 6 + "<img src=x>",
            infected_at=None, family="\x1b[31mred", country=None, machine=None,
            origin="/srv/dumps/" + "nested/" * 12 + "combo.txt",
        )
    )  # fmt: skip
    return LookupResult(
        domain="acme.example", watched=False, since=None, generated_at=datetime.now(UTC),
        store=t.summary(), library=None, library_note="", hibp=ApiSide(state=HibpState.NOT_CONFIGURED),
    )  # fmt: skip


def test_report_fits_80_columns_and_prints_hostile_text_inert() -> None:
    buffer = io.StringIO()
    console = report_console(file=buffer)
    console.width = 80
    print_result(result(), console)
    text = buffer.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "\x1b" not in text
    assert "[bold]x" in text.replace("\n", "")  # shown, never interpreted as markup


def test_save_writes_owner_only_json_and_escaped_html(tmp_path: Path) -> None:
    written = save(result(), tmp_path / "report")
    assert [p.name for p in written] == ["report.json", "report.html"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in written)
    html = (tmp_path / "report.html").read_text()
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert json.loads((tmp_path / "report.json").read_text())["domain"] == "acme.example"
    only = save(result(), tmp_path / "one.JSON")
    assert [p.name for p in only] == ["one.JSON"]
