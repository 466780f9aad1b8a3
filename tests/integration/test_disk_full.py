"""A full disk under the log and the store: UNAVAILABLE while full, recovery by itself, nothing lost."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from checkd.api.v1 import check_pb2 as pb
from tests import factories
from tests.daemon import RunningDaemon, run_cli, start_daemon
from tests.integration.test_ops import scrape, value

DEPT, SCENE = "market_regulation", "administrative_licensing"
ALLOWED_WHILE_FULL = {grpc.StatusCode.UNAVAILABLE}  # never UNKNOWN, INTERNAL or a hung call
PG_BIN = Path("/usr/lib/postgresql/15/bin")


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path` (needs root), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> Path:
    """Fill the file system of `path` with one filler file until a write fails (ENOSPC)."""
    filler = path / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        with contextlib.suppress(OSError):
            while True:
                out.write(chunk)
        with contextlib.suppress(OSError):  # the last bytes that still fit
            while True:
                out.write(b"\0" * 512)
    return filler


def _check(daemon: RunningDaemon, request_id: str, subject: str) -> pb.CheckResponse:
    response: pb.CheckResponse = daemon.check.Check(
        pb.CheckRequest(
            request_id=request_id, department=DEPT, scene=SCENE, subjects=[pb.Subject(id=subject)]
        ),
        timeout=15,
    )
    return response


def _checks_while_full(
    daemon: RunningDaemon, subject: str, acknowledged: dict[str, pb.CheckResponse], tag: str
) -> int:
    """Checks while the disk is full: OK or UNAVAILABLE only, promptly; the count of UNAVAILABLE."""
    refused = 0
    for n in range(40):
        try:
            response = _check(daemon, f"{tag}-{n}", subject)
        except grpc.RpcError as exc:
            assert exc.code() in ALLOWED_WHILE_FULL, (exc.code(), exc.details())
            refused += 1
        else:
            acknowledged[response.check_id] = response
        assert daemon.process.poll() is None, "the daemon died while the disk was full"
        health = daemon.health.Check(health_pb2.HealthCheckRequest(service=""), timeout=15)
        assert health.status in (
            health_pb2.HealthCheckResponse.SERVING,
            health_pb2.HealthCheckResponse.NOT_SERVING,
        )
    return refused


def _recovers(
    daemon: RunningDaemon, subject: str, acknowledged: dict[str, pb.CheckResponse], tag: str
) -> None:
    """Once space is back, checks are recorded again without a restart (bounded wait)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            response = _check(daemon, f"{tag}-first", subject)
            break
        except grpc.RpcError as exc:
            assert exc.code() in ALLOWED_WHILE_FULL, (exc.code(), exc.details())
            assert time.monotonic() < deadline, "the service did not recover once space was back"
            time.sleep(0.5)
    acknowledged[response.check_id] = response
    for n in range(20):
        response = _check(daemon, f"{tag}-{n}", subject)
        acknowledged[response.check_id] = response


def _all_intact(daemon: RunningDaemon, acknowledged: dict[str, pb.CheckResponse]) -> None:
    """Every acknowledged check reads back exactly as answered."""
    for check_id, response in acknowledged.items():
        record = daemon.check.GetCheck(pb.GetCheckRequest(check_id=check_id), timeout=15)
        assert record.response == response, f"check {check_id} changed or lost"


