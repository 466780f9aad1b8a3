"""What several `checkd` commands share: exit codes, store and client options, error printing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from checkd.config import default

EXIT_OK, EXIT_BAD_INPUT, EXIT_FAILED = 0, 1, 2


def store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", default=default("db_url"), help="SQLAlchemy URL (sqlite:///... or postgresql+psycopg://...)"
    )
    parser.add_argument("--rules", type=Path, default=default("rules_dir"))
    parser.add_argument(
        "--secret-file",
        type=Path,
        default=default("secret_file"),
        help="personal-data HMAC secret (CHECKD_SECRET wins)",
    )


def client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ca", type=Path, help="CA certificate: connect with TLS")
    parser.add_argument("--cert", type=Path, help="client certificate (mutual TLS)")
    parser.add_argument("--key", type=Path, help="client private key (mutual TLS)")
    parser.add_argument("--token-file", type=Path, help="file holding a bearer token")


def call_options(args: argparse.Namespace) -> dict[str, Any]:
    """Channel and per-call metadata for a client command."""
    from checkd.server.tls import client_channel

    metadata = []
    if args.token_file is not None:
        metadata.append(("authorization", f"Bearer {args.token_file.read_text().strip()}"))
    return {"channel": client_channel(args.target, args.ca, args.cert, args.key), "metadata": tuple(metadata)}


def print_rpc_error(exc: Any) -> int:
    from grpc_status import rpc_status

    code = exc.code()
    print(f"checkd: {code.name}: {exc.details()}", file=sys.stderr)
    status = rpc_status.from_call(exc)
    if status is not None:
        from google.rpc import error_details_pb2

        for detail in status.details:
            bad = error_details_pb2.BadRequest()
            if detail.Unpack(bad):
                for violation in bad.field_violations:
                    print(f"  {violation.field}: {violation.description}", file=sys.stderr)
    return EXIT_BAD_INPUT if code.name == "INVALID_ARGUMENT" else EXIT_FAILED


def print_rejected(error: Any, prefix: str) -> None:
    """Every bad row of a refused import as `file:line: reason`, then the verdict."""
    for problem in error.problems:
        print(problem, file=sys.stderr)
    print(f"{prefix}: {error.message}", file=sys.stderr)
