"""The gRPC server: services, health, reflection, data refresh, graceful stop."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from checkd.api.v1 import check_pb2, registry_pb2
from checkd.ledger import Ledger
from checkd.ops_http import OpsServer
from checkd.service import CheckService, RegistryService
from checkd.snapshots import Snapshots
from checkd.store import Database
from checkd.wire import service_handler

log = structlog.get_logger(__name__)

SERVICE_NAMES = (
    check_pb2.DESCRIPTOR.services_by_name["CheckService"].full_name,
    registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,
)


@dataclass
class Daemon:
    """A built daemon: its parts and the server that exposes them."""

    database: Database
    ledger: Ledger
    snapshots: Snapshots
    check_service: CheckService
    registry_service: RegistryService
    listen: str
    workers: int
    max_concurrent_rpcs: int
    poll_seconds: float
    health: health.HealthServicer = field(default_factory=health.HealthServicer)
    ops: OpsServer | None = None  # the HTTP ops listener, when configured
    # Server interceptors, outermost first; wiring appends (auth, ops, ...) before start().
    interceptors: list[grpc.ServerInterceptor] = field(default_factory=list)
    credentials: grpc.ServerCredentials | None = None  # TLS; None: plain text
    on_reload: list[Callable[[], None]] = field(default_factory=list)  # run on SIGHUP
    port: int = 0
    _server: grpc.Server | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> int:
        """Bind, serve, and report SERVING once catalogue and index are loaded; return the port."""
        server = grpc.server(
            ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="rpc"),
            maximum_concurrent_rpcs=self.max_concurrent_rpcs,
            interceptors=list(self.interceptors),
            options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 16 * 1024 * 1024)],
        )
        server.add_generic_rpc_handlers((
            service_handler(self.check_service, check_pb2.DESCRIPTOR.services_by_name["CheckService"]),
            service_handler(self.registry_service,
                            registry_pb2.DESCRIPTOR.services_by_name["RegistryService"]),
        ))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME),
            server,
        )
        self._set_health(serving=False)
        self.port = (server.add_insecure_port(self.listen) if self.credentials is None
                     else server.add_secure_port(self.listen, self.credentials))
        if self.port == 0:
            raise OSError(f"cannot bind {self.listen}")
        server.start()
        self._server = server
        if self.snapshots.loaded:
            self._set_health(serving=True)
        if self.ops is not None:
            self.ops.start()
        threading.Thread(target=self._poll_data, name="data-poll", daemon=True).start()
        host = self.listen.rsplit(":", 1)[0]
        log.info("serving", address=f"{host}:{self.port}", tls=self.credentials is not None,
                 catalogue_version=self.snapshots.current.catalogue.version,
                 data_version=self.snapshots.current.index.version,
                 entries=self.snapshots.current.index.size)
        return self.port

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
        self.ledger.close()
        self.database.close()
        if self.ops is not None:
            self.ops.close()
        log.info("stopped")
        self._stopped.set()

    def wait(self) -> None:
        """Block until stop() has finished."""
        # Timed waits: a signal delivered to one of gRPC's threads leaves an untimed wait asleep,
        # and the main thread would never run the SIGTERM handler.
        while not self._stopped.wait(0.5):
            pass

    def _set_health(self, *, serving: bool) -> None:
        status = (health_pb2.HealthCheckResponse.SERVING if serving
                  else health_pb2.HealthCheckResponse.NOT_SERVING)
        for name in ("", *SERVICE_NAMES):
            self.health.set(name, status)

    def _poll_data(self) -> None:
        # Picks up data imported by another process (checkd import) without a restart.
        while not self._stopping.wait(self.poll_seconds):
            try:
                if self.snapshots.refresh_if_changed():
                    log.info("data_refreshed", data_version=self.snapshots.current.index.version)
            except Exception as exc:  # keep serving the last good data
                log.warning("data_refresh_failed", error=str(exc))
