"""Start the real checkd daemon as a subprocess on port 0 and talk to it through generated stubs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from checkd.api.v1 import check_pb2_grpc, registry_pb2_grpc
from checkd.ops.log import FLUSH_SECONDS

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "test-secret-0123456789abcdef"
# The daemon writes its info lines in groups, FLUSH_SECONDS apart: a log that has not grown for
# longer than that holds every line logged before the wait began.
LOG_QUIET_SECONDS = 3 * FLUSH_SECONDS


def settled_log(path: Path, process: subprocess.Popen[bytes], limit: float = 10) -> str:
    """The daemon's log once every line it logged so far is written (at once if it has exited)."""
    deadline, size = time.monotonic() + limit, -1
    while process.poll() is None and time.monotonic() < deadline:
        grown = path.stat().st_size if path.exists() else 0
        if grown == size:
            break
        size = grown
        time.sleep(LOG_QUIET_SECONDS)
    return path.read_text(errors="replace")


@dataclass
class RunningDaemon:
    """A daemon process with a channel and stubs connected to it."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    channel: grpc.Channel = field(init=False)

    def __post_init__(self) -> None:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.check = check_pb2_grpc.CheckServiceStub(self.channel)
        self.registry = registry_pb2_grpc.RegistryServiceStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def log_text(self) -> str:
        """Everything the daemon logged so far."""
        return settled_log(self.log_path, self.process)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the daemon and wait for it to exit; return its exit code."""
        self.channel.close()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


def start_daemon(
    db_url: str,
    workdir: Path,
    *extra: str,
    sample: bool | None = False,
    env: dict[str, str] | None = None,
    serving: bool = True,
    listen: str = "127.0.0.1:0",
) -> RunningDaemon:
    """Run `checkd serve` on port 0 and (unless `serving` is False) wait until its health says SERVING.

    `sample`: True passes --sample (seed an empty store with the bundled lists), False --no-sample,
    None neither (the daemon's own rule: only the embedded default store is seeded).
    """
    flags = {True: ("--sample",), False: ("--no-sample",), None: ()}[sample]
    process, port, log_path = launch(
        db_url, workdir, *extra, *flags, listen=listen, env={"CHECKD_SECRET": TEST_SECRET, **(env or {})}
    )
    daemon = RunningDaemon(process, port, log_path)
    if serving:
        try:
            wait_until_serving(daemon.health)
        except AssertionError:
            daemon.stop(signal.SIGKILL)
            raise AssertionError(f"daemon never became SERVING:\n{log_path.read_text()}") from None
    return daemon


def wait_until_serving(health: health_pb2_grpc.HealthStub, timeout: float = 60.0) -> None:
    """Poll gRPC health until SERVING: the port is bound (NOT_SERVING) before the index is loaded."""
    deadline = time.monotonic() + timeout
    while True:
        response = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10, wait_for_ready=True)
        if response.status == health_pb2.HealthCheckResponse.SERVING:
            return
        assert time.monotonic() < deadline, f"health still {response.status} after {timeout}s"
        time.sleep(0.05)


def launch(
    db_url: str, workdir: Path, *extra: str, listen: str = "127.0.0.1:0", env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], int, Path]:
    """Start `checkd serve` with `extra` options; (process, bound port, log file) once it has bound."""
    stamp = time.monotonic_ns()
    port_file, log_path = workdir / f"port-{stamp}", workdir / f"daemon-{stamp}.log"
    args = [
        sys.executable,
        "-m",
        "checkd",
        "serve",
        "--listen",
        listen,
        "--db",
        db_url,
        "--rules",
        str(ROOT / "rules"),
        "--port-file",
        str(port_file),
        "--poll",
        "0.5",
        "--grace",
        "5",
        *extra,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env}
        )
    deadline = time.monotonic() + 60
    while not port_file.exists() or not port_file.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"daemon did not start:\n{log_path.read_text()}")
        time.sleep(0.05)
    return process, int(port_file.read_text()), log_path


def run_cli(*args: str, workdir: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `checkd` command and capture its output."""
    environment = {**os.environ, "CHECKD_SECRET": TEST_SECRET, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "checkd", *args],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
