"""structlog setup: JSON lines in production, readable console lines in development.

Log output never fails its caller: a line that cannot be written (log disk full, closed pipe) is
dropped and counted, so a logging call inside an error handler cannot kill a thread or turn a
recorded check into an error.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable
from typing import IO, Any

import orjson
import structlog


class GuardedOutput:
    """A log stream whose writes never raise: an OSError drops the line and calls the failure hook."""

    def __init__(self, stream: IO[Any]) -> None:
        self._stream = stream
        try:  # write the file descriptor directly: no buffer left holding lines that failed
            self._fd: int | None = stream.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            self._fd = None
        self.failures = 0

    def write(self, data: str | bytes) -> int:
        """Write all of `data`, or drop it and count the failure."""
        try:
            if self._fd is None:
                self._stream.write(data)
                self._stream.flush()
            else:
                view = memoryview(data.encode() if isinstance(data, str) else data)
                while view:
                    view = view[os.write(self._fd, view) :]
        except (OSError, ValueError):  # ENOSPC, EPIPE, EIO; ValueError: the stream was closed
            self.failures += 1
            hook = _failure_hook
            if hook is not None:
                with contextlib.suppress(Exception):  # a broken counter must not break logging either
                    hook()
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered here (each write went to the descriptor or was flushed)."""


_failure_hook: Callable[[], None] | None = None


def on_write_failure(hook: Callable[[], None] | None) -> None:
    """Call `hook` for each log line that could not be written (the metrics count them)."""
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
    factory: Any = (
        structlog.BytesLoggerFactory(file=stream) if json_lines else structlog.PrintLoggerFactory(file=stream)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=output)
    return output
