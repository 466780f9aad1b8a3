"""Store outages: UNAVAILABLE fast, nothing answered unrecorded, health follows, service resumes."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from checkd.api.v1 import check_pb2 as pb
from tests import factories
from tests.conftest import pg_database
from tests.daemon import RunningDaemon, start_daemon
from tests.integration.test_ops import OpsDaemon, http_get, start_ops, wait_for
from tests.tcp_proxy import TcpProxy

DEPT, SCENE = "market_regulation", "administrative_licensing"


def _check(daemon: RunningDaemon, request_id: str) -> pb.CheckResponse:
    response: pb.CheckResponse = daemon.check.Check(
        pb.CheckRequest(
            request_id=request_id, department=DEPT, scene=SCENE, subjects=[pb.Subject(id=factories.uscc())]
        ),
        timeout=30,
    )
    return response


def _outage_then_recovery(daemon: RunningDaemon, during: str) -> float:
    """Call during an outage: UNAVAILABLE; return how long the refusal took."""
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        _check(daemon, during)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, caught.value
    assert "store unavailable" in (caught.value.details() or "") or "ledger" in (caught.value.details() or "")
    return time.monotonic() - started


def _recovers(daemon: RunningDaemon, during: str) -> None:
    """After the store returns, new checks are recorded and the refused one never was."""
    for _ in range(60):
        try:
            after = _check(daemon, "after-outage")
            break
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE
            time.sleep(0.5)
    else:
        raise AssertionError("service did not resume")
    record = daemon.check.GetCheck(pb.GetCheckRequest(check_id=after.check_id), timeout=10)
    assert record.response == after
    retried = _check(daemon, during)  # the refused request was not recorded: it is decided afresh now
    stored = daemon.check.GetCheck(pb.GetCheckRequest(check_id=retried.check_id), timeout=10)
    assert stored.response == retried


def test_sqlite_locked_by_another_process(tmp_path: Path) -> None:
    """An exclusive lock held elsewhere: checks are refused UNAVAILABLE, then resume on release."""
    path = tmp_path / "c.db"
    daemon = start_daemon(f"sqlite:///{path}", tmp_path)
    before = _check(daemon, "before")
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        waited = _outage_then_recovery(daemon, "during")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    _recovers(daemon, "during")
    assert daemon.check.GetCheck(pb.GetCheckRequest(check_id=before.check_id), timeout=10).response == before
    assert daemon.stop() == 0
    print(f"sqlite lock: refused after {waited:.1f}s")


@pytest.fixture
def proxied_pg() -> Iterator[tuple[str, TcpProxy]]:
    """A fresh PostgreSQL database reached through a proxy the test can cut."""
    proxy = TcpProxy(5432)
    for url in pg_database():
        yield url.replace(":5432/", f":{proxy.port}/"), proxy
    proxy.cut()


@pytest.mark.postgres
def test_postgresql_connection_lost(proxied_pg: tuple[str, TcpProxy], tmp_path: Path) -> None:
    """The database goes away mid-service: UNAVAILABLE fast, no hang; it comes back by itself."""
    url, proxy = proxied_pg
    daemon = start_daemon(url, tmp_path)
    before = _check(daemon, "before")
    proxy.cut()
    try:
        waited = _outage_then_recovery(daemon, "during")
    finally:
        proxy.restore()
    assert waited < 15, f"the refusal took {waited:.1f}s"
    _recovers(daemon, "during")
    assert daemon.check.GetCheck(pb.GetCheckRequest(check_id=before.check_id), timeout=10).response == before
    assert daemon.stop() == 0
    print(f"postgresql outage: refused after {waited:.1f}s")


def _health(daemon: RunningDaemon) -> int:
    status: int = daemon.health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10).status
    return status


def _follows_the_outage(
    running: OpsDaemon, cut: Callable[[], None], restore: Callable[[], None], secrets: tuple[str, ...]
) -> None:
    """During the outage health is NOT_SERVING and /readyz 503 naming no host or path; both recover."""
    daemon = running.grpc
    assert _health(daemon) == health_pb2.HealthCheckResponse.SERVING
    cut()
    try:
        wait_for(lambda: _health(daemon) == health_pb2.HealthCheckResponse.NOT_SERVING, timeout=30)
        status, body = http_get(f"{running.base}/readyz", timeout=15)
        assert status == 503 and json.loads(body)["checks"]["store"] == "unavailable", body
        assert not any(secret in body for secret in secrets), body
    finally:
        restore()
    wait_for(lambda: _health(daemon) == health_pb2.HealthCheckResponse.SERVING, timeout=30)
    assert http_get(f"{running.base}/readyz", timeout=15)[0] == 200
    assert "readiness_changed" in daemon.log_text()  # the reason is in the log, not in the probe


def test_health_follows_a_sqlite_lock(tmp_path: Path) -> None:
    """A store locked by another process cannot be written: health NOT_SERVING until it is released."""
    path = tmp_path / "c.db"
    running = start_ops(f"sqlite:///{path}", tmp_path)
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        _follows_the_outage(
            running,
            lambda: locker.execute("BEGIN EXCLUSIVE") and None,
            lambda: locker.execute("ROLLBACK") and None,
            (str(tmp_path),),
        )
    finally:
        locker.close()
        assert running.grpc.stop() == 0, running.grpc.log_text()


@pytest.mark.postgres
def test_health_follows_a_postgresql_outage(proxied_pg: tuple[str, TcpProxy], tmp_path: Path) -> None:
    """The database goes away: health NOT_SERVING, /readyz says so without the host; back on return."""
    url, proxy = proxied_pg
    running = start_ops(url, tmp_path)
    try:
        _follows_the_outage(running, proxy.cut, proxy.restore, (str(proxy.port), "127.0.0.1"))
    finally:
        assert running.grpc.stop() == 0, running.grpc.log_text()
