"""Logging set-up: every line carries its context (the `extra=` of the call), as readable
`key=value` text on a terminal or as JSON lines for a log collector (structlog's formatter over
the standard library's loggers, so every module keeps `logging.getLogger(__name__)`)."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor, WrappedLogger

FORMATS = ("console", "json")
FORMAT_ENV = "CREDWATCH_LOG_FORMAT"
LEVEL_ENV = "CREDWATCH_LOG_LEVEL"
DEFAULT_FORMAT = "console"
DEFAULT_LEVEL = "WARNING"


@dataclass(slots=True)
class _Given:
    """What the command line or the environment chose (None: left to the config file)."""

    level: str | None = None
    fmt: str | None = None
    stream: TextIO | None = None


_GIVEN = _Given()


def _inert(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Text from dumps reaches the terminal as printable characters only (no escape sequences)."""
    for key, value in event.items():
        if isinstance(value, str) and not value.isprintable():
            event[key] = "".join(c if c.isprintable() else "?" for c in value)
    return event


def _renderer(fmt: str, colors: bool) -> Processor:
    import structlog

    if fmt == "json":
        return structlog.processors.JSONRenderer(ensure_ascii=False)
    return structlog.dev.ConsoleRenderer(
        colors=colors, pad_event_to=0, exception_formatter=structlog.dev.plain_traceback
    )


def _colors(fmt: str, stream: TextIO | None) -> bool:
    return fmt == "console" and (stream or sys.stderr).isatty()


def formatter(fmt: str = "console", stream: TextIO | None = None) -> logging.Formatter:
    """The formatter for `fmt` ("console" or "json"); exported for tests and embedding."""
    _check_format(fmt)
    return _build(fmt, _colors(fmt, stream))


def _build(fmt: str, colors: bool) -> logging.Formatter:
    import structlog  # here, not at the top: a run that logs nothing never loads it

    pre_chain: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        _inert,
    ]
    final: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if fmt == "json":
        final.append(structlog.processors.format_exc_info)
    final.append(_renderer(fmt, colors))
    return structlog.stdlib.ProcessorFormatter(foreign_pre_chain=pre_chain, processors=final)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler whose formatter is built when first needed (a run that logs nothing
    never pays for building it)."""

    def __init__(self, stream: TextIO, fmt: str) -> None:
        super().__init__(stream)
        self._fmt = fmt
        self._colors = _colors(fmt, stream)  # asked now: the stream may be closed later
        self._built: logging.Formatter | None = None

    @property
    def formatter(self) -> logging.Formatter | None:
        if self._built is None and self._fmt:
            self._built = _build(self._fmt, self._colors)
        return self._built

    @formatter.setter
    def formatter(self, value: logging.Formatter | None) -> None:
        self._fmt = ""  # set by hand: this one, not ours
        self._built = value


def configure(
    *, level: str = "WARNING", fmt: str = "console", stream: TextIO | None = None
) -> None:
    """Route every logger to `stream` (stderr) at `level`, in `fmt`; replaces earlier set-ups."""
    if level.upper() not in logging.getLevelNamesMapping():
        raise ValueError(f"log level must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    _check_format(fmt)
    handler = _Handler(stream or sys.stderr, fmt)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


def choose(*, level: str | None, fmt: str | None, stream: TextIO | None = None) -> None:
    """Configure from the command line or the environment (None: not given there), and remember
    the choice: a config file's `[log]` table only fills what it left unset (`from_file`)."""
    _GIVEN.level, _GIVEN.fmt, _GIVEN.stream = level, fmt, stream
    configure(level=level or DEFAULT_LEVEL, fmt=fmt or DEFAULT_FORMAT, stream=stream)


def from_file(*, level: str | None, fmt: str | None) -> None:
    """Apply the config file's `[log]` values where the command line and environment set none."""
    level = _GIVEN.level or level
    fmt = _GIVEN.fmt or fmt
    if level == _GIVEN.level and fmt == _GIVEN.fmt:
        return  # nothing the file adds
    configure(level=level or DEFAULT_LEVEL, fmt=fmt or DEFAULT_FORMAT, stream=_GIVEN.stream)
