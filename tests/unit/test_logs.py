"""Log lines carry their context: the `extra=` of each call reaches the console and JSON output."""

from __future__ import annotations

import io
import json
import logging

import pytest

from monitor import logs


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    yield out
    logs.configure(level="WARNING")


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
