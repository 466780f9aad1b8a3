"""`checkd reload` and `checkd reinstate`: registry acts asked of a running daemon."""

from __future__ import annotations

import argparse
from typing import Any

from checkd.cli.options import EXIT_OK, call_options, client_options, print_rpc_error
from checkd.config import DEFAULT_LISTEN


def register(commands: Any) -> None:
    """The reload and reinstate commands."""
    reload_ = commands.add_parser("reload", help="ask a running daemon to reload rules and data")
    reload_.add_argument("--target", default=DEFAULT_LISTEN)
    client_options(reload_)
    reload_.set_defaults(run=_reload)

    reinstate = commands.add_parser(
        "reinstate",
        help="bring an entry the credit office revoked back in "
        "force, on a running daemon (recorded in the ledger)",
    )
    reinstate.add_argument("entry_id")
    reinstate.add_argument("--document", required=True, help="the decision that reinstates the entry")
    reinstate.add_argument("--reason", required=True, help="why the entry applies again")
    reinstate.add_argument("--target", default=DEFAULT_LISTEN)
    reinstate.add_argument("--timeout", type=float, default=30.0)
    client_options(reinstate)
    reinstate.set_defaults(run=_reinstate)


def _reload(args: argparse.Namespace) -> int:
    import grpc

    from checkd.api.v1 import registry_pb2, registry_pb2_grpc

    options = call_options(args)
    with options["channel"] as channel:
        try:
            response = registry_pb2_grpc.RegistryServiceStub(channel).Reload(
                registry_pb2.ReloadRequest(), timeout=120, metadata=options["metadata"]
            )
        except grpc.RpcError as exc:
            return print_rpc_error(exc)
    print(
        f"reloaded: catalogue {response.catalogue_version}, data {response.data_version}, "
        f"{response.entries} entries"
    )
    return EXIT_OK


def _reinstate(args: argparse.Namespace) -> int:
    import grpc

    from checkd.api.v1 import registry_pb2, registry_pb2_grpc

    request = registry_pb2.ReinstateEntryRequest(
        entry_id=args.entry_id, reason=args.reason, document_no=args.document
    )
    options = call_options(args)
    with options["channel"] as channel:
        try:
            response = registry_pb2_grpc.RegistryServiceStub(channel).ReinstateEntry(
                request, timeout=args.timeout, metadata=options["metadata"]
            )
        except grpc.RpcError as exc:
            return print_rpc_error(exc)
    print(
        f"reinstated {args.entry_id} at {response.reinstated_at.ToJsonString()} (revoked since "
        f"{response.revoked_at.ToJsonString()}, document {response.revoke_document_no}); "
        f"data {response.data_version}"
    )
    return EXIT_OK
