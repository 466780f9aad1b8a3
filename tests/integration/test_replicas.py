"""Several daemons on one store: one chain, idempotency across them, every answer readable everywhere."""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import check_pb2_grpc
from checkd.api.v1 import registry_pb2 as reg
from tests import factories
from tests.conftest import pg_database
from tests.daemon import RunningDaemon, run_cli, start_daemon
from tests.tcp_proxy import TcpProxy

DEPT, SCENE = "market_regulation", "administrative_licensing"
REPLICAS = 3
CALLERS = 9
CALLS_PER_CALLER = 40


@pytest.fixture
def pg_url() -> Iterator[str]:
    """One fresh PostgreSQL database that every replica of a test shares."""
    yield from pg_database()


def _replicas(db_url: str, workdir: Path, count: int = REPLICAS) -> list[RunningDaemon]:
    """`count` daemons on one store; the first seeds the lists, so the others start on the same data."""
    first = start_daemon(db_url, workdir)
    return [first, *(start_daemon(db_url, workdir) for _ in range(count - 1))]


def _upsert(daemon: RunningDaemon, enterprise: str, list_id: str = "serious_illegal_dishonest") -> int:
    """Upsert one entry on `enterprise` through `daemon`; the data version the store moved to."""
    row = factories.entry_row(f"R-{enterprise}", enterprise, list_id)
    done = daemon.registry.UpsertEntries(
        reg.UpsertEntriesRequest(entries=[factories.entry_input(row)]), timeout=30
    )
    return int(done.data_version.removeprefix("d"))


def _listed(replicas: list[RunningDaemon]) -> str:
    """One listed enterprise, upserted through the first replica and in force at all of them."""
    enterprise = factories.uscc()
    version = _upsert(replicas[0], enterprise)
    for daemon in replicas:  # the mechanism under test elsewhere: wait for the version, briefly
        daemon.check.Check(_request(enterprise, "", min_version=version), timeout=30)
    return enterprise


def _request(enterprise: str, request_id: str, min_version: int = 0) -> pb.CheckRequest:
    return pb.CheckRequest(
        request_id=request_id,
        department=DEPT,
        scene=SCENE,
        subjects=[pb.Subject(id=enterprise)],
        min_data_version=min_version,
    )


def _caller(
    daemon: RunningDaemon,
    enterprise: str,
    tag: str,
    calls: int,
    acknowledged: dict[str, pb.CheckResponse],
    failures: list[str],
    stop: threading.Event | None = None,
) -> None:
    """Distinct checks, feedback on every other one; keep what was acknowledged and every failure."""
    for n in range(calls):
        if stop is not None and stop.is_set():
            return
        request_id = f"{tag}-{n}"
        try:
            response = daemon.check.Check(_request(enterprise, request_id), timeout=30)
            acknowledged[request_id] = response
            if n % 2 == 0:
                outcome = pb.FeedbackOutcome(
                    measure_id=response.subjects[0].measures[0].measure_id,
                    subject_id=enterprise,
                    outcome=pb.OUTCOME_APPLIED,
                )
                daemon.check.SubmitFeedback(
                    pb.FeedbackRequest(check_id=response.check_id, outcomes=[outcome]), timeout=30
                )
        except grpc.RpcError as exc:
            failures.append(f"{tag}-{n}: {exc.code().name} {exc.details()}")
            if stop is not None:
                return


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Wait until `condition` holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        time.sleep(0.05)


def _stop_all(replicas: list[RunningDaemon]) -> None:
    for daemon in replicas:
        if daemon.process.poll() is None:
            assert daemon.stop() == 0, daemon.log_text()


def _verified(db_url: str, workdir: Path) -> str:
    """`checkd ledger verify` on the shared store; its output (the test fails unless it verified)."""
    verified = run_cli("ledger", "verify", "--db", db_url, workdir=workdir)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    return verified.stdout


