"""The HTTP/JSON path beside gRPC, for Check and BatchCheck, each as a ratio to its own no-op of the run.

    python -m bench.http_path --seconds 5 --concurrency 4 --batch 50

Four servers are measured in turn with the same requests and the same number of client threads:
the gRPC no-op (bench/noop_server.py), an HTTP no-op (the HTTP listener's server model answering
the no-op's answers as canonical JSON, no gRPC behind it), and one checkd (embedded SQLite store,
bundled sample lists) over gRPC and over its --http-listen. Figures are calls per second; the ratios
say what checkd's work costs on each path and what the HTTP hop costs on top of gRPC.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format

from bench.noop_server import answer
from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import check_pb2_grpc
from checkd.ops.http import BoundedServer
from checkd.subjects.ids import org_code_check_char, uscc_check_char

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-0123456789abcdef"


def _uscc(number: int) -> str:
    body = f"MA{number:06d}"
    first17 = "91330402" + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


def requests(count: int) -> list[pb.CheckRequest]:
    """Checks of clean enterprises (a clear answer: the common case)."""
    return [
        pb.CheckRequest(
            department="market_regulation",
            scene="administrative_licensing",
            subjects=[pb.Subject(id=_uscc(n))],
        )
        for n in range(1, count + 1)
    ]


# ---------------------------------------------------------------- the HTTP no-op


def serve_http_noop(port_file: Path) -> None:
    """Answer POST /v1/checks and /v1/checks:batch with the no-op's answers, as canonical JSON."""

    class Handler(BaseHTTPRequestHandler):
        """Parse the JSON request, answer the fixed-shape reply."""

        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # as checkd's HTTP listener

        def do_POST(self) -> None:
            """One answer."""
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/v1/checks:batch":
                batch = json_format.Parse(body, pb.BatchCheckRequest())
                reply: Any = pb.BatchCheckResponse(
                    results=[pb.BatchCheckResult(response=answer(r)) for r in batch.requests]
                )
            else:
                reply = answer(json_format.Parse(body, pb.CheckRequest()))
            data = json_format.MessageToJson(reply, indent=None).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = BoundedServer(("127.0.0.1", 0), Handler, None, max_connections=256, label="noop")
    port_file.write_text(str(server.server_address[1]))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever(poll_interval=0.2)


# ---------------------------------------------------------------- drivers


def _drive(calls: Callable[[], Callable[[int], None]], threads: int, seconds: float) -> tuple[float, int]:
    """Run `threads` loops of one call each for `seconds`; (calls per second, errors)."""
    counts = [0] * threads
    errors = [0] * threads
    stop = time.monotonic() + seconds

    def loop(slot: int) -> None:
        call = calls()
        i = 0
        while time.monotonic() < stop:
            try:
                call(i)
                counts[slot] += 1
            except Exception:
                errors[slot] += 1
            i += 1

    started = time.monotonic()
    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.monotonic() - started), sum(errors)


def grpc_caller(port: int, pool: list[pb.CheckRequest], batch: int) -> Callable[[], Callable[[int], None]]:
    """A per-thread gRPC caller (Check when batch is 1, else BatchCheck)."""

    def make() -> Callable[[int], None]:
        stub = check_pb2_grpc.CheckServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))

        def call(i: int) -> None:
            if batch == 1:
                stub.Check(pool[i % len(pool)], timeout=30)
            else:
                items = [pool[(i * batch + k) % len(pool)] for k in range(batch)]
                stub.BatchCheck(pb.BatchCheckRequest(requests=items), timeout=30)

        return call

    return make


