"""`checkd serve --processes N`: N serving processes on one port, restarted when they die, one ops view."""

from __future__ import annotations

import contextlib
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from checkd.config import split_host_port
from checkd.ops.http import OpsServer, Readiness

log = structlog.get_logger(__name__)

RESTART_PAUSE_SECONDS = 1.0  # a worker that keeps dying is restarted at most this often
SCRAPE_TIMEOUT_SECONDS = 2.0  # a worker's /metrics or /readyz slower than this counts as not ready


@dataclass
class Worker:
    """One serving process: its command, where it tells its ports, and how often it was restarted."""

    index: int
    command: list[str]
    port_file: Path
    ops_port_file: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    bound: bool = False  # it has bound the shared port at least once

    def start(self) -> None:
        """Start (or restart) the process; it inherits stdout and stderr, so its log joins ours."""
        for stale in (self.port_file, self.ops_port_file):
            stale.unlink(missing_ok=True)
        self.process = subprocess.Popen(self.command)
        self.started_at = time.monotonic()
        log.info("worker_started", worker=self.index, pid=self.process.pid, restarts=self.restarts)

    def ops_port(self) -> int | None:
        """The worker's private ops port once it has written it."""
        with contextlib.suppress(OSError, ValueError):
            return int(self.ops_port_file.read_text())
        return None

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None


@dataclass
class Supervisor:
    """Runs `processes` copies of `checkd serve` on one port and keeps them running until told to stop.

    The port is shared through SO_REUSEPORT: the kernel spreads new connections over the workers.
    SIGTERM and SIGINT drain every worker (each finishes its calls and flushes its ledger); SIGHUP
    reloads every worker; a worker that dies is logged and started again. The ops listener, if
    asked for, answers for all of them: /readyz is ready when every worker is, /metrics carries
    every worker's series with a `worker` label (sum them without it for the whole daemon).
    """

    serve_args: Sequence[str]  # the `checkd serve ...` arguments the command was given
    processes: int
    listen: str
    grace_seconds: float
    port_file: Path | None = None
    ops_listen: str | None = None
    ops_port_file: Path | None = None
    ops_tls: ssl.SSLContext | None = None
    workers_tls: bool = False  # the workers' own ops listeners serve TLS (they have the daemon's cert)
    workers: list[Worker] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _reload: threading.Event = field(default_factory=threading.Event)

    def run(self) -> int:
        """Start the workers, supervise them until SIGTERM, drain them; the exit code."""
        address = split_host_port(self.listen)
        assert address is not None, self.listen  # Config refused anything else
        host, port = address
        with tempfile.TemporaryDirectory(prefix="checkd-workers-") as scratch, _reserved(host, port) as bound:
            listen = f"{host}:{bound}"
            self.workers = [self._worker(i, listen, Path(scratch)) for i in range(self.processes)]
            self._signals()  # before any worker starts: a SIGTERM during startup drains them all
            # The first worker opens the store alone (on a new store it creates the schema): two
            # processes creating one SQLite file at once can refuse each other ("database is locked").
            first, *rest = self.workers
            first.start()
            started = self._all_bound([first])
            if started:
                for worker in rest:
                    worker.start()
                started = self._all_bound(rest)
            if not started:
                self._drain()
                print(f"checkd: cannot start: a worker could not serve on {listen}", file=sys.stderr)
                return 1
            ops = self._ops()
            if self.port_file is not None:
                self.port_file.write_text(str(bound))
            log.info("supervisor_serving", address=listen, processes=self.processes)
            try:
                self._supervise()
            finally:
                if ops is not None:
                    ops.mark_draining()
                code = self._drain()
                if ops is not None:
                    ops.close()
        return code

    def _worker(self, index: int, listen: str, scratch: Path) -> Worker:
        port_file, ops_file = scratch / f"worker-{index}.port", scratch / f"worker-{index}.ops"
        command = [
            sys.executable,
            "-m",
            "checkd",
            *self.serve_args,
            # Later options win: each worker serves the shared port, alone in its process.
            "--processes",
            "1",
            "--supervised",
            "--listen",
            listen,
            "--port-file",
            str(port_file),
            "--ops-listen",
            "127.0.0.1:0",
            "--ops-port-file",
            str(ops_file),
        ]
        return Worker(index, command, port_file, ops_file)

    def _all_bound(self, workers: list[Worker]) -> bool:
        """Wait until these workers have bound (each its port file); False if one exited first."""
        for worker in workers:
            while not worker.port_file.exists() or not worker.port_file.read_text():
                if not worker.alive():
                    return False
                time.sleep(0.05)
            worker.bound = True
        return True

    def _signals(self) -> None:
        def stop(*_: object) -> None:
            self._stopping.set()

        def reload(*_: object) -> None:
            self._reload.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)

    def _supervise(self) -> None:
        while not self._stopping.wait(0.2):
            if self._reload.is_set():
                self._reload.clear()
                self._signal_all(signal.SIGHUP)
                log.info("supervisor_reload", processes=len(self.workers))
            for worker in self.workers:
                if worker.alive() or self._stopping.is_set():
                    continue
                code = None if worker.process is None else worker.process.returncode
                if time.monotonic() - worker.started_at < RESTART_PAUSE_SECONDS:
                    continue  # dying at once again: give it a pause before the next try
                log.warning("worker_died", worker=worker.index, exit_code=code, restarting=True)
                worker.restarts += 1
                worker.start()

    def _signal_all(self, sig: int) -> None:
        for worker in self.workers:
            if worker.alive() and worker.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    worker.process.send_signal(sig)

    def _drain(self) -> int:
        """SIGTERM every worker and wait for each to finish its calls; 0 when all exited cleanly."""
        log.info("supervisor_stopping", processes=len(self.workers))
        self._signal_all(signal.SIGTERM)
        code = 0
        deadline = time.monotonic() + self.grace_seconds + 30
        for worker in self.workers:
            if worker.process is None:
                continue
            try:
                exit_code = worker.process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                exit_code = worker.process.wait()
                log.error("worker_killed", worker=worker.index, reason="did not drain in time")
            code = code or (1 if exit_code else 0)
        log.info("supervisor_stopped", exit_code=code)
        return code

    # ------------------------------------------------------------------ the one ops view

    def _ops(self) -> OpsServer | None:
        if self.ops_listen is None:
            return None
        view = WorkersView(self._worker_ops, self._restarts)
        ops = OpsServer(self.ops_listen, view.registry, tls=self.ops_tls)
        ops.start(self.readiness)
        if self.ops_port_file is not None:
            self.ops_port_file.write_text(str(ops.port))
        return ops

    def readiness(self) -> Readiness:
        """Ready when every worker runs and reports ready; each worker's finding by name."""
        checks: dict[str, str] = {}
        for worker in self.workers:
            name = f"worker-{worker.index}"
            port = worker.ops_port()
            if not worker.alive() or port is None:
                checks[name] = "down"
                continue
            try:
                self._fetch(port, "/readyz")
                checks[name] = "ok"
            except OSError:  # urllib raises HTTPError (an OSError) on 503
                checks[name] = "not ready"
        return Readiness(all(v == "ok" for v in checks.values()), checks)

    def _worker_ops(self) -> Iterator[tuple[int, str]]:
        for worker in self.workers:
            port = worker.ops_port()
            if worker.alive() and port is not None:
                with contextlib.suppress(OSError):
                    yield worker.index, self._fetch(port, "/metrics")

    def _restarts(self) -> dict[int, tuple[bool, int]]:
        return {w.index: (w.alive(), w.restarts) for w in self.workers}

    def _fetch(self, port: int, path: str) -> str:
        scheme = "https" if self.workers_tls else "http"
        context = None
        if self.workers_tls:  # our own child on loopback, with the daemon's certificate
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(
            f"{scheme}://127.0.0.1:{port}{path}", timeout=SCRAPE_TIMEOUT_SECONDS, context=context
        ) as answer:
            text: str = answer.read().decode()
            return text