@pytest.mark.postgres
def test_replicas_share_one_chain_without_failing_each_other(pg_url: str, tmp_path: Path) -> None:
    """3 daemons, 9 concurrent callers of checks and feedback: no failed call, one verified chain."""
    replicas = _replicas(pg_url, tmp_path)
    try:
        enterprise = _listed(replicas)
        acknowledged: dict[str, pb.CheckResponse] = {}
        failures: list[str] = []
        with ThreadPoolExecutor(CALLERS) as pool:
            calls = [
                pool.submit(
                    _caller,
                    replicas[caller % REPLICAS],
                    enterprise,
                    f"c{caller}",
                    CALLS_PER_CALLER,
                    acknowledged,
                    failures,
                )
                for caller in range(CALLERS)
            ]
        for call in calls:
            call.result()  # a caller that broke (not a failed call) fails the test
        assert failures == [], f"{len(failures)} failed calls, first: {failures[:3]}"
        assert len(acknowledged) == CALLERS * CALLS_PER_CALLER
        for n, (request_id, response) in enumerate(sorted(acknowledged.items())):
            caller = int(request_id[1:].split("-")[0])
            other = replicas[(caller + 1 + n % 2) % REPLICAS]  # never the replica that answered it
            stored = other.check.GetCheck(pb.GetCheckRequest(check_id=response.check_id), timeout=10)
            assert stored.response == response, f"{request_id} reads back differently at another replica"
    finally:
        _stop_all(replicas)
    assert "ok" in _verified(pg_url, tmp_path).lower()


@pytest.mark.postgres
def test_one_request_id_at_two_replicas_at_once_is_one_check(pg_url: str, tmp_path: Path) -> None:
    """The same department + request_id sent to two replicas at the same moment: both get one check."""
    replicas = _replicas(pg_url, tmp_path, 2)
    try:
        enterprise = _listed(replicas)
        for round_ in range(20):
            request = _request(enterprise, f"twin-{round_}")
            start = threading.Barrier(2)

            def send(
                daemon: RunningDaemon, request: pb.CheckRequest = request, start: threading.Barrier = start
            ) -> pb.CheckResponse:
                start.wait()
                response: pb.CheckResponse = daemon.check.Check(request, timeout=30)
                return response

            with ThreadPoolExecutor(2) as pool:
                first, second = pool.map(send, replicas)
            assert first.check_id == second.check_id, f"round {round_}: two checks for one request_id"
            assert first.subjects == second.subjects
    finally:
        _stop_all(replicas)
    _verified(pg_url, tmp_path)


def test_two_processes_on_one_sqlite_file_share_one_chain(tmp_path: Path) -> None:
    """Two daemons on one SQLite file (BEGIN IMMEDIATE serialises them): no failed call, chain verifies."""
    db_url = f"sqlite:///{tmp_path / 'shared.db'}"
    replicas = _replicas(db_url, tmp_path, 2)
    try:
        enterprise = _listed(replicas)
        acknowledged: dict[str, pb.CheckResponse] = {}
        failures: list[str] = []
        with ThreadPoolExecutor(4) as pool:
            calls = [
                pool.submit(_caller, replicas[c % 2], enterprise, f"c{c}", 25, acknowledged, failures)
                for c in range(4)
            ]
        for call in calls:
            call.result()
        assert failures == [], f"{len(failures)} failed calls, first: {failures[:3]}"
        for response in acknowledged.values():
            for daemon in replicas:
                stored = daemon.check.GetCheck(pb.GetCheckRequest(check_id=response.check_id), timeout=10)
                assert stored.response == response
    finally:
        _stop_all(replicas)
    _verified(db_url, tmp_path)


