"""The log output: info lines gathered and written together, louder lines at once, nothing lost at exit."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import BinaryIO, cast

import pytest

from checkd.ops.log import GatheringBytesLogger, GuardedOutput


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    """A pipe whose read end never blocks: (read end, write end)."""
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    yield read_end, write_end
    for fd in (read_end, write_end):
        with contextlib.suppress(OSError):  # closed by the test itself
            os.close(fd)


def _written(read_end: int) -> bytes:
    try:
        return os.read(read_end, 1 << 16)
    except BlockingIOError:
        return b""


def test_info_lines_wait_and_a_warning_writes_them_first_in_order(pipe: tuple[int, int]) -> None:
    """Info lines are gathered, not written one by one; a warning writes them, then itself."""
    read_end, write_end = pipe
    with os.fdopen(write_end, "wb", closefd=False) as stream:
        output = GuardedOutput(stream, flush_seconds=3600)  # the flusher stays out of the way
        logger = GatheringBytesLogger(cast(BinaryIO, output))
        logger.info(b'{"event":"check","n":1}')
        logger.info(b'{"event":"check","n":2}')
        assert _written(read_end) == b"", "an info line was written at once, not gathered"
        logger.warning(b'{"event":"store_unavailable"}')
        assert _written(read_end) == (
            b'{"event":"check","n":1}\n{"event":"check","n":2}\n{"event":"store_unavailable"}\n'
        )


def test_gathered_lines_reach_the_log_without_a_louder_one(pipe: tuple[int, int]) -> None:
    """The flusher writes gathered info lines on its own."""
    read_end, write_end = pipe
    with os.fdopen(write_end, "wb", closefd=False) as stream:
        logger = GatheringBytesLogger(cast(BinaryIO, GuardedOutput(stream, flush_seconds=0.05)))
        logger.info(b'{"event":"check"}')
        seen, deadline = b"", time.monotonic() + 30  # liveness, not speed: the bound is generous
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
            seen = _written(read_end)
        assert seen == b'{"event":"check"}\n'


def test_a_failed_write_drops_the_gathered_lines_and_counts_it(pipe: tuple[int, int]) -> None:
    """Lines that cannot be written (the reader gone) are dropped and counted, never raised."""
    read_end, write_end = pipe
    os.close(read_end)
    with os.fdopen(write_end, "wb", closefd=False) as stream:
        output = GuardedOutput(stream, flush_seconds=3600)
        logger = GatheringBytesLogger(cast(BinaryIO, output))
        logger.info(b'{"event":"check","n":1}')
        logger.info(b'{"event":"check","n":2}')
        output.flush()  # EPIPE: Python ignores SIGPIPE, so the write raises BrokenPipeError
        assert output.failures == 2, "the dropped lines were not counted one by one"


def test_lines_still_gathered_at_exit_are_written() -> None:
    """A process that exits right after logging leaves every line in its log."""
    # The root logger is set up first, so logging's own flush at exit does not reach checkd's
    # output (basicConfig does nothing the second time): the output must write what it holds itself.
    program = (
        "import logging, sys, structlog\n"
        "logging.basicConfig(stream=sys.stdout)\n"
        "from checkd.ops import log\n"
        "log.configure('json')\n"
        "for n in range(3):\n"
        "    structlog.get_logger('t').info('check', n=n)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=60, check=True)
    lines = done.stderr.decode().splitlines()
    assert [line.count('"event":"check"') for line in lines] == [1, 1, 1], done.stderr
