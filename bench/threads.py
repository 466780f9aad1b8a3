"""CPU per check by thread role of a server process, and of the client driving it.

A phase's CPU is read per native thread before and after it, from the scheduler's own account
(`/proc/PID/task/TID/schedstat`: nanoseconds on a CPU, and how many times the thread was run), so
a short phase is not rounded to the 10 ms clock ticks of `/proc/.../stat`. py-spy's dump names the
threads (Python 3.11 gives its threads no native names), so the split says what the rpc workers,
gRPC's own threads and the ledger writer each spent; threads that ended within the phase (a
stream's own) are the rest of the process's time. CPU time is what other tenants disturb least.
How often the live threads were run again says how many hand-offs between threads a check cost.
"""

from __future__ import annotations

import contextlib
import re
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import psutil

# py-spy dump: `Thread 1234 (idle): "rpc_0"`.
_DUMP_THREAD = re.compile(r'^Thread (\d+) \([^)]*\): "([^"]+)"', re.MULTILINE)
# Thread names -> roles: the pool workers of checkd (rpc_N) and of the no-op (ThreadPoolExecutor-0_N)
# are one role, as are gRPC's core threads (named natively by grpc).
_ROLES = (
    (re.compile(r"^rpc_\d+$|^ThreadPoolExecutor-\d+_\d+$"), "rpc workers"),
    (re.compile(r"\(_serve\)$"), "grpc _serve"),
    (re.compile(r"^(event_engine|grpc_global_tim|lifeguard|default-executo|resolver-execut)"), "grpc core"),
    (re.compile(r"^ledger-writer$"), "ledger writer"),
)


@dataclass(frozen=True)
class ThreadUse:
    """One thread's CPU seconds so far, and how many times the scheduler ran it."""

    seconds: float
    runs: int


_NOT_RUN = ThreadUse(0.0, 0)  # a thread that started within the phase


def thread_use(pid: int) -> dict[int, ThreadUse]:
    """The use of each live thread of `pid`, by native thread id."""
    used = {}
    for thread in psutil.Process(pid).threads():
        with contextlib.suppress(OSError, ValueError):  # the thread ended between the listing and the read
            on_cpu, _waiting, runs = Path(f"/proc/{pid}/task/{thread.id}/schedstat").read_text().split()
            used[thread.id] = ThreadUse(int(on_cpu) / 1e9, int(runs))
    return used


def process_seconds(pid: int) -> float:
    """CPU seconds of the whole process: its live threads and the ones that have ended."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def py_spy() -> str:
    """The py-spy of this venv (it is a dev dependency), or the one on PATH."""
    return shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


def thread_names(pid: int) -> dict[int, str]:
    """Thread names by native id: Python's names from py-spy's dump, else the kernel's (comm)."""
    names: dict[int, str] = {}
    for thread in psutil.Process(pid).threads():
        with contextlib.suppress(OSError):  # the thread ended between the listing and the read
            names[thread.id] = Path(f"/proc/{pid}/task/{thread.id}/comm").read_text().strip()
    try:
        dump = subprocess.run(
            [py_spy(), "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):  # no py-spy, or no permission: kernel names only
        return names
    names.update({int(tid): name for tid, name in _DUMP_THREAD.findall(dump)})
    return names


def role(name: str) -> str:
    """The role a thread of this name plays (`other` for the rest: main, pollers, readiness)."""
    for pattern, named in _ROLES:
        if pattern.search(name):
            return named
    return "other"


@dataclass
class PhaseCpu:
    """The CPU a phase cost: the server's seconds by thread role, and the client's own seconds."""

    server: dict[str, float] = field(default_factory=dict)
    client: float = 0.0
    runs: int = 0  # times the server's live threads were run (each after a wait or a preemption)

    def per_check(self, checks: int) -> str:
        """`total us (role us, ...; client us; thread runs N)` per check, roles by cost."""
        if not checks:
            return "no checks"
        roles = ", ".join(
            f"{name} {1e6 * seconds / checks:,.0f}"
            for name, seconds in sorted(self.server.items(), key=lambda item: -item[1])
            if seconds >= 0.0005  # a thread that hardly ran (readiness, pollers) is not a role of the phase
        )
        total = 1e6 * sum(self.server.values()) / checks
        client = 1e6 * self.client / checks
        return f"{total:,.0f} us ({roles}; client {client:,.0f}; thread runs {self.runs / checks:,.1f})"


class CpuMeter:
    """Measures phases of one server process: start() before a phase, stop() after it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._server: dict[int, ThreadUse] = {}
        self._process = 0.0
        self._client = 0.0
        # Per live thread, then the threads that ended during the phase (a stream's own), then the
        # client, then the runs of the live threads.
        self.phases: list[tuple[dict[int, float], float, float, int]] = []

    def start(self) -> None:
        """Note the CPU so far."""
        self._server, self._process = thread_use(self.pid), process_seconds(self.pid)
        self._client = _client_seconds()

    def stop(self) -> None:
        """Keep what the phase since start() cost."""
        now, process, client = thread_use(self.pid), process_seconds(self.pid), _client_seconds()
        before = {tid: self._server.get(tid, _NOT_RUN) for tid in now}
        spent = {tid: use.seconds - before[tid].seconds for tid, use in now.items()}
        runs = sum(use.runs - before[tid].runs for tid, use in now.items())
        # Threads alive at the start that ended since took their last seconds with them: a lower bound
        # (the process's own total is in clock ticks, so this share is the one still rounded to 10 ms).
        ended = (process - self._process) - sum(spent.values())
        self.phases.append((spent, max(0.0, ended), client - self._client, runs))

    def named(self) -> list[PhaseCpu]:
        """Every phase measured, its threads named by role (call while the server still runs)."""
        names = thread_names(self.pid)
        named = []
        for spent, ended, client, runs in self.phases:
            server: dict[str, float] = {"ended threads": ended}
            for tid, seconds in spent.items():
                named_role = role(names.get(tid, ""))
                server[named_role] = server.get(named_role, 0.0) + seconds
            named.append(PhaseCpu(server, client, runs))
        return named


def _client_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
