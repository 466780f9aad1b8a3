"""The HTTP/JSON listener: each call is forwarded to the daemon's own gRPC server over a private channel.

No second implementation: the gRPC server's interceptors (request id, metrics, authentication,
policy, rate limits, the starting gate) and servicers answer every HTTP call exactly as they
answer a gRPC one. The gateway only transcodes (canonical JSON in, JSON or google.rpc.Status out)
and forwards the caller's credentials: the bearer token as `authorization` metadata, a verified
client certificate's names as metadata vouched for by a secret only it holds (GatewayTrust, server/auth.py).
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from importlib import resources
from pathlib import Path
from typing import Any

import grpc
import structlog
from google.protobuf import message_factory
from google.protobuf.message import Message
from google.rpc import status_pb2

from checkd.config import split_host_port
from checkd.errors import CheckdError, MalformedRequest, NotFound, Violation
from checkd.gateway import routes, transcode
from checkd.gateway.routes import Route
from checkd.ops.http import BoundedServer, server_context
from checkd.server.auth import GatewayTrust
from checkd.server.interceptors import REQUEST_ID_HEADER

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 16 * 1024 * 1024  # the gRPC server's own receive limit
DEADLINE_SECONDS = 60.0  # a call's deadline on the local channel
IDLE_TIMEOUT_SECONDS = 30.0  # a connection silent this long is closed
MAX_CONNECTIONS = 256
_STATIC = {
    "/openapi.json": ("openapi.json", "application/json"),
    "/": ("reference.html", "text/html; charset=utf-8"),
    "/docs": ("reference.html", "text/html; charset=utf-8"),
}


def gateway_tls(cert: Path | None, key: Path | None, client_ca: Path | None) -> ssl.SSLContext | None:
    """TLS of the HTTP listener, as the gRPC listener's: with a client CA, a certificate is required."""
    if cert is None or key is None:
        return None
    context = server_context(cert, key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    return context


class HttpGateway:
    """Serves the HTTP routes of the services from threads of its own, beside the gRPC listener."""

    def __init__(self, listen: str, trust: GatewayTrust, tls: ssl.SSLContext | None = None) -> None:
        address = split_host_port(listen)
        assert address is not None, listen  # Config refused anything else
        self._address = (address[0] or "127.0.0.1", address[1])
        self._trust = trust
        self._tls = tls
        self._server: BoundedServer | None = None
        self._channel: grpc.Channel | None = None
        self.port = 0

    def start(self) -> int:
        """Open the local channel, bind and serve; return the bound port."""
        self._channel = grpc.insecure_channel(
            self._trust.target, options=[("grpc.max_receive_message_length", MAX_BODY_BYTES)]
        )
        server = BoundedServer(
            self._address, _handler_class(self), self._tls, max_connections=MAX_CONNECTIONS, label="http"
        )
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="http-gateway", daemon=True
        ).start()
        log.info("http_serving", address=f"{self._address[0]}:{self.port}", tls=self._tls is not None)
        return self.port

    def close(self) -> None:
        """Stop accepting connections and close the local channel."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    # ------------------------------------------------------------------ forwarding

    def metadata(self, headers: Any, connection: Any, peer: str) -> list[tuple[str, str]]:
        """The gRPC metadata of a call: the caller's token and correlation id, the vouched identity."""
        found: list[tuple[str, str]] = []
        token = headers.get("Authorization")
        if token is not None:
            found.append(("authorization", token))
        request_id = headers.get("X-Request-Id")
        if request_id:
            found.append((REQUEST_ID_HEADER, request_id))
        found += self._trust.metadata(_certificate_names(connection), peer)
        return found

    def unary(self, route: Route, request: Message, metadata: list[tuple[str, str]]) -> Message:
        """Call a unary RPC on the local channel."""
        assert self._channel is not None
        call = self._channel.unary_unary(
            route.grpc_path,
            request_serializer=_serialize,
            response_deserializer=_deserializer(route),
        )
        response: Message = call(request, metadata=metadata, timeout=DEADLINE_SECONDS)
        return response

    def stream(
        self, route: Route, requests: list[Message], metadata: list[tuple[str, str]]
    ) -> Iterator[Message]:
        """Call a streaming RPC on the local channel with every request; yield its answers."""
        assert self._channel is not None
        call = self._channel.stream_stream(
            route.grpc_path,
            request_serializer=_serialize,
            response_deserializer=_deserializer(route),
        )
        answers: Iterator[Message] = call(iter(requests), metadata=metadata, timeout=DEADLINE_SECONDS)
        return answers


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


