"""Abandoned StreamCheck calls (cancelled, past their deadline, client gone) free their worker and slot."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import check_pb2_grpc
from tests import factories
from tests.daemon import ROOT, RunningDaemon, start_daemon
from tests.integration.test_ops import scrape, value

DEPT, SCENE = "market_regulation", "administrative_licensing"
STREAMS = 100  # abandoned streams per way of abandoning
ROUND = 10  # streams open at once
WORKERS = 16  # small, as in the report: 16 stuck streams used to hang the daemon
GRACE = 5.0  # the --grace start_daemon gives the daemon
HANG_SECONDS = 30.0  # a call not answered within this is waiting for a worker that never comes
# The StreamCheck handler's labels in the standard grpc_server_* metrics.
STREAM_RPC = {
    "grpc_service": "checkd.v1.CheckService",
    "grpc_method": "StreamCheck",
    "grpc_type": "bidi_stream",
}
# Run by a child process that is then killed with SIGKILL: it opens streams, reads one answer of
# each and then sits there, so the daemon sees its connection drop with every stream open.
_KILLED_CLIENT = """
import sys, threading, grpc
from checkd.api.v1 import check_pb2 as pb, check_pb2_grpc
port, count, subject = sys.argv[1], int(sys.argv[2]), sys.argv[3]
stub = check_pb2_grpc.CheckServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
hold = threading.Event()
def items():
    yield pb.CheckRequest(department="market_regulation", scene="administrative_licensing",
                          subjects=[pb.Subject(id=subject)])
    hold.wait()
calls = [stub.StreamCheck(items(), timeout=60) for _ in range(count)]
for call in calls:
    next(call)
print("ready", flush=True)
hold.wait()
"""


def _request(subject: str) -> pb.CheckRequest:
    return pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=subject)])


def _held_items(subject: str, release: threading.Event) -> Iterator[pb.CheckRequest]:
    """One item, then a stream that stays open (never half-closed) until `release`."""
    yield _request(subject)
    release.wait(120)


def _start(tmp_path: Path, *extra: str) -> tuple[RunningDaemon, str]:
    port_file = tmp_path / f"ops-port-{time.monotonic_ns()}"
    daemon = start_daemon(
        f"sqlite:///{tmp_path / 'c.db'}",
        tmp_path,
        "--ops-listen",
        "127.0.0.1:0",
        "--ops-port-file",
        str(port_file),
        *extra,
    )
    return daemon, f"http://127.0.0.1:{int(port_file.read_text())}"


def _streams_ended(ops: str) -> float:
    """StreamCheck calls whose handler has finished (the latency histogram counts each ending once)."""
    return value(scrape(ops), "grpc_server_handling_seconds_count", **STREAM_RPC)


def _wait_streams_ended(ops: str, expected: float, how: str, timeout: float = 60.0) -> None:
    """Wait (bounded) until `expected` StreamCheck handlers have ended on the daemon."""
    deadline = time.monotonic() + timeout
    ended = _streams_ended(ops)
    while ended < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        ended = _streams_ended(ops)
    assert ended >= expected, f"after {how}: only {ended:.0f} of {expected:.0f} StreamCheck handlers ended"


def _threads(daemon: RunningDaemon) -> int:
    """The daemon process's thread count (a stuck stream leaves its reader thread behind)."""
    return len(os.listdir(f"/proc/{daemon.process.pid}/task"))


def _latencies(daemon: RunningDaemon, subject: str, rounds: int = 20) -> list[float]:
    """Seconds per Check + Health pair (printed, not asserted: a hung daemon fails the calls' deadline)."""
    taken = []
    for _ in range(rounds):
        started = time.perf_counter()
        daemon.check.Check(_request(subject), timeout=HANG_SECONDS)
        health = daemon.health.Check(health_pb2.HealthCheckRequest(service=""), timeout=HANG_SECONDS)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        taken.append(time.perf_counter() - started)
    return taken


def _all_workers_serve(daemon: RunningDaemon, subject: str, release: threading.Event) -> list[float]:
    """Every worker but one takes a new stream at once; Check and Health answer on the last one.

    A worker still held by an abandoned stream leaves one of these calls waiting for a worker past
    HANG_SECONDS (the streams' own deadline is later, so none frees one meanwhile), and the test
    fails there: the workers are counted, not timed. The streams are then cancelled; the Check +
    Health seconds are returned for the log.
    """
    calls = [daemon.check.StreamCheck(_held_items(subject, release), timeout=120) for _ in range(WORKERS - 1)]
    try:
        with ThreadPoolExecutor(len(calls)) as pool:
            for first in pool.map(next, calls, timeout=HANG_SECONDS):
                assert first.subjects[0].id == subject
        return _latencies(daemon, subject, rounds=5)
    finally:
        for call in calls:
            call.cancel()


def _check_when_admitted(daemon: RunningDaemon, subject: str) -> pb.CheckResponse:
    """A Check, retried briefly while refused: the slot is given back just after the handler ends."""
    for _ in range(20):
        try:
            answer: pb.CheckResponse = daemon.check.Check(_request(subject), timeout=10)
            return answer
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise
            time.sleep(0.1)
    raise AssertionError("the cancelled stream never gave its slot back")


