"""`checkd console`: serve the credit office's console, talking to a daemon over its gRPC API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from checkd.config import DEFAULT_LISTEN, check_key_pair, is_loopback, split_host_port

DEFAULT_CONSOLE_LISTEN = "127.0.0.1:8080"


def register(commands: Any) -> None:
    """The console command."""
    console = commands.add_parser(
        "console",
        help="serve the credit office's console (web) in front of a running daemon",
        description="Operators sign in with their credit office token from the access policy; every act "
        "goes through the daemon's RegistryService under that token and is recorded under it.",
    )
    console.add_argument("--target", default=DEFAULT_LISTEN, help="the daemon's gRPC address")
    console.add_argument("--listen", default=DEFAULT_CONSOLE_LISTEN, help="HTTP address of the console")
    console.add_argument("--ca", type=Path, help="CA certificate of the daemon: connect with TLS")
    console.add_argument("--cert", type=Path, help="client certificate towards the daemon (mutual TLS)")
    console.add_argument("--key", type=Path, help="its private key")
    console.add_argument("--tls-cert", type=Path, help="the console's own HTTPS certificate")
    console.add_argument("--tls-key", type=Path, help="... and its key")
    console.add_argument(
        "--insecure", action="store_true", help="allow plain HTTP on a non-loopback address (not advised)"
    )
    console.add_argument("--session-minutes", type=float, default=30.0, help="idle time before sign-out")
    console.set_defaults(run=run_console)


def run_console(args: argparse.Namespace) -> int:
    """Check the options, then serve until interrupted."""
    import uvicorn

    from checkd.console.app import Console
    from checkd.console.daemon import Daemon
    from checkd.console.sessions import Sessions

    address = split_host_port(args.listen)
    if address is None:
        print(f"checkd console: --listen {args.listen!r} is not HOST:PORT", file=sys.stderr)
        return 1
    host, port = address
    tls = args.tls_cert is not None and args.tls_key is not None
    if (args.tls_cert is None) != (args.tls_key is None):
        print("checkd console: --tls-cert and --tls-key go together", file=sys.stderr)
        return 1
    problem = check_key_pair(args.tls_cert, args.tls_key) if tls else None
    if problem is not None:
        print(f"checkd console: --tls-cert/--tls-key: {problem}", file=sys.stderr)
        return 1
    if not tls and not is_loopback(args.listen) and not args.insecure:
        # Tokens and persons' data would cross the network in clear.
        print(
            f"checkd console: --listen {args.listen} is not a loopback address: give --tls-cert and "
            "--tls-key (or --insecure)",
            file=sys.stderr,
        )
        return 1
    if args.session_minutes <= 0:
        print("checkd console: --session-minutes must be positive", file=sys.stderr)
        return 1
    daemon = Daemon(args.target, args.ca, args.cert, args.key)
    console = Console(daemon, Sessions(idle_seconds=args.session_minutes * 60), secure_cookie=tls)
    try:
        uvicorn.run(
            console.app,
            host=host,
            port=port,
            ssl_certfile=str(args.tls_cert) if tls else None,
            ssl_keyfile=str(args.tls_key) if tls else None,
            log_level="info",
            server_header=False,
        )
    finally:
        daemon.close()
    return 0
