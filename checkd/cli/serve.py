"""`checkd serve`: build the daemon from its options, run it until SIGTERM, reload on SIGHUP."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from checkd.cli.options import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, print_rejected, store_options
from checkd.config import DEFAULT_DB, Config, default, secret_from_env


def register(commands: Any) -> None:
    """The serve command and its options."""
    serve = commands.add_parser("serve", help="run the daemon")
    serve.add_argument("--listen", default=default("listen"), help="HOST:PORT (port 0: any free port)")
    store_options(serve)
    sample = serve.add_mutually_exclusive_group()
    sample.add_argument(
        "--sample",
        action="store_true",
        default=None,
        help=f"seed an empty store with the bundled sample lists (default: only the embedded {DEFAULT_DB})",
    )
    sample.add_argument("--no-sample", action="store_true", help="never seed the sample lists")
    serve.add_argument("--max-batch", type=int, default=default("max_batch"))
    serve.add_argument("--workers", type=int, default=default("workers"))
    serve.add_argument(
        "--max-concurrent-rpcs",
        type=int,
        default=default("max_concurrent_rpcs"),
        help="beyond this many calls in progress, new ones get RESOURCE_EXHAUSTED",
    )
    serve.add_argument(
        "--grace", type=float, default=default("grace_seconds"), help="seconds for in-flight calls on stop"
    )
    serve.add_argument(
        "--poll", type=float, default=default("poll_seconds"), help="seconds between data-version polls"
    )
    serve.add_argument("--port-file", type=Path, help="write the bound port here once serving")
    serve.add_argument("--log-format", choices=("console", "json"), default=default("log_format"))
    serve.add_argument("--tls-cert", type=Path, help="server certificate chain (PEM): serve TLS")
    serve.add_argument("--tls-key", type=Path, help="private key of --tls-cert (PEM)")
    serve.add_argument(
        "--tls-client-ca", type=Path, help="CA of department client certificates: require mutual TLS"
    )
    serve.add_argument(
        "--policy",
        type=Path,
        help="access policy YAML: authenticate and authorize every call (re-read on change)",
    )
    serve.add_argument(
        "--insecure", action="store_true", help="allow plain text on a non-loopback --listen address"
    )
    serve.add_argument(
        "--ops-listen", help="HOST:PORT of the HTTP ops listener (/healthz, /readyz, /metrics); default off"
    )
    serve.add_argument("--ops-port-file", type=Path, help="write the ops listener's bound port here")
    serve.add_argument(
        "--http-listen",
        help="HOST:PORT of the HTTP/JSON API (same TLS, token and certificate rules as gRPC); default off",
    )
    serve.add_argument("--http-port-file", type=Path, help="write the HTTP listener's bound port here")
    serve.add_argument(
        "--max-data-age",
        type=float,
        help="seconds: older data answers REVIEW and fails /readyz (default off)",
    )
    serve.add_argument(
        "--overdue-days",
        type=int,
        default=default("overdue_days"),
        help="days after which a penalty check without feedback is overdue",
    )
    _evidence_options(serve)
    serve.set_defaults(run=run_serve)


def _evidence_options(serve: argparse.ArgumentParser) -> None:
    """The serve options of the evidence ledger: chain algorithm and signed checkpoints."""
    serve.add_argument(
        "--ledger-algorithm",
        choices=("sha256", "sm3"),
        help="chain hash of a new store (default sha256); an existing store keeps its own",
    )
    serve.add_argument(
        "--checkpoint-key",
        type=Path,
        help="private key file (`checkd ledger key new`) "
        "to sign checkpoints with; CHECKD_CHECKPOINT_KEY names it too. Keep it off the store",
    )
    serve.add_argument(
        "--checkpoint-seconds",
        type=float,
        default=default("checkpoint_seconds"),
        help="sign a checkpoint at least this often while records come in",
    )
    serve.add_argument(
        "--checkpoint-records",
        type=int,
        default=default("checkpoint_records"),
        help="sign a checkpoint after this many records at the latest",
    )


def _evidence_config(args: argparse.Namespace) -> dict[str, Any]:
    """The Config fields of the evidence options of serve."""
    from checkd.evidence.checkpoints import key_path_from_env

    return {
        "ledger_algorithm": args.ledger_algorithm,
        "checkpoint_key": args.checkpoint_key or key_path_from_env(),
        "checkpoint_seconds": args.checkpoint_seconds,
        "checkpoint_records": args.checkpoint_records,
    }


def run_serve(args: argparse.Namespace) -> int:
    from checkd import wiring
    from checkd.ops import log

    try:
        config = Config(
            listen=args.listen,
            db_url=args.db,
            rules_dir=args.rules,
            secret_file=args.secret_file,
            secret=secret_from_env(),
            load_sample=False if args.no_sample else args.sample,
            max_batch=args.max_batch,
            workers=args.workers,
            max_concurrent_rpcs=args.max_concurrent_rpcs,
            grace_seconds=args.grace,
            poll_seconds=args.poll,
            port_file=args.port_file,
            log_format=args.log_format,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            tls_client_ca=args.tls_client_ca,
            policy_file=args.policy,
            insecure=args.insecure,
            ops_listen=args.ops_listen,
            ops_port_file=args.ops_port_file,
            http_listen=args.http_listen,
            http_port_file=args.http_port_file,
            max_data_age=args.max_data_age,
            overdue_days=args.overdue_days,
            **_evidence_config(args),
        )
    except ValueError as exc:
        print(f"checkd: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    log.configure(config.log_format)
    from checkd.errors import CheckdError, ImportRejected

    try:
        daemon = wiring.build(config)
    except ImportRejected as exc:
        print_rejected(exc, "checkd: cannot start: sample data rejected")
        return EXIT_FAILED
    except (CheckdError, ValueError, OSError) as exc:
        print(f"checkd: cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED
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

    def stop(*_: object) -> None:
        threading.Thread(target=daemon.stop, args=(config.grace_seconds,), daemon=True).start()

    def reload(*_: object) -> None:
        def run() -> None:
            try:  # the Reload RPC's path: audited, the access policy re-read with the rules and data
                daemon.reload("signal:SIGHUP")
            except Exception as exc:  # a broken catalogue keeps the old one serving
                import structlog

                structlog.get_logger("checkd.cli").warning("reload_failed", error=str(exc))

        threading.Thread(target=run, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
    daemon.wait()
    return EXIT_OK
