"""A multi-partner stealer-log scan: each partner's security contact gets a message about their own
users only, and `credwatch report --partner` the same as HTML; neither carries our ids,
commands, the dump's paths, the hints, or another partner's data."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from monitor.app import open_app
from monitor.cli import app as cli
from tests.conftest import TEST_KEY
from tests.gen.stealer import victim_files, victim_folder, with_prefix
from tests.servers.smtp import Received, SmtpServer

PORTAL = "portail-partenaire.example.org"
ADMINS = ["soc@example.org"]
HWID_A = "A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6"
HWID_B = "F9E8D7C6B5A4F3E2D1C0B9A8F7E6D5C4"
INFECTED_A = datetime(2025, 7, 19, 17, 14, 5, tzinfo=UTC)
INFECTED_B = datetime(2025, 8, 2, 9, 30, 0, tzinfo=UTC)
ACME = [("agent1@acme.example", "Acme-Secret-One!"), ("agent2@acme.example", "Acme-Secret-Two!")]
BETA = [("bob@beta.example", "Beta-Secret-Bob!")]
STAFF = [("staff@example.org", "Staff-Secret-Own!")]
FIRST_EXPOSURE, FIRST_ALERT = 918273, 827364  # distinctive ids, to be sure none leaks out


def write_config(tmp_path: Path, smtp_port: int) -> Path:
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text(
        f"""
[organisation]
name = "Example"
domains = ["example.org"]
portals = ["https://{PORTAL}/kairos"]

[[partners]]
name = "Acme"
email_domains = ["acme.example"]
security_contact = "sec@acme.example"

[[partners]]
name = "Beta"
email_domains = ["beta.example"]
security_contact = "sec@beta.example"

[scan]
workdir = "{tmp_path / "work"}"

[notifiers.email]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "cw@example.org"
to = {ADMINS!r}
partner_contacts = true
""",
        encoding="utf-8",
    )
    return cfg


def write_dump(root: Path) -> None:
    """Two infected machines: one leaked Acme's two agents and a staff password, the other
    Beta's user."""
    url = f"https://{PORTAL}/kairos/login"
    machines = [
        (HWID_A, "FR", INFECTED_A, [(url, login, pw) for login, pw in ACME + STAFF]),
        (HWID_B, "DE", INFECTED_B, [(url, login, pw) for login, pw in BETA]),
    ]
    for hwid, country, infected, creds in machines:
        folder = victim_folder("redline", hwid=hwid, infected_at=infected, country=country)
        files = victim_files(
            "redline", creds=creds, infected_at=infected, hwid=hwid, country=country, noise=False
        )
        for name, data in with_prefix(folder, files).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def body(message: Received) -> str:
    msg = message.message()
    texts = [
        str(part.get_content()) for part in msg.walk() if part.get_content_maintype() == "text"
    ]
    headers = "\n".join(f"{k}: {v}" for k, v in msg.items())
    return headers + "\n" + "\n".join(texts)


def forbidden(others: list[tuple[str, str]], hints: list[str], ids: list[int]) -> list[str]:
    """What a partner must never read."""
    return [
        *(str(i) for i in ids),
        "credwatch approve",
        "credwatch reject",
        "X-Credwatch-Alert",
        "exposure ",
        "stealer_dump",
        "Passwords.txt",
        "System.txt",
        HWID_A[:8],
        HWID_B[:8],
        *(hint for hint in hints if hint),
        *(pw for _, pw in ACME + BETA + STAFF),
        *(pw[1:-1] for _, pw in ACME + BETA + STAFF),
        *(login for login, _ in others),
        *(login.split("@")[1] for login, _ in others if login not in dict(STAFF)),
    ]


