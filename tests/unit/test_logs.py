"""Log lines carry their context: the `extra=` of each call reaches the console and JSON output."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from monitor import logs


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    yield out
    logs.choose(level=None, fmt=None)


def test_console_line_has_event_and_context(stream: io.StringIO) -> None:
    logs.configure(level="INFO", fmt="console", stream=stream)
    logging.getLogger("monitor.daemon").info(
        "dropped file scanned", extra={"path": "/srv/drop/a.txt", "matches": 3}
    )
    logging.getLogger("monitor.outbox").warning(
        "alert delivery failed", extra={"channel": "slack", "error": "HTTP 503"}
    )
    first, second = stream.getvalue().splitlines()
    assert "dropped file scanned" in first
    assert "path=/srv/drop/a.txt" in first and "matches=3" in first
    assert "alert delivery failed" in second and "channel=slack" in second
    assert "HTTP 503" in second and "warning" in second


def test_json_lines_parse_with_their_context(stream: io.StringIO) -> None:
    logs.configure(level="INFO", fmt="json", stream=stream)
    logging.getLogger("monitor.respond").info(
        "containment done", extra={"exposure_id": 7, "provider": "okta", "status": "contained"}
    )
    logging.getLogger("monitor.daemon").debug("hidden below INFO", extra={"x": 1})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("monitor.daemon").exception("work failed", extra={"origin": "a.zip"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    assert lines[0]["event"] == "containment done"
    assert lines[0]["exposure_id"] == 7 and lines[0]["provider"] == "okta"
    assert lines[0]["level"] == "info" and lines[0]["logger"] == "monitor.respond"
    assert lines[0]["timestamp"].endswith("Z")
    assert lines[1]["origin"] == "a.zip" and "RuntimeError: boom" in lines[1]["exception"]


def test_dump_text_is_inert_on_the_terminal(stream: io.StringIO) -> None:
    logs.configure(level="INFO", fmt="console", stream=stream)
    logging.getLogger("x").info("input skipped", extra={"origin": "a\x1b]8;;http://evil\x07b"})
    assert "\x1b" not in stream.getvalue() and "\x07" not in stream.getvalue()


def test_bad_format_or_level_is_refused() -> None:
    with pytest.raises(ValueError, match="log format"):
        logs.configure(fmt="xml")
    with pytest.raises(ValueError, match="log level"):
        logs.configure(level="LOUD")


def _renderer() -> object:
    (handler,) = logging.getLogger().handlers
    formatter = handler.formatter
    assert isinstance(formatter, structlog.stdlib.ProcessorFormatter)
    return formatter.processors[-1]


def test_config_file_fills_what_the_command_line_left_unset(stream: io.StringIO) -> None:
    logs.choose(level=None, fmt=None, stream=stream)
    logs.from_file(level="INFO", fmt="json")
    logging.getLogger("monitor.daemon").info("from the file's level", extra={"n": 1})
    assert json.loads(stream.getvalue())["n"] == 1


def test_command_line_and_environment_win_over_the_config_file(stream: io.StringIO) -> None:
    logs.choose(level="ERROR", fmt="console", stream=stream)
    logs.from_file(level="DEBUG", fmt="json")
    logging.getLogger("monitor.daemon").warning("below the command line's level")
    logging.getLogger("monitor.daemon").error("written", extra={"n": 2})
    (line,) = stream.getvalue().splitlines()
    assert "written" in line and "n=2" in line and not line.startswith("{")


def test_each_setting_is_decided_on_its_own(stream: io.StringIO) -> None:
    logs.choose(level=None, fmt="console", stream=stream)
    logs.from_file(level="INFO", fmt="json")
    logging.getLogger("x").info("the file's level, the command line's format")
    assert "the file's level" in stream.getvalue() and not stream.getvalue().startswith("{")


@pytest.mark.parametrize(
    ("args", "env", "file", "level", "renderer"),
    [
        ([], {}, {}, logging.WARNING, structlog.dev.ConsoleRenderer),
        ([], {}, {"level": "INFO", "fmt": "json"}, logging.INFO, structlog.processors.JSONRenderer),
        (["--log-level", "ERROR"], {}, {"level": "DEBUG"}, logging.ERROR, None),
        ([], {logs.LEVEL_ENV: "ERROR"}, {"level": "DEBUG"}, logging.ERROR, None),
        (
            [],
            {logs.FORMAT_ENV: "json"},
            {"fmt": "console", "level": "INFO"},
            logging.INFO,
            structlog.processors.JSONRenderer,
        ),
        (["--log-format", "console"], {}, {"fmt": "json"}, None, structlog.dev.ConsoleRenderer),
    ],
)
def test_cli_options_take_precedence(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    file: dict[str, str],
    level: int | None,
    renderer: type | None,
) -> None:
    from monitor.cli import app

    for name in (logs.LEVEL_ENV, logs.FORMAT_ENV):
        monkeypatch.delenv(name, raising=False)
    try:
        res = CliRunner().invoke(app, [*args, "init", str(tmp_path / "c.toml")], env=env)
        assert res.exit_code == 0, res.output
        logs.from_file(level=file.get("level"), fmt=file.get("fmt"))
        if level is not None:
            assert logging.getLogger().level == level
        if renderer is not None:
            assert isinstance(_renderer(), renderer)
    finally:
        logs.choose(level=None, fmt=None)


@pytest.mark.parametrize("written", ["info", "Info", "INFO"])
def test_log_level_in_the_file_takes_any_case(written: str) -> None:
    from monitor.config_sections import LogSection
    from monitor.settings import load_section

    assert load_section(LogSection, {"level": written}, section="log").level == "INFO"