def test_full_log_and_store_disk_refuses_then_recovers(tmp_path: Path) -> None:
    """Store and log on a full 4 MB tmpfs: checks UNAVAILABLE, the daemon alive, then it recovers."""
    with small_tmpfs(tmp_path / "small", "4m") as disk:
        db_url = f"sqlite:///{disk / 'c.db'}"
        ops_port_file = tmp_path / "ops-port"
        # The daemon's port files and its log (stdout and stderr) are written in `disk`.
        daemon = start_daemon(
            db_url,
            disk,
            "--log-format",
            "json",
            "--ops-listen",
            "127.0.0.1:0",
            "--ops-port-file",
            str(ops_port_file),
        )
        ops = f"http://127.0.0.1:{int(ops_port_file.read_text())}"
        try:
            subject = factories.uscc()
            acknowledged: dict[str, pb.CheckResponse] = {}
            for n in range(20):
                response = _check(daemon, f"before-{n}", subject)
                acknowledged[response.check_id] = response
            for round_ in range(2):  # full twice: the first recovery left everything working
                filler = fill(disk)
                refused = _checks_while_full(daemon, subject, acknowledged, f"full{round_}")
                assert refused > 0, "the disk was full but every check was recorded"
                dropped = value(scrape(ops), "checkd_log_write_failures_total")
                filler.unlink()
                _recovers(daemon, subject, acknowledged, f"after{round_}")
                print(
                    f"round {round_}: {refused} of 40 checks refused UNAVAILABLE while full, "
                    f"{dropped:.0f} log lines dropped and counted"
                )
            assert dropped > 0, "log writes failed on the full disk but none was counted"
            _all_intact(daemon, acknowledged)
            assert daemon.stop() == 0
            verified = run_cli("ledger", "verify", "--db", db_url, workdir=tmp_path)
            assert verified.returncode == 0, verified.stdout + verified.stderr
            assert "ok" in verified.stdout
            print(f"{len(acknowledged)} acknowledged checks intact; {verified.stdout.strip()}")
        finally:
            if daemon.process.poll() is None:
                daemon.process.kill()
                daemon.process.wait(10)


def _pg(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL server program as the postgres user (initdb refuses root)."""
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, check=False, timeout=120
    )


@pytest.mark.postgres
def test_full_postgres_data_disk_refuses_then_recovers(tmp_path: Path) -> None:
    """A private PostgreSQL cluster whose data directory fills: UNAVAILABLE, then recovery by itself."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip("PostgreSQL 15 server programs or runuser not installed")
    # The postgres user must reach the data directory, and pytest's tmp_path is private to root.
    mount_point = Path(tempfile.mkdtemp(prefix="checkd-pgfull-", dir="/tmp"))
    mount_point.chmod(0o755)
    with small_tmpfs(mount_point, "160m") as disk:
        data = disk / "data"
        data.mkdir()
        shutil.chown(data, "postgres", "postgres")
        made = _pg(
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )
        assert made.returncode == 0, made.stdout + made.stderr
        port = _free_port()
        log_file = disk / "pg.log"
        started = _pg(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log_file),
            "-w",
            "-o",
            f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_wal_size=32MB",
            "start",
        )
        assert started.returncode == 0, started.stdout + started.stderr
        daemon = None
        try:
            created = _pg(
                str(PG_BIN.parent / "bin" / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "-c",
                "CREATE DATABASE checkd",
            )
            if created.returncode != 0:  # psql lives beside the server programs or on PATH
                created = _pg(
                    "psql",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    "postgres",
                    "-c",
                    "CREATE DATABASE checkd",
                )
            assert created.returncode == 0, created.stdout + created.stderr
            db_url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/checkd"
            daemon = start_daemon(db_url, tmp_path)
            subject = factories.uscc()
            acknowledged: dict[str, pb.CheckResponse] = {}
            for n in range(20):
                response = _check(daemon, f"before-{n}", subject)
                acknowledged[response.check_id] = response
            filler = fill(disk)
            refused = _checks_while_full(daemon, subject, acknowledged, "full")
            assert refused > 0, "the data disk was full but every check was recorded"
            filler.unlink()
            _recovers(daemon, subject, acknowledged, "after")
            _all_intact(daemon, acknowledged)
            assert daemon.stop() == 0
            daemon = None
            verified = run_cli("ledger", "verify", "--db", db_url, workdir=tmp_path)
            assert verified.returncode == 0, verified.stdout + verified.stderr
            print(
                f"PostgreSQL data disk full: {refused} of 40 checks refused UNAVAILABLE; "
                f"{len(acknowledged)} acknowledged checks intact; {verified.stdout.strip()}"
            )
        finally:
            if daemon is not None and daemon.process.poll() is None:
                daemon.process.kill()
                daemon.process.wait(10)
            _pg(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    mount_point.rmdir()


def _free_port() -> int:
    """A TCP port free on 127.0.0.1 just now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