def test_abandoned_streams_free_their_workers(tmp_path: Path) -> None:
    """Streams cancelled, past their deadline or dropped by their client leave the daemon answering.

    100 of each way; afterwards every worker serves a new stream at once while Check and Health
    still answer, no reader thread is left behind, and SIGTERM still exits 0 within the grace.
    """
    daemon, ops = _start(tmp_path, "--workers", str(WORKERS))
    release = threading.Event()
    try:
        subject = factories.uscc()
        _latencies(daemon, subject, rounds=5)  # warm up
        baseline = _latencies(daemon, subject)
        threads_before = _threads(daemon)
        ended = _streams_ended(ops)
        # Rounds of ROUND streams open at once, each after its first answer (fewer than the workers,
        # so every stream is being served when it is abandoned).
        for way, abandon in (
            ("cancelled", _cancel),
            ("past their deadline", _expire),
            ("on a closed channel", _close_channel),
            ("of a killed client", _kill_client),
        ):
            for _ in range(STREAMS // ROUND):
                abandon(daemon, subject, release)
            ended += STREAMS
            _wait_streams_ended(ops, ended, f"{STREAMS} streams {way}")
            after = _all_workers_serve(daemon, subject, release)
            ended += WORKERS - 1
            _wait_streams_ended(ops, ended, f"the {WORKERS - 1} streams after those {way}")
        threads_after = _threads(daemon)
        # The worker pool may have grown to its size meanwhile; 400 reader threads must not remain.
        assert threads_after <= threads_before + WORKERS + 10, (threads_before, threads_after)
        print(
            f"Check+Health seconds: baseline median {statistics.median(baseline):.4f} "
            f"max {max(baseline):.4f}; after {4 * STREAMS} abandoned streams median "
            f"{statistics.median(after):.4f} max {max(after):.4f}; "
            f"daemon threads {threads_before} -> {threads_after}"
        )
        release.set()
        assert daemon.stop(timeout=GRACE + 10) == 0, daemon.log_text()[-3000:]
    finally:
        release.set()
        _kill(daemon)


def _opened(
    stub: check_pb2_grpc.CheckServiceStub, subject: str, release: threading.Event, timeout: float = 30
) -> list[grpc.Future]:
    """ROUND streams, each open (not half-closed) after its first answer."""
    calls = [stub.StreamCheck(_held_items(subject, release), timeout=timeout) for _ in range(ROUND)]
    for call in calls:
        assert next(call).subjects[0].id == subject
    return calls


def _cancel(daemon: RunningDaemon, subject: str, release: threading.Event) -> None:
    """The client cancels its open streams."""
    for call in _opened(daemon.check, subject, release):
        call.cancel()


def _expire(daemon: RunningDaemon, subject: str, release: threading.Event) -> None:
    """The client's deadline passes with its streams open."""
    for call in _opened(daemon.check, subject, release, timeout=1.0):
        with pytest.raises(grpc.RpcError) as caught:
            list(call)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def _close_channel(daemon: RunningDaemon, subject: str, release: threading.Event) -> None:
    """The client closes its channel abruptly with its streams open."""
    channel = grpc.insecure_channel(f"127.0.0.1:{daemon.port}")
    _opened(check_pb2_grpc.CheckServiceStub(channel), subject, release)
    channel.close()


def _kill_client(daemon: RunningDaemon, subject: str, release: threading.Event) -> None:
    """A client process with open streams is killed with SIGKILL."""
    client = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CLIENT, str(daemon.port), str(ROUND), subject],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout is not None and client.stdout.readline().strip() == "ready"
    finally:
        client.kill()
        client.wait(10)


def _kill(daemon: RunningDaemon) -> None:
    """Leave no daemon behind when a test failed before stopping it."""
    if daemon.process.poll() is None:
        daemon.process.kill()
        daemon.process.wait(10)


def test_a_stream_holds_one_slot_until_it_ends(tmp_path: Path) -> None:
    """Open streams count toward --max-concurrent-rpcs, and a cancelled one gives its slot back."""
    daemon, ops = _start(tmp_path, "--workers", "8", "--max-concurrent-rpcs", "3")
    release = threading.Event()
    try:
        subject = factories.uscc()
        calls = [daemon.check.StreamCheck(_held_items(subject, release), timeout=60) for _ in range(3)]
        for call in calls:
            assert next(call).subjects[0].id == subject
        with pytest.raises(grpc.RpcError) as caught:
            daemon.check.Check(_request(subject), timeout=10)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        ended = _streams_ended(ops)
        calls[0].cancel()
        _wait_streams_ended(ops, ended + 1, "one cancelled stream")
        assert _check_when_admitted(daemon, subject).subjects[0].id == subject
        for call in calls[1:]:
            call.cancel()
        release.set()
        assert daemon.stop(timeout=GRACE + 10) == 0, daemon.log_text()[-3000:]
    finally:
        release.set()
        _kill(daemon)
