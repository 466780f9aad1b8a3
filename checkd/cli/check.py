"""`checkd check`: one check against a running daemon, printed as JSON."""

from __future__ import annotations

import argparse
from typing import Any

from checkd.cli.options import EXIT_OK, call_options, client_options, print_rpc_error
from checkd.config import DEFAULT_LISTEN


def register(commands: Any) -> None:
    """The check command."""
    check = commands.add_parser("check", help="run one check against a daemon, print JSON")
    check.add_argument("--target", default=DEFAULT_LISTEN)
    check.add_argument("--department", required=True)
    check.add_argument("--matter", default="")
    check.add_argument("--scene", default="")
    check.add_argument("--subject", action="append", required=True, help="identifier (repeatable)")
    check.add_argument("--request-id", default="")
    check.add_argument("--timeout", type=float, default=10.0)
    client_options(check)
    check.set_defaults(run=_check)


def _check(args: argparse.Namespace) -> int:
    import grpc
    from google.protobuf import json_format

    from checkd.api.v1 import check_pb2, check_pb2_grpc

    request = check_pb2.CheckRequest(
        request_id=args.request_id,
        department=args.department,
        matter=args.matter,
        scene=args.scene,
        subjects=[check_pb2.Subject(id=subject) for subject in args.subject],
    )
    options = call_options(args)
    with options["channel"] as channel:
        try:
            response = check_pb2_grpc.CheckServiceStub(channel).Check(
                request, timeout=args.timeout, metadata=options["metadata"]
            )
        except grpc.RpcError as exc:
            return print_rpc_error(exc)
    print(json_format.MessageToJson(response, ensure_ascii=False, indent=2))
    return EXIT_OK
