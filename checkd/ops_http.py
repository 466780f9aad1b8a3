"""The HTTP ops listener (/healthz, /readyz, /metrics) on its own thread, beside the gRPC server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST

from checkd.metrics import Metrics

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Readiness:
    """The answer of /readyz: ready or not, with each condition's finding."""

    ready: bool
    checks: dict[str, str]


class OpsServer:
    """Serves the ops endpoints from threads of its own.

    A saturated gRPC worker pool or a long ledger queue never delays a health probe or a scrape.
    """

    def __init__(self, listen: str, metrics: Metrics, readiness: Callable[[], Readiness]) -> None:
        host, _, port = listen.rpartition(":")
        self._address = (host.strip("[]") or "127.0.0.1", int(port))
        self._metrics = metrics
        self._readiness = readiness
        self._draining = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    def start(self) -> int:
        """Bind and serve in a background thread; return the bound port."""
        server = ThreadingHTTPServer(self._address, _handler_class(self))
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="ops-http",
                         daemon=True).start()
        log.info("ops_serving", address=f"{self._address[0]}:{self.port}")
        return self.port

    def mark_draining(self) -> None:
        """From now on /readyz answers 503: the daemon is stopping."""
        self._draining.set()

    def close(self) -> None:
        """Stop serving and release the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def readiness(self) -> Readiness:
        """The daemon's readiness, with draining taken into account."""
        if self._draining.is_set():
            return Readiness(False, {"draining": "the daemon is stopping"})
        return self._readiness()

    def metrics_text(self) -> bytes:
        """The current metrics exposition."""
        return self._metrics.exposition()


def _handler_class(ops: OpsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """Routes the three ops paths; everything else is 404."""

        server_version = "checkd-ops"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            """Answer one GET."""
            path = self.path.split("?", 1)[0]
            try:
                if path == "/healthz":
                    self._send(200, b"ok\n", "text/plain; charset=utf-8")
                elif path == "/readyz":
                    found = ops.readiness()
                    body = json.dumps({"ready": found.ready, "checks": found.checks},
                                      ensure_ascii=False).encode() + b"\n"
                    self._send(200 if found.ready else 503, body, "application/json")
                elif path == "/metrics":
                    self._send(200, ops.metrics_text(), CONTENT_TYPE_LATEST)
                else:
                    self._send(404, b"not found\n", "text/plain; charset=utf-8")
            except Exception:  # a probe must get an answer, never a dropped connection
                log.exception("ops_request_failed", path=path)
                self._send(500, b"internal error\n", "text/plain; charset=utf-8")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Probes every few seconds would flood the log: stay quiet."""

    return Handler


def readiness_probe(loaded: Callable[[], bool], store_problem: Callable[[], str | None],
                    data_age: Callable[[], float | None],
                    max_data_age: float | None) -> Callable[[], Readiness]:
    """Compose /readyz: catalogue and index loaded, store reachable, data not older than allowed."""
    def probe() -> Readiness:
        checks: dict[str, str] = {}
        ready = True
        if loaded():
            checks["snapshots"] = "ok"
        else:
            checks["snapshots"] = "catalogue and index are not loaded yet"
            ready = False
        problem = store_problem()
        checks["store"] = problem or "ok"
        ready = ready and problem is None
        age = data_age()
        if age is None:
            checks["data_age"] = "unknown"
        elif max_data_age is not None and age > max_data_age:
            checks["data_age"] = (f"stale: {age:.0f}s since the data was last confirmed "
                                  f"(max {max_data_age:.0f}s)")
            ready = False
        else:
            checks["data_age"] = f"ok: {age:.1f}s"
        return Readiness(ready, checks)
    return probe
