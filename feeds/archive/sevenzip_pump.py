"""Pull-style 7z extraction: py7zr pushes members from a thread, the walk reads them as streams."""

from __future__ import annotations

import contextlib
import io
import queue
import threading
import zlib
from typing import IO, Any

import py7zr
import py7zr.exceptions
import py7zr.io

from feeds.archive.errors import ArchiveError, as_archive_error
from feeds.archive.streams import BUFFER, COPY_CHUNK


class _Cancelled(Exception):
    """Raised inside the extraction thread when the walk stops early."""


class SevenZipPump:
    """Runs py7zr's push-style extraction in a thread and hands out members as pull streams.

    The queue is bounded and chunks are small, so memory stays flat whatever the member size.
    """

    def __init__(self, archive: py7zr.SevenZipFile, *, skip: frozenset[int] = frozenset()) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=8)
        self._cancel = threading.Event()
        self._archive = archive
        self._skip = skip  # file ids never extracted (bomb members, see sevenzip_plan)
        self._terminal: tuple[str, Any] | None = None
        self._thread = threading.Thread(target=self._run, name="credwatch-7z", daemon=True)
        self._thread.start()

    # producer side (extraction thread)

    def put(self, kind: str, value: Any) -> None:
        while True:
            if self._cancel.is_set():
                raise _Cancelled
            try:
                self._queue.put((kind, value), timeout=0.05)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        archive = self._archive
        try:
            worker = archive.worker
            factory = _PumpFactory(self)
            for info in archive.files:
                if info.is_directory or info.is_socket or info.is_symlink or info.id in self._skip:
                    worker.register_filelike(info.id, None)
                else:
                    worker.register_filelike(info.id, py7zr.io.MemIO(str(info.id), factory))
            _bound_chunks(worker)
            worker.extract(archive.fp, None, parallel=False)
            self.put("done", None)
        except _Cancelled:
            return
        except Exception as exc:
            with contextlib.suppress(_Cancelled):
                self.put("error", exc)

    # consumer side (walk)

    def next_member(self) -> tuple[str, PumpReader] | None:
        kind, value = self.get()
        if kind == "start":
            return value, PumpReader(self)
        if kind == "done":
            return None
        if kind == "error":
            raise as_archive_error(value)
        raise ArchiveError("corrupt 7z")  # pragma: no cover - data outside a member

    def get(self) -> tuple[str, Any]:
        """The next event; once the thread has finished ("done"/"error") that one, forever."""
        if self._terminal is not None:
            return self._terminal
        item = self._queue.get()
        if item[0] in ("done", "error"):
            self._terminal = item
        return item

    def cancel(self) -> None:
        self._cancel.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                while True:
                    self._queue.get_nowait()
            self._thread.join(timeout=0.05)


class _PumpWriter(py7zr.io.Py7zIO):
    def __init__(self, pump: SevenZipPump) -> None:
        self._pump = pump

    def write(self, s: bytes | bytearray) -> int:
        view = memoryview(s)
        for start in range(0, len(view), BUFFER * 4):
            self._pump.put("data", bytes(view[start : start + BUFFER * 4]))
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return 0

    def close(self) -> None:
        self._pump.put("end", None)


class _PumpFactory(py7zr.io.WriterFactory):
    def __init__(self, pump: SevenZipPump) -> None:
        self._pump = pump

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        self._pump.put("start", filename)
        return _PumpWriter(self._pump)


class PumpReader(io.RawIOBase):
    """The bytes of the current 7z member; an extraction error surfaces as `ArchiveError`."""

    def __init__(self, pump: SevenZipPump) -> None:
        super().__init__()
        self._pump = pump
        self._left = b""
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._left and not self._ended:
            kind, value = self._pump.get()
            if kind == "data":
                self._left = value
            elif kind == "end":
                self._ended = True
            elif kind == "error":
                self._ended = True
                raise as_archive_error(value)
            else:
                raise ArchiveError("truncated data")
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size

    def drain(self) -> None:
        """Skip what the consumer left unread so the next member can start."""
        while not self._ended:
            self._left = b""
            self.readinto(memoryview(bytearray(1)))
        self._left = b""


def _bound_chunks(worker: Any) -> None:
    """Make py7zr decompress in 1 MiB steps instead of up to 128 MB (memory stays flat)."""
    stock = getattr(worker, "decompress", None)
    if stock is None:  # pragma: no cover - py7zr internals changed
        return

    def decompress(
        fp: IO[bytes],
        folder: Any,
        fq: IO[Any],
        size: int,
        compressed_size: int | None,
        src_end: int,
        q: Any = None,
    ) -> int:
        crc32 = 0
        remaining = size
        decoder = folder.get_decompressor(compressed_size)
        while remaining > 0:
            before = fp.tell()
            data = decoder.decompress(fp, min(remaining, COPY_CHUNK))
            if data:
                remaining -= len(data)
                fq.write(data)
                crc32 = zlib.crc32(data, crc32)
            elif fp.tell() == before:
                raise py7zr.exceptions.Bad7zFile("decompression made no progress")
        if fp.tell() >= src_end and decoder.crc is not None and not decoder.check_crc():
            raise py7zr.exceptions.CrcError(decoder.crc, decoder.digest, None)
        return crc32

    worker.decompress = decompress
