"""`checkd reload|subject|check-record|revoke|reinstate`: the credit office's acts on a running daemon."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from checkd.cli.options import EXIT_BAD_INPUT, EXIT_OK, call_options, client_options, print_rpc_error
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

    subject = commands.add_parser(
        "subject",
        help="every entry about a subject (revoked and expired too) and the recent checks it hit, as JSON",
    )
    subject.add_argument("id", help="the identifier, in any accepted rendering (persons are shown masked)")
    _remote(subject)
    subject.set_defaults(run=_subject)

    record = commands.add_parser(
        "check-record",
        help="a stored check of any department exactly as answered, with its feedback, as JSON",
    )
    record.add_argument("check_id", nargs="?", default="")
    record.add_argument("--department", default="", help="with --request-id, instead of CHECK_ID")
    record.add_argument("--request-id", default="")
    _remote(record)
    record.set_defaults(run=_check_record)

    revoke = commands.add_parser(
        "revoke",
        help="credit repair or upheld objection: the entry stops applying now (recorded in the ledger)",
    )
    revoke.add_argument("entry_id")
    revoke.add_argument("--kind", choices=("repair", "objection"), default="repair")
    revoke.add_argument("--document", required=True, help="the repair or objection decision")
    revoke.add_argument("--reason", required=True, help="why the entry is revoked")
    _remote(revoke)
    revoke.set_defaults(run=_revoke)


def _remote(parser: Any) -> None:
    """The options of a command asked of a running daemon: where, how long, and as whom."""
    parser.add_argument("--target", default=DEFAULT_LISTEN)
    parser.add_argument("--timeout", type=float, default=30.0)
    client_options(parser)


def _ask(args: argparse.Namespace, method: str, request: Any) -> Any:
    """Call one RegistryService method; a refusal is printed and returned as the exit code."""
    import grpc

    from checkd.api.v1 import registry_pb2_grpc

    options = call_options(args)
    with options["channel"] as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        try:
            return getattr(stub, method)(request, timeout=args.timeout, metadata=options["metadata"])
        except grpc.RpcError as exc:
            return print_rpc_error(exc)


def _print_json(message: Any) -> int:
    from google.protobuf import json_format

    print(json_format.MessageToJson(message, ensure_ascii=False, indent=2))
    return EXIT_OK


def _subject(args: argparse.Namespace) -> int:
    from checkd.api.v1 import registry_pb2

    answer = _ask(args, "GetSubject", registry_pb2.GetSubjectRequest(id=args.id))
    return answer if isinstance(answer, int) else _print_json(answer)


def _check_record(args: argparse.Namespace) -> int:
    from checkd.api.v1 import registry_pb2

    if not args.check_id and not (args.department and args.request_id):
        print("checkd check-record: give CHECK_ID, or --department and --request-id", file=sys.stderr)
        return EXIT_BAD_INPUT
    request = registry_pb2.GetCheckRecordRequest(
        check_id=args.check_id, department=args.department, request_id=args.request_id
    )
    answer = _ask(args, "GetCheckRecord", request)
    return answer if isinstance(answer, int) else _print_json(answer)


def _revoke(args: argparse.Namespace) -> int:
    from checkd.api.v1 import registry_pb2

    request = registry_pb2.RevokeEntryRequest(
        entry_id=args.entry_id, reason=args.reason, document_no=args.document, kind=args.kind
    )
    answer = _ask(args, "RevokeEntry", request)
    if isinstance(answer, int):
        return answer
    print(
        f"revoked {args.entry_id} ({args.kind}, document {args.document}) at "
        f"{answer.revoked_at.ToJsonString()}; data {answer.data_version}"
    )
    return EXIT_OK


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
