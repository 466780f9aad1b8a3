"""The HTTP ops listener (/healthz, /readyz, /metrics) on its own threads, beside the gRPC server.

/metrics is prometheus_client's own WSGI app (gzip, OpenMetrics negotiation); the listener adds
HEAD, the probes, the client-certificate rule off loopback and bounded, quiet connections.
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import structlog
from prometheus_client import make_wsgi_app
from prometheus_client.registry import Collector

from checkd.config import is_loopback, split_host_port

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Readiness:
    """The answer of /readyz: ready or not, with each condition's finding."""

    ready: bool
    checks: dict[str, str]  # each condition's status: what any probe may see
    # Why a condition failed (store errors name hosts): for the log only, never served.
    detail: dict[str, str] = field(default_factory=dict)


IDLE_TIMEOUT_SECONDS = 5.0  # a connection silent this long (mid-request or between requests) is closed
MAX_CONNECTIONS = 32  # connections served at once; more are closed at once (probes retry)


def ops_tls(cert: Path | None, key: Path | None, client_ca: Path | None = None) -> ssl.SSLContext | None:
    """TLS for the ops listener with the daemon's certificate and key, when it serves TLS.

    With a client CA, a client certificate is asked for but not required: probes need none,
    and off loopback /metrics (department names) is served only to a verified one.
    """
    if cert is None or key is None:
        return None
    context = server_context(cert, key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(client_ca)
    return context


CLIENT_VERIFIED = "checkd.client_verified"  # WSGI environ key: the TLS peer showed a verified certificate
_TEXT = [("Content-Type", "text/plain; charset=utf-8")]


class BoundedServer(ThreadingMixIn, WSGIServer):
    """A thread per connection, at most `max_connections` of them, and no raw tracebacks on stderr.

    The standard server starts a thread for every connection without limit and prints a
    traceback for every client that goes away mid-answer, which breaks a JSON log line by line.
    """

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the default backlog of 5 would stall probes behind a few slow clients

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        tls: ssl.SSLContext | None,
        max_connections: int = MAX_CONNECTIONS,
        label: str = "ops",  # names the listener in its log events
    ) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(max_connections)
        self._limit = max_connections
        self._label = label
        self._tls = tls

    def get_request(self) -> tuple[Any, Any]:
        """Accept; with TLS, wrap without the handshake, which runs (with its timeout) in the thread."""
        connection, address = super().get_request()
        if self._tls is not None:
            connection = self._tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve on a thread of its own while a slot is free; else close the connection at once."""
        if not self._slots.acquire(blocking=False):
            log.warning(f"{self._label}_connection_refused", reason="too many connections", limit=self._limit)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve one connection and free its slot."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One structured event instead of a traceback: a client that went away is routine."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError, ssl.SSLError, OSError)):
            log.debug(f"{self._label}_connection_dropped", error=type(error).__name__)
        else:
            log.error(f"{self._label}_connection_failed", error=type(error).__name__, detail=str(error))


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context with this certificate and key (for the HTTP listeners)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


class OpsServer:
    """Serves the ops endpoints from threads of its own.

    A saturated gRPC worker pool or a long ledger queue never delays a health probe or a scrape.
    `registry` is what /metrics exposes: the daemon's own, or a multiprocess collector's.
    """

    def __init__(self, listen: str, registry: Collector, tls: ssl.SSLContext | None = None) -> None:
        address = split_host_port(listen)
        assert address is not None, listen  # Config refused anything else
        self._address = (address[0] or "127.0.0.1", address[1])
        # Off loopback, /metrics (which names departments) needs a verified client certificate.
        self._metrics_open = is_loopback(listen)
        self._registry = registry
        self._readiness: Callable[[], Readiness] = lambda: Readiness(False, {"snapshots": "loading"})
        self._tls = tls
        self._draining = threading.Event()
        self._server: BoundedServer | None = None
        self.port = 0

    def start(self, readiness: Callable[[], Readiness]) -> int:
        """Bind and serve `readiness` (the daemon's) in a background thread; return the bound port."""
        self._readiness = readiness
        server = BoundedServer(self._address, _Handler, self._tls)
        server.set_app(ops_app(self._registry, self.readiness, self._metrics_open))
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="ops-http", daemon=True
        ).start()
        log.info("ops_serving", address=f"{self._address[0]}:{self.port}", tls=self._tls is not None)
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


