"""What every command module shares: exit codes, common options, running and failing."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from monitor import output
from monitor.errors import CredwatchError
from monitor.output import err

if TYPE_CHECKING:
    from monitor.app import App

# Command modules import only what their options need here; everything a command uses is
# imported inside it, so a command loads only its own dependencies.
EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2
_STARTING = (100_000, 10, 10)  # allocations between collections while the command starts


@dataclass(slots=True)
class _Pace:
    usual: tuple[int, int, int] | None = None  # the collector's pace to return to, while starting


_PACE = _Pace()
T = TypeVar("T")
ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Configuration file.", show_default=True)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
RangeSizeOpt = Annotated[
    int,
    typer.Option(help="Bytes of a text base per unit (0: about 8 units per process, 4-64 MiB)."),
]


def _run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(coro_fn())  # type: ignore[arg-type]
    except CredwatchError as exc:
        output.error(str(exc))
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def _fail(message: str) -> typer.Exit:
    output.error(message)
    return typer.Exit(EXIT_ERROR)


def starting() -> None:
    """Start-up builds what lives until the process ends (modules, models, the watchlist, the
    application): the garbage collector, which would walk it again at every step of its growth
    (a tenth of the start of a small scan), runs rarely until the application is up. Called by
    the console script only: a process that runs commands in-process keeps its own pace."""
    if _PACE.usual is None:
        _PACE.usual = gc.get_threshold()
        gc.set_threshold(*_STARTING)


def started() -> None:
    """The application is up: what start-up built is set aside for good (the collector no longer
    walks it, during a long scan either) and collection returns to its usual pace."""
    if _PACE.usual is not None:
        gc.freeze()
        gc.set_threshold(*_PACE.usual)
        _PACE.usual = None


@asynccontextmanager
async def _open(config: Path, **kwargs: Any) -> AsyncIterator[App]:
    """The application, announcing an embedded database on stderr."""
    from monitor.app import open_app

    async with open_app(config, announce=lambda text: err.print(text, style="dim"), **kwargs) as a:
        started()
        yield a
