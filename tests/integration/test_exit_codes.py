"""Exit codes as documented: 2 for every error an admin can cause, crashes included, each with
one line naming its cause (the traceback only with --debug)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from monitor.demo import write_demo
from tests.conftest import TEST_KEY


def cli(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ, CREDWATCH_HOME=str(home), CREDWATCH_HMAC_KEY=TEST_KEY.decode())
    environ.pop("CREDWATCH_LOG_LEVEL", None)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        capture_output=True, text=True, env=environ, timeout=120,
    )  # fmt: skip


def one_error_line(res: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


def test_config_path_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "credwatch.toml").mkdir()  # what Docker creates for a missing bind-mounted file
    for command in (["serve"], ["scan", str(tmp_path)], ["status"]):
        res = cli(*command, "--config", str(tmp_path / "credwatch.toml"), home=tmp_path)
        assert res.returncode == 2, (command, res.stderr)
        assert "is a directory" in one_error_line(res)


def test_metrics_port_in_use(dsn: str, tmp_path: Path) -> None:
    write_demo(tmp_path / "demo")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        res = cli(
            "serve", "--config", str(tmp_path / "demo" / "credwatch.toml"),
            "--metrics-port", str(port), home=tmp_path, CREDWATCH_DSN=dsn,
        )  # fmt: skip
    assert res.returncode == 2, res.stderr
    line = one_error_line(res)
    assert f"cannot serve metrics on 127.0.0.1:{port}" in line


def test_wrong_postgresql_bin_dir(tmp_path: Path) -> None:
    write_demo(tmp_path / "demo")
    env = {"CREDWATCH_PG_BINDIR": str(tmp_path / "nope"), "CREDWATCH_DSN": ""}
    res = cli("db", "where", home=tmp_path, **env)
    assert res.returncode == 2
    assert "CREDWATCH_PG_BINDIR" in one_error_line(res)
    scan = cli(
        "scan", "--config", str(tmp_path / "demo" / "credwatch.toml"),
        str(tmp_path / "demo" / "dumps"), home=tmp_path, **env,
    )  # fmt: skip
    assert scan.returncode == 2 and "CREDWATCH_PG_BINDIR" in one_error_line(scan)


def test_an_unexpected_crash_exits_2_with_one_line(tmp_path: Path) -> None:
    # A bin directory with initdb but no pg_ctl: nothing checks for that, it crashes deep down.
    bad = tmp_path / "bindir"
    bad.mkdir()
    (bad / "initdb").write_text("#!/bin/sh\nexit 0\n")  # a "PostgreSQL" that is not one
    (bad / "initdb").chmod(0o755)
    env = {"CREDWATCH_PG_BINDIR": str(bad), "CREDWATCH_DSN": ""}
    res = cli("db", "migrate", home=tmp_path, **env)
    assert res.returncode == 2, res.stderr
    line = one_error_line(res)
    assert "unexpected error (FileNotFoundError" in line and "--debug" in line
    debug = cli("--debug", "db", "migrate", home=tmp_path, **env)
    assert debug.returncode == 2
    assert "Traceback" in debug.stderr


def test_bad_log_format_is_an_error(tmp_path: Path) -> None:
    res = cli("--log-format", "xml", "plugins", home=tmp_path)
    assert res.returncode == 2 and "log format" in one_error_line(res)
