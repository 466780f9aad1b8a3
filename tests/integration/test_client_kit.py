"""The client kit against the real daemon: typed errors, batching, a daemon killed and restarted mid-use."""

from __future__ import annotations

import datetime as dt
import signal
import socket
import threading
import time
from pathlib import Path

import grpc
import pytest

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.client import CallError, CheckdClient
from tests import factories
from tests.daemon import RunningDaemon, start_daemon

DEPT, SCENE = "market_regulation", "administrative_licensing"


def _request(*ids: str, request_id: str = "") -> pb.CheckRequest:
    subjects = [pb.Subject(id=i) for i in (ids or (factories.uscc(),))]
    return pb.CheckRequest(request_id=request_id, department=DEPT, scene=SCENE, subjects=subjects)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_errors_are_typed_with_the_reason(db_url: str, tmp_path: Path) -> None:
    """A bad identifier and an unknown check raise CallError carrying checkd's reason and fields."""
    daemon = start_daemon(db_url, tmp_path)
    try:
        with CheckdClient(f"127.0.0.1:{daemon.port}") as client:
            with pytest.raises(CallError) as bad:
                client.check(_request("91330402MA0000000X"))
            assert bad.value.code == grpc.StatusCode.INVALID_ARGUMENT
            assert bad.value.reason == "BAD_IDENTIFIER" and not bad.value.transient
            assert bad.value.fields[0].field == "subjects[0].id"
            with pytest.raises(CallError) as missing:
                client.get_check("0000000000")
            assert missing.value.reason == "CHECK_NOT_FOUND"
    finally:
        assert daemon.stop() == 0


def test_batch_helper_splits_to_the_maximum(tmp_path: Path) -> None:
    """More checks than the server's batch size go out in several calls, answered in order."""
    daemon = start_daemon(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, "--max-batch", "4")
    try:
        requests = [_request() for _ in range(10)]
        with CheckdClient(f"127.0.0.1:{daemon.port}", max_batch=4) as client:
            results = client.batch_check(requests)
            assert [r.response.subjects[0].id for r in results] == [q.subjects[0].id for q in requests]
            assert all(r.response.request_id for r in results), "the helper gives each item a request_id"
        with (
            CheckdClient(f"127.0.0.1:{daemon.port}", max_batch=5) as client,
            pytest.raises(CallError) as over,
        ):
            client.batch_check(requests)  # the server's own limit still holds
        assert over.value.code == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        assert daemon.stop() == 0


def _restart(daemon: RunningDaemon, db_url: str, workdir: Path, port: int) -> RunningDaemon:
    daemon.stop(signal.SIGKILL)  # a crash: nothing drained, in-flight calls cut
    time.sleep(0.5)
    return start_daemon(db_url, workdir, serving=False, listen=f"127.0.0.1:{port}")


def test_checks_survive_a_daemon_crash_and_restart(db_url: str, tmp_path: Path) -> None:
    """Checks keep going while the daemon is killed and restarted: every one answered, none recorded twice."""
    port = _free_port()
    daemon = start_daemon(db_url, tmp_path, listen=f"127.0.0.1:{port}")
    answers: list[pb.CheckResponse] = []
    failures: list[BaseException] = []
    started = threading.Event()
    total = 40

    def run() -> None:
        with CheckdClient(f"127.0.0.1:{port}", deadline=60.0, attempts=5) as client:
            for i in range(total):
                try:
                    answers.append(client.check(_request()))
                except BaseException as exc:
                    failures.append(exc)
                if i == 5:
                    started.set()
                time.sleep(0.1)  # a steady trickle, so calls fall into the outage

    caller = threading.Thread(target=run)
    caller.start()
    assert started.wait(60)
    killed_at = dt.datetime.now(dt.UTC)
    daemon = _restart(daemon, db_url, tmp_path, port)
    caller.join(180)
    try:
        assert not failures, failures
        assert len(answers) == total
        after = [a for a in answers if a.evaluated_at.ToDatetime(dt.UTC) > killed_at]
        assert after and len(after) < total, "the calls did not span the restart"
        check_ids = {a.check_id for a in answers}
        assert len(check_ids) == total, "a check was answered twice under different ids"
        with CheckdClient(f"127.0.0.1:{port}", deadline=60.0) as client:
            for answer in answers:
                assert client.get_check(answer.check_id).response.request_id == answer.request_id
            today = dt.datetime.now(dt.UTC).date()
            days = [(today + dt.timedelta(days=n)).isoformat() for n in (-1, 1)]  # whatever the zone
            stats = client.stats(reg.StatsRequest(from_date=days[0], to_date=days[1]))
        assert stats.total.checks == total, "the ledger holds a check no caller got, or lost one"
    finally:
        assert daemon.stop() == 0, daemon.log_text()