@pytest.mark.postgres
def test_killed_replica_loses_nothing_and_the_others_keep_answering(pg_url: str, tmp_path: Path) -> None:
    """kill -9 one of three replicas under load: the others answer on, nothing acknowledged is lost."""
    replicas = _replicas(pg_url, tmp_path)
    try:
        enterprise = _listed(replicas)
        acknowledged: dict[str, pb.CheckResponse] = {}
        failures: dict[int, list[str]] = {index: [] for index in range(REPLICAS)}
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=_caller,
                args=(
                    replicas[c % REPLICAS],
                    enterprise,
                    f"c{c}",
                    10_000,
                    acknowledged,
                    failures[c % REPLICAS],
                ),
                kwargs={"stop": stop},
            )
            for c in range(6)
        ]
        for thread in threads:
            thread.start()
        _wait_for(lambda: len(acknowledged) >= 60, "checks flowing before the kill")
        os.kill(replicas[0].process.pid, signal.SIGKILL)
        replicas[0].process.wait(10)
        survivors_before = len(acknowledged)
        _wait_for(lambda: len(acknowledged) >= survivors_before + 60, "checks flowing after the kill")
        stop.set()
        for thread in threads:
            thread.join(30)
        assert failures[1] == [] and failures[2] == [], (failures[1][:3], failures[2][:3])
        for request_id, response in acknowledged.items():
            stored = replicas[1].check.GetCheck(pb.GetCheckRequest(check_id=response.check_id), timeout=10)
            assert stored.response == response, f"{request_id} was acknowledged and is lost or changed"
    finally:
        _stop_all(replicas[1:])
    _verified(pg_url, tmp_path)


def _hit(response: pb.CheckResponse) -> bool:
    """Whether the answer applies a list entry to its subject."""
    return any(subject.entries for subject in response.subjects)


@pytest.mark.postgres
def test_a_change_through_one_replica_is_in_force_at_the_others(pg_url: str, tmp_path: Path) -> None:
    """Upsert and revoke through one replica: the others hold the new data version within their wait.

    The replicas poll only once a minute, so only the store's announcement can bring the change
    in time; a caller requiring the version gets it answered, or DATA_STALE, never older data.
    """
    first = start_daemon(pg_url, tmp_path, "--poll", "60")
    second = start_daemon(pg_url, tmp_path, "--poll", "60")
    try:
        for round_ in range(3):
            enterprise = factories.uscc()
            version = _upsert(first, enterprise)
            answer = second.check.Check(_request(enterprise, "", min_version=version), timeout=30)
            assert _hit(answer) and answer.data_version == f"d{version}", (round_, answer)
        revoked = first.registry.RevokeEntry(
            reg.RevokeEntryRequest(
                entry_id=f"R-{enterprise}", reason="upheld objection", document_no="OBJ-1", kind="objection"
            ),
            timeout=30,
        )
        version = int(revoked.data_version.removeprefix("d"))
        answer = second.check.Check(_request(enterprise, "", min_version=version), timeout=30)
        assert not _hit(answer), answer
        with pytest.raises(grpc.RpcError) as caught:
            second.check.Check(_request(enterprise, "", min_version=version + 100), timeout=30)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert f"d{version + 100} is required" in (caught.value.details() or "")
        assert "snapshot_updated" in second.log_text()  # applied incrementally, not rebuilt
    finally:
        _stop_all([first, second])


@pytest.fixture
def proxied_pg() -> Iterator[tuple[str, TcpProxy]]:
    """A fresh PostgreSQL database reached through a proxy the test can cut."""
    proxy = TcpProxy(5432)
    for url in pg_database():
        yield url.replace(":5432/", f":{proxy.port}/"), proxy
    proxy.cut()