async def test_partners_get_only_their_own_exposures_without_our_internals(
    dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDWATCH_DSN", dsn)
    monkeypatch.setenv("CREDWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CREDWATCH_HMAC_KEY", TEST_KEY.decode())
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"ALTER SEQUENCE exposures_id_seq RESTART WITH {FIRST_EXPOSURE}")
        await conn.execute(f"ALTER SEQUENCE alerts_id_seq RESTART WITH {FIRST_ALERT}")
    finally:
        await conn.close()
    dump = tmp_path / "stealer_dump"
    write_dump(dump)
    with SmtpServer() as smtp:
        cfg = write_config(tmp_path, smtp.port)
        async with open_app(cfg, env={"CREDWATCH_HMAC_KEY": TEST_KEY.decode()}) as a:
            results = await a.scanner.scan([dump])
            assert sum(r.totals.matches for r in results) == 4
            await a.respond_and_alert()
            await a.respond_and_alert()  # nothing is sent twice
        messages = list(smtp.messages)
    conn = await asyncpg.connect(dsn)
    try:
        exposure_ids = [r["id"] for r in await conn.fetch("SELECT id FROM exposures")]
        alert_ids = [r["id"] for r in await conn.fetch("SELECT id FROM alerts")]
        hints = [r["secret_hint"] for r in await conn.fetch("SELECT secret_hint FROM exposures")]
    finally:
        await conn.close()
    assert len(exposure_ids) == 4 and len(alert_ids) == 4
    ids = exposure_ids + alert_ids

    internal = [m for m in messages if m.rcpt_tos == tuple(ADMINS)]
    to_acme = [m for m in messages if m.rcpt_tos == ("sec@acme.example",)]
    to_beta = [m for m in messages if m.rcpt_tos == ("sec@beta.example",)]
    assert len(internal) == 4
    assert len(to_acme) == 2 and len(to_beta) == 1
    assert len(messages) == 7  # no partner is copied on an internal alert
    for m in internal:  # the admins' alerts say what to do and show the machine
        text = body(m)
        assert "What to do now:" in text
        assert "Infected machine: redline, infected " in text
        assert "Leak clock: infected " in text
    staff = next(m for m in internal if "staff@example.org" in body(m))
    assert "2 other credentials of ours from it" in body(staff)

    acme_text = "\n".join(body(m) for m in to_acme)
    beta_text = body(to_beta[0])
    for login, _ in ACME:
        assert login in acme_text
    assert "bob@beta.example" in beta_text
    assert "infected by redline stealer malware on 2025-07-19 17:14 UTC in FR" in acme_text
    assert "infected by redline stealer malware on 2025-08-02 09:30 UTC in DE" in beta_text
    assert "Clean or reinstall the infected machine" in acme_text
    for text, others in ((acme_text, BETA + STAFF), (beta_text, ACME + STAFF)):
        for planted in forbidden(others, hints, ids):
            assert planted not in text, planted
    assert "Beta" not in acme_text and "Acme" not in beta_text

    runner = CliRunner()
    out = tmp_path / "acme.html"
    res = await asyncio.to_thread(
        runner.invoke, cli, ["report", "--partner", "Acme", "-c", str(cfg), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    report = out.read_text(encoding="utf-8")
    assert "<code>agent1@acme.example</code>" in report
    assert "<code>agent2@acme.example</code>" in report
    assert f"<code>https://{PORTAL}/kairos</code>" in report
    assert "2 credentials of your users leaked" in report
    assert "from 1 infected machine(s)" in report
    for planted in [*forbidden(BETA + STAFF, hints, ids), "Beta"]:
        assert planted not in report, planted
    assert not re.search(r"<(script|a |img)", report)

    res = await asyncio.to_thread(
        runner.invoke, cli, ["report", "--partner", "Beta", "-c", str(cfg), "--since", "2030-01-01"]
    )
    assert res.exit_code == 0, res.output
    assert "0 credentials of your users leaked" in res.stdout
    assert "bob@beta.example" not in res.stdout
    res = await asyncio.to_thread(
        runner.invoke, cli, ["report", "--partner", "Nobody", "-c", str(cfg)]
    )
    assert res.exit_code == 2
