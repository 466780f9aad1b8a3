"""structlog setup: JSON lines in production, readable console lines in development.

Log output never fails its caller: a line that cannot be written (log disk full, closed pipe) is
dropped and counted, so a logging call inside an error handler cannot kill a thread or turn a
recorded check into an error. Info lines (a `check` per unary call) are gathered and written a few
times a second; anything louder is written at once, after the info lines before it.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

import orjson
import structlog

# How long an info line may wait before it reaches the log. A write per line cost a unary Check
# ~75 us of daemon CPU under load (a system call and a hand-off of the interpreter lock each);
# written in groups, the lines of a busy tenth of a second share one. A crash (SIGKILL) loses at
# most this much of them; the checks themselves are in the ledger.
FLUSH_SECONDS = 0.1
FLUSH_BYTES = 64 * 1024  # a burst is written before it grows a large buffer


class GuardedOutput:
    """A log stream whose writes never raise: an OSError drops the lines and counts them.

    `write` gathers lines (when the stream has a descriptor) and `flush` writes what is gathered;
    a background thread flushes every FLUSH_SECONDS, and at exit whatever is left is written.
    """

    def __init__(self, stream: IO[Any], flush_seconds: float = FLUSH_SECONDS) -> None:
        self._stream = stream
        try:  # write the file descriptor directly: no buffer of the stream's own left holding lines
            self._fd: int | None = stream.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            self._fd = None
        self.failures = 0
        self._gathered = bytearray()
        self._gathering = threading.Lock()  # guards _gathered
        self._writing = threading.Lock()  # one write at a time, so lines keep their order
        if self._fd is not None:
            threading.Thread(
                target=self._flush_every, args=(flush_seconds,), name="log-flusher", daemon=True
            ).start()
            atexit.register(self.flush)

    def write(self, data: str | bytes) -> int:
        """Gather `data` for the next flush (write it at once if the stream has no descriptor)."""
        if self._fd is None:
            self._write_through(data)
            return len(data)
        with self._gathering:
            self._gathered += data.encode() if isinstance(data, str) else data
            full = len(self._gathered) >= FLUSH_BYTES
        if full:
            self.flush()
        return len(data)

    def flush(self) -> None:
        """Write every gathered line now, or drop them and count the failure."""
        if self._fd is None:
            return
        with self._writing:
            with self._gathering:
                data, self._gathered = self._gathered, bytearray()
            if data:
                self._write_through(data)

    def _flush_every(self, seconds: float) -> None:
        while True:
            time.sleep(seconds)
            self.flush()

    def _write_through(self, data: str | bytes | bytearray) -> None:
        try:
            if self._fd is None:
                self._stream.write(data)
                self._stream.flush()
            else:
                view = memoryview(data.encode() if isinstance(data, str) else data)
                while view:
                    view = view[os.write(self._fd, view) :]
        except (OSError, ValueError):  # ENOSPC, EPIPE, EIO; ValueError: the stream was closed
            lines = (data.count("\n") if isinstance(data, str) else data.count(b"\n")) or 1
            self.failures += lines
            hook = _failure_hook
            if hook is not None:
                with contextlib.suppress(Exception):  # a broken counter must not break logging either
                    hook(lines)


class _GatheringInfo:
    """Info and debug lines go to the output without its flush, so they wait for the flusher."""

    _file: Any

    def info(self, message: str | bytes) -> None:
        """Gather *message*; the flusher writes it within FLUSH_SECONDS."""
        self._file.write(message + b"\n" if isinstance(message, bytes) else message + "\n")

    debug = info


class GatheringBytesLogger(_GatheringInfo, structlog.BytesLogger):
    """structlog's BytesLogger (JSON lines), with info and debug lines gathered."""


class GatheringPrintLogger(_GatheringInfo, structlog.PrintLogger):
    """structlog's PrintLogger (console lines), with info and debug lines gathered."""


_failure_hook: Callable[[int], None] | None = None


def on_write_failure(hook: Callable[[int], None] | None) -> None:
    """Call `hook` with how many log lines could not be written, at each failure (the metrics count them)."""
    global _failure_hook  # noqa: PLW0603 - the log stream is process-wide, so is its failure hook
    _failure_hook = hook


def configure(fmt: str = "console", level: int = logging.INFO) -> GuardedOutput:
    """Route structlog and stdlib logging to stderr in the chosen format (called once at start)."""
    # orjson renders a JSON line several times faster than the json module (a line per check
    # adds up) and writes UTF-8 as is; the console renderer is for people, not for speed.
    json_lines = fmt == "json"
    output = GuardedOutput(sys.stderr)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(serializer=orjson.dumps)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    # GuardedOutput is a file-like wrapper, not the BinaryIO/TextIO the factories are annotated with.
    stream: Any = output
    logger: Any = GatheringBytesLogger(stream) if json_lines else GatheringPrintLogger(stream)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *_: logger,
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=output)
    return output