def ops_app(registry: Collector, readiness: Callable[[], Readiness], metrics_open: bool) -> WSGIApplication:
    """The ops routes as one WSGI app: /healthz, /readyz, /metrics (the registry's); HEAD on each."""
    metrics = make_wsgi_app(registry)

    def route(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        try:
            if path == "/healthz":
                start_response("200 OK", _TEXT)
                return [b"ok\n"]
            if path == "/readyz":
                found = readiness()
                body = json.dumps({"ready": found.ready, "checks": found.checks}, ensure_ascii=False)
                status = "200 OK" if found.ready else "503 Service Unavailable"
                start_response(status, [("Content-Type", "application/json")])
                return [body.encode() + b"\n"]
            if path == "/metrics" and not (metrics_open or environ.get(CLIENT_VERIFIED)):
                start_response("403 Forbidden", _TEXT)
                return [b"/metrics off loopback needs a client certificate (--tls-client-ca)\n"]
            if path == "/metrics":
                return metrics(environ, start_response)  # type: ignore[no-any-return]
            start_response("404 Not Found", _TEXT)
            return [b"not found\n"]
        except Exception:  # a probe must get an answer, never a dropped connection
            log.exception("ops_request_failed", path=path)
            start_response("500 Internal Server Error", _TEXT, sys.exc_info())
            return [b"internal error\n"]

    return _with_head(route)


def _with_head(app: WSGIApplication) -> WSGIApplication:
    """HEAD answered as GET without the body: same status and headers (Content-Length included)."""

    def head_or_get(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "HEAD":
            return app(environ, start_response)
        answered: list[tuple[str, list[tuple[str, str]]]] = []

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            answered[:] = [(status, headers)]
            return lambda _data: None

        body = b"".join(app({**environ, "REQUEST_METHOD": "GET"}, keep))
        status, headers = answered[0]
        if not any(name.lower() == "content-length" for name, _ in headers):
            headers = [*headers, ("Content-Length", str(len(body)))]  # the length the GET would send
        start_response(status, headers)
        return []

    return head_or_get


class _QuietServerHandler(ServerHandler):
    """wsgiref's response writer, with its application errors logged as one event, not a traceback."""

    def log_exception(self, exc_info: Any) -> None:
        """One structured event on the daemon's log."""
        log.error("ops_request_failed", error=exc_info[0].__name__, detail=str(exc_info[1]))


class _Handler(WSGIRequestHandler):
    """One request per connection, under the idle timeout, with TLS shaken hands on this thread."""

    server_version = "checkd-ops"
    timeout = IDLE_TIMEOUT_SECONDS  # socket timeout: an idle or slow client is let go

    def setup(self) -> None:
        """With TLS, shake hands here, on this connection's thread and under its timeout."""
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def get_environ(self) -> dict[str, Any]:
        """The WSGI environ, with whether the peer showed a verified client certificate."""
        environ = super().get_environ()
        connection = self.connection
        environ[CLIENT_VERIFIED] = isinstance(connection, ssl.SSLSocket) and bool(connection.getpeercert())
        return environ

    def handle(self) -> None:
        """wsgiref's handle, with the quiet response writer."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _QuietServerHandler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]  # typeshed types it BufferedIOBase; it is a socket file
            self.get_stderr(),
            self.get_environ(),
            multithread=False,
        )
        handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref's back-pointer for logging
        handler.run(self.server.get_app())  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would flood the log: stay quiet."""


def readiness_probe(
    loaded: Callable[[], bool],
    store_problem: Callable[[], str | None],
    data_age: Callable[[], float | None],
    max_data_age: float | None,
) -> Callable[[], Readiness]:
    """Compose readiness: catalogue and index loaded, store writable, data not older than allowed.

    The statuses say what failed, not why in detail: an unauthenticated probe sees no database
    host or driver message (those go to the log through `detail`).
    """

    def probe() -> Readiness:
        checks: dict[str, str] = {}
        detail: dict[str, str] = {}
        ready = True
        if loaded():
            checks["snapshots"] = "ok"
        else:
            checks["snapshots"] = "loading"
            ready = False
        problem = store_problem()
        checks["store"] = "ok" if problem is None else "unavailable"
        if problem is not None:
            detail["store_problem"] = problem
            ready = False
        age = data_age()
        if age is None:
            checks["data_age"] = "unknown"
        elif max_data_age is not None and age > max_data_age:
            checks["data_age"] = (
                f"stale: {age:.0f}s since the source last confirmed the data (max {max_data_age:.0f}s)"
            )
            ready = False
        else:
            checks["data_age"] = f"ok: {age:.1f}s"
        return Readiness(ready, checks, detail)

    return probe