def http_caller(port: int, pool: list[pb.CheckRequest], batch: int) -> Callable[[], Callable[[int], None]]:
    """A per-thread HTTP caller on one kept-alive connection (POST /v1/checks or /v1/checks:batch)."""
    singles = [json_format.MessageToJson(r, indent=None).encode() for r in pool]

    def make() -> Callable[[int], None]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.connect()
        # http.client writes headers and body apart: without this each call waits on a delayed ACK.
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def call(i: int) -> None:
            if batch == 1:
                path, body = "/v1/checks", singles[i % len(singles)]
            else:
                items = b",".join(singles[(i * batch + k) % len(singles)] for k in range(batch))
                path, body = "/v1/checks:batch", b'{"requests":[' + items + b"]}"
            connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                raise RuntimeError(data[:200])

        return call

    return make


# ---------------------------------------------------------------- servers


def _start(args: list[str], port_file: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not port_file.exists() or not port_file.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{args} did not start")
        time.sleep(0.05)
    return process


def _ready(port: int) -> None:
    stub = check_pb2_grpc.CheckServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    for _ in range(600):
        try:
            stub.Check(requests(1)[0], timeout=5, wait_for_ready=True)
            return
        except grpc.RpcError:
            time.sleep(0.1)
    raise RuntimeError("checkd did not become ready")


def main(argv: list[str] | None = None) -> int:
    """Measure the four servers and print a table with the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per phase")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--batch", type=int, default=50, help="checks per BatchCheck")
    parser.add_argument("--serve-http-noop", type=Path, help=argparse.SUPPRESS)  # the no-op's own process
    args = parser.parse_args(argv)
    if args.serve_http_noop is not None:
        serve_http_noop(args.serve_http_noop)
        return 0
    pool = requests(2000)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {"PYTHONPATH": str(ROOT), "CHECKD_SECRET": SECRET}
        figures: dict[str, dict[str, tuple[float, int]]] = {}
        grpc_noop = _start(
            ["-m", "bench.noop_server", "--listen", "127.0.0.1:0", "--port-file", str(work / "g")],
            work / "g",
            env,
        )
        http_noop = _start(["-m", "bench.http_path", "--serve-http-noop", str(work / "h")], work / "h", env)
        checkd = _start(
            [
                "-m", "checkd", "serve", "--listen", "127.0.0.1:0", "--db", f"sqlite:///{work / 'c.db'}",
                "--rules", str(ROOT / "rules"), "--sample", "--log-format", "json",
                "--port-file", str(work / "c"),
                "--http-listen", "127.0.0.1:0", "--http-port-file", str(work / "ch"),
            ],
            work / "c",
            env,
        )  # fmt: skip
        try:
            _ready(int((work / "c").read_text()))
            ports = {name: int((work / name).read_text()) for name in ("g", "h", "c", "ch")}
            for label, batch in (("Check", 1), ("BatchCheck", args.batch)):
                figures[label] = {
                    "grpc noop": _drive(grpc_caller(ports["g"], pool, batch), args.concurrency, args.seconds),
                    "checkd grpc": _drive(
                        grpc_caller(ports["c"], pool, batch), args.concurrency, args.seconds
                    ),
                    "http noop": _drive(http_caller(ports["h"], pool, batch), args.concurrency, args.seconds),
                    "checkd http": _drive(
                        http_caller(ports["ch"], pool, batch), args.concurrency, args.seconds
                    ),
                }
        finally:
            for process in (grpc_noop, http_noop, checkd):
                process.send_signal(signal.SIGTERM)
                process.wait(60)
    print(f"calls/s, {args.concurrency} client threads, {args.seconds:g} s per phase, batch {args.batch}")
    print("| rpc | grpc noop | checkd grpc | ratio | http noop | checkd http | ratio | http/grpc | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, found in figures.items():
        (gn, ge), (cg, ce), (hn, he), (ch, che) = (
            found[k] for k in ("grpc noop", "checkd grpc", "http noop", "checkd http")
        )
        print(
            f"| {label} | {gn:.0f} | {cg:.0f} | {cg / gn:.2f} | {hn:.0f} | {ch:.0f} | {ch / hn:.2f} | "
            f"{ch / cg:.2f} | {ge + ce + he + che} |"
        )
    print(json.dumps({k: {n: round(v[0], 1) for n, v in f.items()} for k, f in figures.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
