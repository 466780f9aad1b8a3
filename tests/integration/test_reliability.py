"""Reliability through the real daemon: SIGKILL loses nothing, graceful stop, overload, bad bytes."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import grpc
import pytest

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import check_pb2_grpc
from checkd.api.v1 import registry_pb2 as reg
from tests import factories
from tests.daemon import RunningDaemon, start_daemon

DEPT, SCENE = "market_regulation", "administrative_licensing"
KILL_ROUNDS = 20
ALLOWED_UNDER_LOAD = {
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}


def _request(enterprise: str, request_id: str = "") -> pb.CheckRequest:
    return pb.CheckRequest(
        request_id=request_id, department=DEPT, scene=SCENE, subjects=[pb.Subject(id=enterprise)]
    )


def _drive(
    daemon: RunningDaemon,
    enterprise: str,
    tag: str,
    stop: threading.Event,
    checks: dict[str, pb.CheckResponse],
    feedback: dict[str, str],
) -> None:
    """Send checks and feedback until stopped or the daemon dies; keep what was acknowledged."""
    n = 0
    while not stop.is_set():
        n += 1
        request_id = f"{tag}-{n}"
        try:
            response = daemon.check.Check(_request(enterprise, request_id), timeout=5)
        except grpc.RpcError:
            return
        checks[request_id] = response
        if n % 3 == 0:
            outcome = pb.FeedbackOutcome(
                measure_id=response.subjects[0].measures[0].measure_id,
                subject_id=enterprise,
                outcome=pb.OUTCOME_APPLIED,
            )
            try:
                ack = daemon.check.SubmitFeedback(
                    pb.FeedbackRequest(check_id=response.check_id, outcomes=[outcome]), timeout=5
                )
            except grpc.RpcError:
                return
            feedback[response.check_id] = ack.feedback_id


def test_sigkill_loses_no_acknowledged_check_or_feedback(db_url: str, tmp_path: Path) -> None:
    """Killed with SIGKILL at 20 random moments under load, every acknowledged record survives intact."""
    rng = random.Random(20261128)
    daemon = start_daemon(db_url, tmp_path)
    enterprise = factories.uscc()
    daemon.registry.UpsertEntries(
        reg.UpsertEntriesRequest(
            entries=[
                factories.entry_input(factories.entry_row("K-1", enterprise, "serious_illegal_dishonest"))
            ]
        ),
        timeout=30,
    )
    total_checks = total_feedback = 0
    for round_ in range(KILL_ROUNDS):
        checks: dict[str, pb.CheckResponse] = {}
        feedback: dict[str, str] = {}
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=_drive, args=(daemon, enterprise, f"r{round_}t{t}", stop, checks, feedback)
            )
            for t in range(3)
        ]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(daemon.process.pid, signal.SIGKILL)
        daemon.process.wait(10)
        stop.set()
        for thread in threads:
            thread.join(10)
        daemon.channel.close()
        daemon = start_daemon(db_url, tmp_path)
        for request_id, response in checks.items():
            record = daemon.check.GetCheck(pb.GetCheckRequest(check_id=response.check_id), timeout=10)
            assert record.response == response, f"round {round_}: {request_id} changed or lost"
            if response.check_id in feedback:
                assert feedback[response.check_id] in [f.feedback_id for f in record.feedback]
        if checks:  # a retried request_id after the restart gets the original answer
            request_id, original = next(iter(checks.items()))
            again = daemon.check.Check(_request(enterprise, request_id), timeout=10)
            assert again == original
        total_checks += len(checks)
        total_feedback += len(feedback)
    assert daemon.stop() == 0
    assert total_checks > KILL_ROUNDS, "the kills landed while checks were flowing"
    print(
        f"acknowledged and verified after {KILL_ROUNDS} kills: {total_checks} checks, "
        f"{total_feedback} feedback"
    )


def test_sigterm_lets_in_flight_calls_finish(tmp_path: Path) -> None:
    """A batch in flight when SIGTERM arrives is answered in full; the daemon then exits 0."""
    daemon = start_daemon(f"sqlite:///{tmp_path / 'c.db'}", tmp_path)
    enterprise = factories.uscc()
    batch = pb.BatchCheckRequest(requests=[_request(enterprise)] * 1000)
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(daemon.check.BatchCheck(batch, timeout=60))
        except grpc.RpcError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.3)
    daemon.process.send_signal(signal.SIGTERM)
    caller.join(60)
    assert daemon.process.wait(30) == 0
    (result,) = outcome
    assert isinstance(result, pb.BatchCheckResponse), result
    assert len(result.results) == 1000
    assert all(r.WhichOneof("result") == "response" for r in result.results)


def test_garbage_bytes_on_the_wire_are_invalid_argument(daemon: RunningDaemon) -> None:
    """Bytes that are not a protobuf message get INVALID_ARGUMENT, never INTERNAL or UNKNOWN."""
    for method in ("Check", "BatchCheck", "SubmitFeedback", "GetCheck"):
        call = daemon.channel.unary_unary(
            f"/checkd.v1.CheckService/{method}", request_serializer=None, response_deserializer=None
        )
        for garbage in (b"\xff\xff\xff\xff", b"\x0a\x05ab", os.urandom(64) + b"\x0a\xff"):
            with pytest.raises(grpc.RpcError) as caught:
                call(garbage, timeout=5)
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (method, caught.value)
            assert "not a valid checkd.v1." in (caught.value.details() or "")


def test_expired_deadline_is_not_processed(daemon: RunningDaemon) -> None:
    """A call that arrives past its deadline is refused as DEADLINE_EXCEEDED and leaves no record."""
    enterprise = factories.uscc()  # the retry is the same request: a request_id belongs to one request
    with pytest.raises(grpc.RpcError) as caught:
        daemon.check.Check(_request(enterprise, "late-1"), timeout=0.000001)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    fresh = daemon.check.Check(_request(enterprise, "late-1"), timeout=10)
    assert fresh.check_id  # the late attempt recorded nothing that the retry would have returned


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_flood_fails_fast_and_recovers(tmp_path: Path) -> None:
    """A 10x burst beyond capacity is shed with RESOURCE_EXHAUSTED, memory stays bounded, it recovers."""
    daemon = start_daemon(
        f"sqlite:///{tmp_path / 'c.db'}", tmp_path, "--workers", "4", "--max-concurrent-rpcs", "16"
    )
    enterprise = factories.uscc()
    daemon.check.Check(_request(enterprise), timeout=10)
    before = _rss_kb(daemon.process.pid)
    batch = pb.BatchCheckRequest(requests=[_request(enterprise)] * 200)
    futures = [daemon.check.BatchCheck.future(batch, timeout=60) for _ in range(160)]
    codes: dict[grpc.StatusCode, int] = {}
    for future in futures:
        try:
            future.result()
            code = grpc.StatusCode.OK
        except grpc.RpcError as exc:
            code = exc.code()
        codes[code] = codes.get(code, 0) + 1
    peak = _rss_kb(daemon.process.pid)
    assert set(codes) <= {grpc.StatusCode.OK} | ALLOWED_UNDER_LOAD, codes
    assert codes.get(grpc.StatusCode.RESOURCE_EXHAUSTED, 0) > 0, f"nothing was shed: {codes}"
    assert codes.get(grpc.StatusCode.OK, 0) > 0, codes
    assert peak - before < 512 * 1024, f"RSS grew by {(peak - before) // 1024} MB under the burst"
    after = daemon.check.Check(_request(enterprise), timeout=10)
    assert after.subjects[0].id == enterprise
    stub = check_pb2_grpc.CheckServiceStub(daemon.channel)
    assert stub.GetCheck(pb.GetCheckRequest(check_id=after.check_id), timeout=10).response == after
    assert daemon.stop() == 0