class WorkersView:
    """The metrics of every worker as one exposition, each series labelled with its worker."""

    def __init__(
        self,
        scrape: Callable[[], Iterable[tuple[int, str]]],
        workers: Callable[[], dict[int, tuple[bool, int]]],
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_WorkersCollector(scrape, workers))

    def exposition(self) -> bytes:
        """Every worker's series and the supervisor's own, in the Prometheus text format."""
        return generate_latest(self.registry)


class _WorkersCollector(Collector):
    """Merges the workers' families by name (one family per name) and adds the workers' state."""

    def __init__(
        self,
        scrape: Callable[[], Iterable[tuple[int, str]]],
        workers: Callable[[], dict[int, tuple[bool, int]]],
    ) -> None:
        self._scrape = scrape
        self._workers = workers

    def collect(self) -> Iterator[Metric]:
        """Scrape every worker now and yield the merged families."""
        families: dict[str, Metric] = {}
        for index, text in self._scrape():
            for family in text_string_to_metric_families(text):
                merged = families.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type, family.unit)
                )
                for sample in family.samples:
                    merged.add_sample(
                        sample.name, {**sample.labels, "worker": str(index)}, sample.value, sample.timestamp
                    )
        yield from families.values()
        state = self._workers()
        alive = GaugeMetricFamily("checkd_worker_up", "1 while the serving process runs.", labels=["worker"])
        restarts = GaugeMetricFamily(
            "checkd_worker_restarts", "Times the serving process was started again.", labels=["worker"]
        )
        for index, (up, count) in sorted(state.items()):
            alive.add_metric([str(index)], 1.0 if up else 0.0)
            restarts.add_metric([str(index)], float(count))
        yield alive
        yield restarts


@contextlib.contextmanager
def _reserved(host: str, port: int) -> Iterator[int]:
    """The port the workers share; port 0 is resolved to a free one, held (not listening) meanwhile.

    The holding socket has SO_REUSEPORT like the workers' listeners, so they can bind beside it;
    it never listens, so the kernel hands it no connection.
    """
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    try:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind((host.strip("[]") or "0.0.0.0", port))
        yield holder.getsockname()[1]
    finally:
        holder.close()


__all__ = ["Supervisor", "Worker", "WorkersView"]
