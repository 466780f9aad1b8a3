"""`checkd serve`: build the daemon from its options, run it until SIGTERM, reload on SIGHUP."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from checkd.cli.options import EXIT_FAILED, EXIT_OK, print_rejected, settings_options
from checkd.config import Config

if TYPE_CHECKING:  # the daemon's modules load only once `serve` runs: the other commands start fast
    from checkd.server.grpc_server import Daemon


def register(commands: Any) -> None:
    """The serve command: its options are the settings of Config (checkd/config.py), one flag each."""
    serve = commands.add_parser("serve", help="run the daemon")
    settings_options(serve, Config)
    # Set by the supervisor on its workers: share the port, stop when the supervisor is gone.
    serve.add_argument("--supervised", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from checkd import wiring
    from checkd.ops import log

    config: Config = args.settings
    if args.supervised:
        config = config.model_copy(update={"reuse_port": True})
    log.configure(config.log_format)
    import structlog

    from checkd.ops.build import commit, version

    structlog.get_logger("checkd.cli").info(
        "configuration", version=version(), commit=commit(), **config.shown()
    )
    if config.processes > 1 and not args.supervised:
        return _supervise(config, config.processes)
    from checkd.errors import CheckdError, ImportRejected

    try:
        daemon = wiring.build(config)
    except ImportRejected as exc:
        print_rejected(exc, "checkd: cannot start: sample data rejected")
        return EXIT_FAILED
    except (CheckdError, ValueError, OSError) as exc:
        print(f"checkd: cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    signals = _on_signals(daemon, config.grace)  # before any port is announced: a SIGTERM from then on drains
    try:
        port = daemon.start()
    except (CheckdError, ValueError, OSError) as exc:  # e.g. the port is in use
        daemon.stop(0)
        print(f"checkd: cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if config.http_port_file is not None and daemon.gateway is not None:
        config.http_port_file.write_text(str(daemon.gateway.port))
    if config.ops_port_file is not None and daemon.ops is not None:
        config.ops_port_file.write_text(str(daemon.ops.port))  # before the gRPC port file: tests wait on it
    if config.port_file is not None:
        config.port_file.write_text(str(port))  # bound: probes get NOT_SERVING while the index loads
    try:
        daemon.load()
    except ImportRejected as exc:
        daemon.stop(0)
        print_rejected(exc, "checkd: cannot start: sample data rejected")
        return EXIT_FAILED
    except (CheckdError, ValueError, OSError) as exc:
        daemon.stop(0)
        print(f"checkd: cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    signals.loaded()
    if args.supervised:
        _stop_with_supervisor(signals)
    daemon.wait()
    return EXIT_OK


def _supervise(config: Config, processes: int) -> int:
    """Run `processes` workers of this very command line on one port, supervised."""
    from checkd.ops.http import ops_tls
    from checkd.ops.supervisor import Supervisor

    return Supervisor(
        sys.argv[1:],  # `serve` and its options, as given; the workers get them with their own last
        processes,
        config.listen,
        config.grace_seconds,
        port_file=config.port_file,
        ops_listen=config.ops_listen,
        ops_port_file=config.ops_port_file,
        ops_tls=ops_tls(config.tls_cert, config.tls_key, config.tls_client_ca),
        workers_tls=config.tls_cert is not None and config.tls_key is not None,
    ).run()


def _stop_with_supervisor(stop: Callable[[], None]) -> None:
    """A worker whose supervisor died (even by SIGKILL) drains and exits instead of serving on alone."""
    import os

    supervisor = os.getppid()

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(0.5)
        stop()

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


class _Signals:
    """SIGTERM/SIGINT drain the daemon, SIGHUP reloads it; during the cold start both wait for the load.

    Installed before the port is announced: a SIGTERM between binding and SERVING would otherwise
    kill the process with the default action instead of draining it. Python runs signal handlers
    on the main thread, which is the thread that loads, so the flags need no lock.
    """

    def __init__(self, daemon: Daemon, grace: float) -> None:
        self._daemon, self._grace = daemon, grace
        self._loaded = False
        self._pending: list[Callable[[], None]] = []

    def __call__(self, *_: object) -> None:
        """Drain and stop (the handler of SIGTERM and SIGINT; also called when the supervisor dies)."""
        self._run(self._stop)

    def loaded(self) -> None:
        """The first snapshot is in: run what was signalled while it loaded."""
        self._loaded = True
        pending, self._pending = self._pending, []
        for action in pending:
            action()

    def reload(self, *_: object) -> None:
        """The SIGHUP handler: the Reload RPC's path, audited, the access policy re-read."""
        self._run(self._reload)

    def _run(self, action: Callable[[], None]) -> None:
        if self._loaded:
            action()
        else:
            self._pending.append(action)

    def _stop(self) -> None:
        threading.Thread(target=self._daemon.stop, args=(self._grace,), daemon=True).start()

    def _reload(self) -> None:
        import structlog

        def run() -> None:
            try:
                self._daemon.reload("signal:SIGHUP")
            except Exception as exc:  # a broken catalogue keeps the old one serving
                structlog.get_logger("checkd.cli").warning("reload_failed", error=str(exc))

        threading.Thread(target=run, daemon=True).start()


def _on_signals(daemon: Daemon, grace: float) -> _Signals:
    """Install the daemon's signal handlers; the returned object is also the stop action."""
    signals = _Signals(daemon, grace)
    signal.signal(signal.SIGTERM, signals)
    signal.signal(signal.SIGINT, signals)
    signal.signal(signal.SIGHUP, signals.reload)
    return signals
