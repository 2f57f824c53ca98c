"""`credwatch status` summarises what the latest scans skipped, by reason, with first origins."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.demo import write_demo
from tests.gen.archives import truncated_zip, zip_bytes
from tests.integration.test_scan import run_cli

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
BLOB = b"\x00\x01\x02\x03" * 2000


def test_status_shows_skipped_inputs(dsn: str, tmp_path: Path) -> None:
    write_demo(tmp_path / "demo")
    cfg = str(tmp_path / "demo" / "credwatch.toml")
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "logs.zip").write_bytes(
        zip_bytes([("PC1/Screenshots/screen.png", PNG), ("PC1/wallet.bin", BLOB)])
    )
    (dumps / "broken.zip").write_bytes(
        truncated_zip([("PC2/Passwords.txt", b"URL: https://a.example/\n" * 4000)])
    )
    scanned = run_cli(["scan", "--config", cfg, str(dumps)], dsn, tmp_path)
    assert scanned.returncode == 0, scanned.stderr

    res = run_cli(["status", "--config", cfg, "--json"], dsn, tmp_path)
    assert res.returncode == 0, res.stderr
    skipped = {s["reason"]: s for s in json.loads(res.stdout)["skipped"]}
    assert skipped["screenshot skipped"]["count"] == 1
    assert skipped["screenshot skipped"]["origins"] == [
        f"{dumps / 'logs.zip'}!PC1/Screenshots/screen.png"
    ]
    assert skipped["binary skipped"]["count"] == 1
    assert skipped["binary skipped"]["origins"][0].endswith("PC1/wallet.bin")
    corrupt = [s for reason, s in skipped.items() if "broken.zip" in s["origins"][0]]
    assert len(corrupt) == 1 and corrupt[0]["count"] >= 1, skipped

    text = run_cli(["status", "--config", cfg], dsn, tmp_path)
    assert text.returncode == 0, text.stderr
    assert "skipped inputs" in text.stdout
    for reason in ("screenshot skipped", "binary skipped", corrupt[0]["reason"]):
        assert reason in text.stdout
    assert "PC1/Screenshots/screen.png" in text.stdout
