"""The gRPC server: services, health, reflection, data refresh, readiness, graceful stop."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from checkd import compiled
from checkd.api.v1 import check_pb2, registry_pb2
from checkd.decide.snapshots import Snapshots
from checkd.errors import Starting
from checkd.evidence.ledger import Ledger
from checkd.ops.collector import set_for_serving
from checkd.ops.http import OpsServer, Readiness
from checkd.server.decoding import service_handler
from checkd.server.servicers import CheckService, RegistryService
from checkd.server.status import abort
from checkd.store import Database

log = structlog.get_logger(__name__)

SERVICE_NAMES = (
    check_pb2.DESCRIPTOR.services_by_name["CheckService"].full_name,
    registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,
)


class Closeable(Protocol):
    """A part the daemon releases when it stops (the store, the ledger writer, the checkpointer...)."""

    def close(self) -> None:
        """Release it."""


class Startable(Closeable, Protocol):
    """A listener started once the gRPC server serves (the HTTP gateway), released with the rest."""

    port: int

    def start(self) -> int:
        """Bind and serve; return the bound port."""


@dataclass
class Daemon:
    """A built daemon: its parts and the server that exposes them.

    wiring.build finishes it (nothing is set on it afterwards); start() binds, load() brings the
    first snapshot, stop() drains and closes.
    """

    database: Database
    ledger: Ledger
    snapshots: Snapshots
    check_service: CheckService
    registry_service: RegistryService
    listen: str
    workers: int
    max_concurrent_rpcs: int
    poll_seconds: float
    # The one audited reload path (the registry's): the Reload RPC and SIGHUP both take it.
    reload: Callable[[str], object]
    # The one readiness source: gRPC health follows it and /readyz shows it.
    readiness: Callable[[], Readiness] | None = None
    readiness_seconds: float = 1.0  # how often health is re-evaluated
    after_load: tuple[Callable[[], None], ...] = ()  # run once the first load is in (sample seeding)
    ops: OpsServer | None = None  # the HTTP ops listener, when configured
    # The HTTP/JSON gateway, when configured, and the unix socket of its private channel to this server.
    gateway: Startable | None = None
    local_socket: str | None = None
    interceptors: tuple[grpc.ServerInterceptor, ...] = ()  # server interceptors, outermost first
    credentials: grpc.ServerCredentials | None = None  # TLS; None: plain text
    reuse_port: bool = False  # share the port with the other workers of `serve --processes`
    # What build() opened, in build order; close() releases them in reverse.
    resources: tuple[Closeable, ...] = ()
    health: health.HealthServicer = field(default_factory=health.HealthServicer)
    port: int = 0
    _server: grpc.Server | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _ready: Readiness | None = None  # the latest finding of the readiness watcher
    _evaluating: threading.Lock = field(default_factory=threading.Lock)  # one readiness probe at a time

    def start(self) -> int:
        """Bind and serve with health NOT_SERVING (other calls: UNAVAILABLE "starting"); return the port.

        Probes get an answer during a long cold start instead of a refused connection; load()
        brings the first snapshot in, and the readiness watcher then reports SERVING.
        """
        server = grpc.server(
            ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="rpc"),
            maximum_concurrent_rpcs=self.max_concurrent_rpcs,
            interceptors=[*self.interceptors, _StartingGate(lambda: self.snapshots.loaded)],
            options=[
                # Off unless asked for: a second daemon on a taken port must fail, not share it.
                ("grpc.so_reuseport", 1 if self.reuse_port else 0),
                ("grpc.max_receive_message_length", 16 * 1024 * 1024),
            ],
        )
        server.add_generic_rpc_handlers(
            (
                service_handler(self.check_service, check_pb2.DESCRIPTOR.services_by_name["CheckService"]),
                service_handler(
                    self.registry_service, registry_pb2.DESCRIPTOR.services_by_name["RegistryService"]
                ),
            )
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (
                *SERVICE_NAMES,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            server,
        )
        self._set_health(serving=False)
        try:
            self.port = (
                server.add_insecure_port(self.listen)
                if self.credentials is None
                else server.add_secure_port(self.listen, self.credentials)
            )
        except RuntimeError:  # grpc's "Failed to bind": the port is taken or the address is not ours
            self.port = 0
        if self.port == 0:
            raise OSError(f"cannot bind {self.listen}: the port is in use or the address is not on this host")
        if self.local_socket is not None and server.add_insecure_port(f"unix:{self.local_socket}") == 0:
            raise OSError(f"cannot bind the gateway's local socket {self.local_socket}")
        server.start()
        self._server = server
        if self.ops is not None:
            self.ops.start(self.current_readiness)
        if self.gateway is not None:
            self.gateway.start()
        host = self.listen.rsplit(":", 1)[0]
        log.info("listening", address=f"{host}:{self.port}", tls=self.credentials is not None)
        return self.port

    def load(self) -> None:
        """Load the first catalogue and index, run the after-load steps, then follow readiness."""
        if not self.snapshots.loaded:
            self.snapshots.reload()
        for step in self.after_load:  # e.g. seeding the sample lists, which needs the catalogue
            step()
        set_for_serving()  # before health says SERVING: what startup built is long-lived
        self.check_readiness()
        threading.Thread(target=self._poll_data, name="data-poll", daemon=True).start()
        threading.Thread(target=self._watch_readiness, name="readiness", daemon=True).start()
        host = self.listen.rsplit(":", 1)[0]
        log.info(
            "serving",
            address=f"{host}:{self.port}",
            tls=self.credentials is not None,
            catalogue_version=self.snapshots.current.catalogue.version,
            data_version=self.snapshots.current.index.version,
            entries=self.snapshots.current.index.size,
            compiled=compiled.summary(),
        )

    def current_readiness(self) -> Readiness:
        """Readiness evaluated now (moving gRPC health with it): what /readyz answers.

        While another evaluation is under way (a store probe may wait on a lock), the latest
        finding is answered instead of queueing a second probe behind it.
        """
        if not self.snapshots.loaded:
            return Readiness(False, {"snapshots": "loading"})
        if not self._evaluating.acquire(blocking=False):
            return self._ready or Readiness(False, {"snapshots": "loading"})
        try:
            return self._evaluate()
        finally:
            self._evaluating.release()

    def check_readiness(self) -> Readiness:
        """Evaluate readiness now and move gRPC health with it; log each change."""
        with self._evaluating:
            return self._evaluate()

    def _evaluate(self) -> Readiness:
        if self.readiness is None:
            found = Readiness(
                self.snapshots.loaded, {"snapshots": "ok" if self.snapshots.loaded else "loading"}
            )
        else:
            found = self.readiness()
        previous, self._ready = self._ready, found
        if previous is None or previous.ready != found.ready:
            self._set_health(serving=found.ready)
            log.info("readiness_changed", ready=found.ready, **found.checks, **found.detail)
        return found

    def stop(self, grace: float) -> None:
        """Graceful stop: NOT_SERVING, refuse new calls, finish in-flight ones, flush the ledger."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        log.info("stopping", grace_seconds=grace)
        if self.ops is not None:
            self.ops.mark_draining()
        self.health.enter_graceful_shutdown()
        if self._server is not None:
            self._server.stop(grace).wait()
        self.ledger.close()  # the last step of draining: every queued record is committed
        self.close()
        log.info("stopped")
        self._stopped.set()

    def close(self) -> None:
        """Release what build() opened, in reverse build order (the final checkpoint before the store)."""
        for resource in reversed(self.resources):
            try:
                resource.close()
            except Exception as exc:  # one part that fails to close must not keep the others open
                log.warning("close_failed", part=type(resource).__name__, error=str(exc))

    def wait(self) -> None:
        """Block until stop() has finished."""
        # Timed waits: a signal delivered to one of gRPC's threads leaves an untimed wait asleep,
        # and the main thread would never run the SIGTERM handler.
        while not self._stopped.wait(0.5):
            pass

    def _set_health(self, *, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *SERVICE_NAMES):
            self.health.set(name, status)

    def _watch_readiness(self) -> None:
        # Store outages and stale data come and go without any call noticing: look every second.
        while not self._stopping.wait(self.readiness_seconds):
            try:
                self.check_readiness()
            except Exception as exc:  # a probe failure must not end the watcher
                log.warning("readiness_check_failed", error=str(exc))

    def _poll_data(self) -> None:
        # Picks up data imported by another process (checkd import) without a restart.
        while not self._stopping.wait(self.poll_seconds):
            try:
                if self.snapshots.refresh_if_changed():
                    log.info("data_refreshed", data_version=self.snapshots.current.index.version)
            except Exception as exc:  # keep serving the last good data
                log.warning("data_refresh_failed", error=str(exc))


class _StartingGate(grpc.ServerInterceptor):  # type: ignore[misc]
    """Until the first snapshot is in, every call but health and reflection is UNAVAILABLE "starting"."""

    def __init__(self, loaded: Callable[[], bool]) -> None:
        self._loaded = loaded

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        """Pass the call through once loaded; before that, answer it UNAVAILABLE."""
        handler = continuation(details)
        method: str = details.method
        if handler is None or self._loaded() or method.startswith(("/grpc.health.", "/grpc.reflection.")):
            return handler

        def refuse(_request: Any, context: grpc.ServicerContext) -> Any:
            abort(context, Starting("starting: the catalogue and index are still loading; retry shortly"))

        make = {
            (False, False): grpc.unary_unary_rpc_method_handler,
            (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler,
            (True, True): grpc.stream_stream_rpc_method_handler,
        }[(handler.request_streaming, handler.response_streaming)]
        return make(
            refuse,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