def _deserializer(route: Route) -> Any:
    return message_factory.GetMessageClass(route.method.output_type).FromString


def _certificate_names(connection: Any) -> list[str]:
    """The CN, then the subject alternative names, of the verified client certificate (as gRPC has them)."""
    if not isinstance(connection, ssl.SSLSocket):
        return []
    cert: Any = connection.getpeercert()
    if not cert:
        return []
    names: list[str] = []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName" and value not in names:
                names.append(str(value))
    for _, alternative in cert.get("subjectAltName", ()):
        if alternative not in names:
            names.append(str(alternative))
    return names


def _handler_class(gateway: HttpGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """Routes by the google.api.http table; the reference page and the spec beside it."""

        server_version = "checkd-http"
        protocol_version = "HTTP/1.1"
        timeout = IDLE_TIMEOUT_SECONDS
        # Headers and body leave in two writes: with Nagle's algorithm the body would wait for the
        # client's delayed ACK of the headers (~40 ms a call on Linux).
        disable_nagle_algorithm = True

        def setup(self) -> None:
            """With TLS, shake hands here, on this connection's thread and under its timeout."""
            super().setup()
            if isinstance(self.connection, ssl.SSLSocket):
                self.connection.do_handshake()

        def do_GET(self) -> None:
            """Serve the spec, the reference page, or a GET route."""
            path = self.path.split("?", 1)[0]
            if path in _STATIC:
                name, content_type = _STATIC[path]
                body = (resources.files("checkd.gateway") / "static" / name).read_bytes()
                self._send(200, body, content_type)
                return
            self._route("GET")

        def do_POST(self) -> None:
            """Serve a POST route."""
            self._route("POST")

        def _route(self, verb: str) -> None:
            path, _, query = self.path.partition("?")
            try:
                body = self._body()
                found = routes.find(verb, path)
                if found is None:
                    allowed = routes.allowed_verbs(path)
                    if allowed:
                        refusal = NotFound(
                            f"{verb} is not served at {path[:100]}; use {' or '.join(allowed)}"
                        )
                        self._send_status(transcode.status_of_error(refusal), 405, allow=", ".join(allowed))
                        return
                    raise NotFound(f"no route {verb} {path[:100]}")
                route, params = found
                metadata = gateway.metadata(self.headers, self.connection, f"{self.client_address[0]}")
                if route.streaming:
                    self._stream(route, params, body, metadata)
                    return
                request = transcode.request_of(route, params, query, body)
                response = gateway.unary(route, request, metadata)
                self._send(200, transcode.to_json(response), "application/json")
            except CheckdError as exc:
                self._send_status(transcode.status_of_error(exc))
            except grpc.RpcError as exc:
                self._send_status(transcode.status_of_rpc_error(exc))

        def _stream(self, route: Route, params: dict[str, str], body: bytes, metadata: Any) -> None:
            """NDJSON in and out: a `{"result": ...}` line per answer, `{"error": ...}` last on failure."""
            requests = []
            for number, line in enumerate(body.splitlines(), start=1):
                if line.strip():
                    try:
                        requests.append(transcode.request_of(route, params, "", line))
                    except MalformedRequest as exc:
                        problem = exc.violations[0].description
                        raise MalformedRequest([Violation(f"(line {number})", problem)]) from None
            answers = gateway.stream(route, requests, metadata)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for answer in answers:
                    self._chunk(b'{"result":' + transcode.to_json(answer) + b"}\n")
            except grpc.RpcError as exc:
                status = transcode.status_of_rpc_error(exc)
                self._chunk(b'{"error":' + transcode.status_json(status) + b"}\n")
            self._chunk(b"")

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self.close_connection = True
                raise MalformedRequest([Violation("(body)", f"larger than {MAX_BODY_BYTES} bytes")])
            return self.rfile.read(length) if length > 0 else b""

        def _send_status(self, status: status_pb2.Status, http: int | None = None, allow: str = "") -> None:
            headers = {"Allow": allow} if allow else {}
            delay = transcode.retry_after(status)
            if delay is not None:
                headers["Retry-After"] = delay
            self._send(
                http or transcode.http_status(status),
                transcode.status_json(status),
                "application/json",
                headers,
            )

        def _send(
            self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            with contextlib.suppress(OSError):  # the caller went away: nobody to answer
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """The gRPC server logs every call (with its request id); no second access log."""

    return Handler
