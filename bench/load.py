"""Load drivers (unary, batch, stream over grpc.aio) and server processes: cold start, RSS, stop."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.synth import BENCH_SECRET, ROOT
from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import check_pb2_grpc

OnResponse = Callable[[pb.CheckRequest, pb.CheckResponse], None]
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
]


@dataclass
class Result:
    """What one load phase achieved: checks answered, wall time, per-call (or per-item) latencies."""

    name: str
    checks: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Checks answered per second."""
        return self.checks / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """A latency percentile in milliseconds (nearest rank)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


async def unary(
    stub: check_pb2_grpc.CheckServiceStub,
    requests: Sequence[pb.CheckRequest],
    concurrency: int,
    max_seconds: float,
    on_response: OnResponse | None = None,
) -> Result:
    """`concurrency` callers each sending Check one at a time until the requests or the time run out."""
    result = Result("Check")
    position = 0
    deadline = time.perf_counter() + max_seconds

    async def caller() -> None:
        nonlocal position
        while position < len(requests) and time.perf_counter() < deadline:
            request = requests[position]
            position += 1
            began = time.perf_counter()
            try:
                response = await stub.Check(request, timeout=30)
            except grpc.aio.AioRpcError:
                result.errors += 1
                continue
            result.latencies.append(time.perf_counter() - began)
            result.checks += 1
            if on_response is not None:
                on_response(request, response)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


async def batch(
    stub: check_pb2_grpc.CheckServiceStub,
    requests: Sequence[pb.CheckRequest],
    size: int,
    concurrency: int,
    max_seconds: float,
    on_response: OnResponse | None = None,
) -> Result:
    """`concurrency` callers each sending BatchCheck of `size` items; latency is per batch call."""
    result = Result(f"BatchCheck x{size}")
    batches = [requests[i : i + size] for i in range(0, len(requests), size)]
    position = 0
    deadline = time.perf_counter() + max_seconds

    async def caller() -> None:
        nonlocal position
        while position < len(batches) and time.perf_counter() < deadline:
            items = batches[position]
            position += 1
            began = time.perf_counter()
            try:
                response = await stub.BatchCheck(pb.BatchCheckRequest(requests=items), timeout=60)
            except grpc.aio.AioRpcError:
                result.errors += len(items)
                continue
            result.latencies.append(time.perf_counter() - began)
            for request, slot in zip(items, response.results, strict=True):
                if slot.HasField("response"):
                    result.checks += 1
                    if on_response is not None:
                        on_response(request, slot.response)
                else:
                    result.errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


async def stream(
    stub: check_pb2_grpc.CheckServiceStub,
    requests: Sequence[pb.CheckRequest],
    streams: int,
    window: int,
    max_seconds: float,
    on_response: OnResponse | None = None,
) -> Result:
    """`streams` StreamCheck calls sharing the requests, each with at most `window` items in flight."""
    result = Result("StreamCheck")
    deadline = time.perf_counter() + max_seconds
    shares = [requests[i::streams] for i in range(streams)]

    async def one(items: Sequence[pb.CheckRequest]) -> None:
        room = asyncio.Semaphore(window)
        sent: list[float] = []

        async def produce() -> AsyncIterator[pb.CheckRequest]:
            for request in items:
                if time.perf_counter() >= deadline:
                    return
                await room.acquire()
                sent.append(time.perf_counter())
                yield request

        call = stub.StreamCheck(produce(), timeout=max_seconds + 60)
        received = 0
        try:
            async for response in call:
                result.latencies.append(time.perf_counter() - sent[received])
                if on_response is not None:
                    on_response(items[received], response)
                received += 1
                result.checks += 1
                room.release()
        except grpc.aio.AioRpcError:
            result.errors += len(sent) - received

    started = time.perf_counter()
    await asyncio.gather(*(one(items) for items in shares if items))
    result.seconds = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- server processes


@dataclass
class Server:
    """A server subprocess with its port, the seconds it took to report SERVING, and its log."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    cold_start: float
    log_path: Path
    rss_at_start_mb: float = 0.0

    @property
    def target(self) -> str:
        """Its loopback address."""
        return f"127.0.0.1:{self.port}"

    def peak_rss_mb(self) -> float:
        """The process's peak resident set size so far (VmHWM), in MB."""
        return _status_kb(self.process.pid, "VmHWM") / 1024

    def stop(self, timeout: float = 120) -> int:
        """SIGTERM and wait (checkd drains and flushes its ledger)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)


def _status_kb(pid: int, key: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def start_server(name: str, args: Sequence[str], workdir: Path, timeout: float = 600) -> Server:
    """Start `python -m <args> --port-file F` and wait for health SERVING; time it from process start."""
    port_file = workdir / f"{name}.port"
    port_file.unlink(missing_ok=True)
    log_path = workdir / f"{name}.log"
    env = {**os.environ, "CHECKD_SECRET": BENCH_SECRET, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *args, "--port-file", str(port_file)],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = started + timeout
    while not port_file.exists() or not port_file.read_text().strip():
        if process.poll() is not None or time.perf_counter() > deadline:
            process.kill()
            raise RuntimeError(f"{name} did not start:\n{log_path.read_text(errors='replace')[-4000:]}")
        time.sleep(0.02)
    port = int(port_file.read_text())
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        # checkd binds before it loads the index and says NOT_SERVING until then: poll for SERVING.
        while True:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout, wait_for_ready=True
            )
            if answer.status == health_pb2.HealthCheckResponse.SERVING or time.perf_counter() > deadline:
                break
            time.sleep(0.02)
    cold = time.perf_counter() - started
    if answer.status != health_pb2.HealthCheckResponse.SERVING:
        process.kill()
        raise RuntimeError(f"{name} is not SERVING: {answer.status}")
    server = Server(name, process, port, cold, log_path)
    server.rss_at_start_mb = _status_kb(process.pid, "VmRSS") / 1024
    return server


def checkd_args(db_url: str, workers: int = 16) -> list[str]:
    """The arguments of `python -m checkd serve` for a bench run."""
    return [
        "checkd",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        db_url,
        "--rules",
        str(ROOT / "rules"),
        "--no-sample",
        "--log-format",
        "json",
        "--poll",
        "3600",
        "--grace",
        "30",
        "--workers",
        str(workers),
        "--max-batch",
        "1000",
    ]


def noop_args(aio: bool = False, hit_share: float = 0.0) -> list[str]:
    """The arguments of the baseline server."""
    hits = ["--hit-share", str(hit_share)] if hit_share else []
    return ["bench.noop_server", "--listen", "127.0.0.1:0", *(["--aio"] if aio else []), *hits]


def channel(target: str) -> grpc.aio.Channel:
    """An aio channel to a loopback target."""
    return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
