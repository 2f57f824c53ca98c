"""Start-up is part of the user's wait: a command loads only what it uses.

Counted in modules rather than seconds, so a loaded machine cannot make it pass or fail: a small
`credwatch scan` (one process, the console notifier, a plain text file) never loads the HTTP
client, the queue library, the 7z, RAR and AES-zip libraries, the other plug-ins, the
service's parts, the worker or a progress bar it does not show; `credwatch --version` loads neither the store nor the config."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from monitor.cli_common import started, starting
from tests.conftest import TEST_KEY

CONFIG = """\
[organisation]
name = "Example"
domains = ["francetravail.fr"]
portals = ["https://portail-partenaire.francetravail.fr/kairos"]

[accounts]
logins = ["jdupont.of38"]
"""

# Never needed by a one-process scan of a plain file with the default (console) notifier.
NOT_FOR_A_SMALL_SCAN = (
    "aiohttp",  # HTTP plug-ins only
    "aiosmtplib",  # the e-mail notifier
    "apscheduler",  # `serve`
    "cryptography",  # the Google responder
    "ldap3",  # the LDAP responder
    "pgqueuer",  # units of work: --workers, --cluster, `worker`
    "py7zr",  # archives
    "pyzipper",
    "rarfile",
    "requests",  # the public-suffix list is read from its snapshot, not fetched
    "tldextract",
    "rich.progress",  # a progress bar only on a terminal
    "slack_bolt",
    "slack_sdk",
    "structlog",  # no log line at the default level
    "tenacity",
    "monitor.daemon",
    "monitor.doctor",
    "monitor.metrics",
    "monitor.scheduler",
    "monitor.worker",  # one process: no units, no worker
    "monitor.responders",
    "notifiers.slack",
    "notifiers.email",
    "notifiers.webhook",
    "feeds.hibp",
    "numpy",  # newlines of big blocks only
)

# `--version` and `--help` need the command line only.
NOT_FOR_VERSION = (
    "asyncpg",
    "monitor.app",
    "monitor.config",
    "monitor.pipeline",
    "monitor.store.store",
    "hyperscan",
    "rich.table",
    "structlog",
    "tldextract",
)


# The console script's own start, with every module loaded written out at exit (`-X importtime`
# misses the modules importlib loads, such as the plug-ins' entry points).
RUN = """\
import atexit, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write("\\n".join(sorted(sys.modules))))
from monitor.cli import main
sys.argv[0] = "credwatch"
sys.exit(main())
"""


def imported(
    *args: str, cwd: Path, **env: str
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the CLI; every module it loaded, by its dotted name."""
    environ = dict(os.environ, CREDWATCH_HMAC_KEY=TEST_KEY.decode(), **env)
    for name in ("CREDWATCH_LOG_LEVEL", "CREDWATCH_LOG_FORMAT"):
        environ.pop(name, None)
    out = cwd / "modules.txt"
    res = subprocess.run(
        [sys.executable, "-c", RUN, str(out), *args],
        capture_output=True, text=True, env=environ, cwd=cwd, timeout=120,
    )  # fmt: skip
    assert out.exists(), res.stderr[-2000:]
    modules = set(out.read_text(encoding="utf-8").split())
    assert "monitor.cli" in modules
    return res, modules


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


def test_a_small_scan_loads_only_what_it_uses(dsn: str, tmp_path: Path) -> None:
    (tmp_path / "credwatch.toml").write_text(CONFIG, encoding="utf-8")
    lines = [
        "https://portail-partenaire.francetravail.fr/kairos/login:jdupont.of38:Secret1x",
        *(f"https://site{i}.example.com/login:user{i}@mail.example:pw{i}" for i in range(9)),
    ]
    (tmp_path / "tiny.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    res, modules = imported(
        "scan", "--config", "credwatch.toml", "tiny.txt",
        cwd=tmp_path, CREDWATCH_DSN=dsn, CREDWATCH_HOME=str(tmp_path),
    )  # fmt: skip
    assert res.returncode == 1, res.stderr[-2000:]  # exposures found: the scan did its work
    assert "1 exposure(s) found" in res.stderr
    assert {"monitor.pipeline", "notifiers.console"} <= modules  # the measure sees them
    assert loaded(modules, NOT_FOR_A_SMALL_SCAN) == []


def test_version_loads_the_command_line_only(tmp_path: Path) -> None:
    res, modules = imported("--version", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.startswith("credwatch "), res.stderr[-2000:]
    assert loaded(modules, NOT_FOR_VERSION) == []


def test_the_collector_waits_for_the_start_of_the_console_script_only() -> None:
    usual, frozen = gc.get_threshold(), gc.get_freeze_count()
    started()  # in-process use (tests, embedding): the process keeps its own pace
    assert gc.get_threshold() == usual and gc.get_freeze_count() == frozen
    starting()
    try:
        assert gc.get_threshold()[0] > usual[0]
    finally:
        started()
    assert gc.get_threshold() == usual and gc.get_freeze_count() >= frozen
    gc.unfreeze()  # this test process goes on: what it froze is collectable again


def test_a_lookup_of_the_store_loads_neither_workers_nor_the_reader(
    dsn: str, tmp_path: Path
) -> None:
    (tmp_path / "credwatch.toml").write_text(CONFIG, encoding="utf-8")
    res, modules = imported(
        "lookup", "francetravail.fr", "--config", "credwatch.toml",
        cwd=tmp_path, CREDWATCH_DSN=dsn, CREDWATCH_HOME=str(tmp_path),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    assert "monitor.domain_lookup" in modules  # the measure sees it
    assert loaded(modules, (*NOT_FOR_A_SMALL_SCAN, "monitor.lookup_work")) == []
