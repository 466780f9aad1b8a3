"""SIGTERM stops the real daemon whichever of its threads the kernel hands the signal to."""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon import RunningDaemon, start_daemon

# tgkill(2) sends a signal to one thread of another process; Python only offers it for its own.
TGKILL = {"x86_64": 234, "aarch64": 131}.get(platform.machine())


@pytest.mark.skipif(TGKILL is None or not Path("/proc/self/task").exists(), reason="Linux tgkill only")
def test_sigterm_delivered_to_a_grpc_thread_still_stops_the_daemon(tmp_path: Path) -> None:
    """A process-wide SIGTERM may land on any thread; the main thread must still run the handler, exit 0."""
    daemon = start_daemon(f"sqlite:///{tmp_path / 'c.db'}", tmp_path)
    pid = daemon.process.pid
    with _killed_if_left_running(daemon):
        others = sorted(int(task) for task in os.listdir(f"/proc/{pid}/task") if int(task) != pid)
        assert others, "the daemon runs worker threads"
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.syscall(TGKILL, pid, others[-1], signal.SIGTERM) == 0, os.strerror(ctypes.get_errno())
        _assert_drained(daemon, 20)


def test_sigterm_while_the_first_snapshot_loads_drains_and_exits_cleanly(tmp_path: Path) -> None:
    """A SIGTERM between binding and SERVING (the cold start) is honoured once loaded: exit 0, not killed."""
    daemon = start_daemon(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, sample=True, serving=False)
    with _killed_if_left_running(daemon):
        daemon.process.send_signal(signal.SIGTERM)  # the port is bound; the sample lists are still going in
        _assert_drained(daemon, 60)


def _assert_drained(daemon: RunningDaemon, timeout: float) -> None:
    """The daemon exited 0 after logging that it stopped (drained), not killed by the signal."""
    assert daemon.process.wait(timeout) == 0, daemon.log_text()
    assert "stopped" in daemon.log_text()


@contextlib.contextmanager
def _killed_if_left_running(daemon: RunningDaemon) -> Iterator[None]:
    """Whatever the test asserted, no daemon outlives it."""
    try:
        yield
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait(10)
        daemon.channel.close()