@pytest.mark.postgres
def test_every_replica_refuses_fast_while_the_store_is_away_and_resumes(
    proxied_pg: tuple[str, TcpProxy], tmp_path: Path
) -> None:
    """The database link is cut under two replicas: both answer UNAVAILABLE and go NOT_SERVING.

    Both resume by themselves once it is back, and nothing acknowledged before is lost.
    """
    url, proxy = proxied_pg
    replicas = _replicas(url, tmp_path, 2)
    try:
        enterprise = _listed(replicas)
        before = [
            d.check.Check(_request(enterprise, f"before-{i}"), timeout=30) for i, d in enumerate(replicas)
        ]
        proxy.cut()
        try:
            for daemon in replicas:
                with pytest.raises(grpc.RpcError) as caught:
                    daemon.check.Check(_request(enterprise, "during"), timeout=30)
                assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, caught.value
            for daemon in replicas:
                _wait_for(functools.partial(_health_is, daemon, NOT_SERVING), "NOT_SERVING during the outage")
        finally:
            proxy.restore()
        for daemon in replicas:
            _wait_for(functools.partial(_health_is, daemon, SERVING), "SERVING after the outage")
            _wait_for(functools.partial(_answers, daemon, enterprise), "a recorded check after the outage")
        for daemon in replicas:
            for response in before:
                stored = daemon.check.GetCheck(pb.GetCheckRequest(check_id=response.check_id), timeout=10)
                assert stored.response == response
    finally:
        _stop_all(replicas)
    _verified(url, tmp_path)


SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _health_is(daemon: RunningDaemon, status: int) -> bool:
    found: int = daemon.health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10).status
    return found == status


def _answers(daemon: RunningDaemon, enterprise: str) -> bool:
    """Whether a fresh check is answered (and so recorded) now."""
    try:
        daemon.check.Check(_request(enterprise, ""), timeout=10)
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc
        return False
    return True


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_processes_share_one_port_and_are_supervised(tmp_path: Path) -> None:
    """`serve --processes 2`: both answer on one port, /metrics covers both, a killed one is restarted.

    SIGHUP reloads both; SIGTERM drains both and the command exits 0.
    """
    ops_file = tmp_path / "ops.port"
    daemon = start_daemon(
        f"sqlite:///{tmp_path / 'c.db'}",
        tmp_path,
        "--processes",
        "2",
        "--ops-listen",
        "127.0.0.1:0",
        "--ops-port-file",
        str(ops_file),
        "--log-format",
        "json",
    )
    try:
        base = f"http://127.0.0.1:{ops_file.read_text()}"
        _wait_for(lambda: _status(f"{base}/readyz") == 200, "every worker ready")
        workers = _children(daemon.process.pid)
        assert len(workers) == 2
        enterprise = factories.uscc()
        for n in range(20):  # a channel each: new connections are spread over the workers
            with grpc.insecure_channel(f"127.0.0.1:{daemon.port}") as channel:
                stub = check_pb2_grpc.CheckServiceStub(channel)
                assert stub.Check(_request(enterprise, f"p-{n}"), timeout=30).check_id
        metrics = _body(f"{base}/metrics")
        assert 'worker="0"' in metrics and 'worker="1"' in metrics
        served = sum(_sample(metrics, "checkd_checks_total", w) for w in ("0", "1"))
        assert served == 20, metrics
        os.kill(workers[0], signal.SIGKILL)
        _wait_for(lambda: "worker_died" in daemon.log_text(), "the death logged")
        _wait_for(lambda: _status(f"{base}/readyz") == 200, "the restarted worker ready")
        assert len(_children(daemon.process.pid)) == 2 and workers[0] not in _children(daemon.process.pid)
        daemon.process.send_signal(signal.SIGHUP)
        _wait_for(lambda: daemon.log_text().count('"event":"registry_reload"') >= 2, "both workers reloaded")
    finally:
        code = daemon.stop()
    assert code == 0, daemon.log_text()
    assert daemon.log_text().count('"event":"stopped"') == 2  # each worker drained


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def _body(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return str(answer.read().decode())


def _sample(metrics: str, name: str, worker: str) -> float:
    """The sum of one metric's samples of one worker in an exposition."""
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith(name + "{") and f'worker="{worker}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
