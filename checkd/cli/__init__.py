"""The `checkd` command: serve, check, import, reload, reinstate, report, rules, ledger, rekey, token."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from checkd.config import DEFAULT_DB, DEFAULT_LISTEN, Config, secret_from_env

EXIT_OK, EXIT_BAD_INPUT, EXIT_FAILED = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `checkd` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_BAD_INPUT
    if args.run is not _serve:  # commands print their results on stdout; their log goes to stderr
        from checkd.ops import log

        log.configure("console")
    result: int = args.run(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="checkd", description=__doc__)
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser("serve", help="run the daemon")
    serve.add_argument("--listen", default=DEFAULT_LISTEN, help="HOST:PORT (port 0: any free port)")
    _store_options(serve)
    sample = serve.add_mutually_exclusive_group()
    sample.add_argument("--sample", action="store_true", default=None,
                        help="seed an empty store with the bundled sample lists (default: only the "
                        f"embedded {DEFAULT_DB})")
    sample.add_argument("--no-sample", action="store_true", help="never seed the sample lists")
    serve.add_argument("--max-batch", type=int, default=1000)
    serve.add_argument("--workers", type=int, default=16)
    serve.add_argument("--max-concurrent-rpcs", type=int, default=256,
                       help="beyond this many calls in progress, new ones get RESOURCE_EXHAUSTED")
    serve.add_argument("--grace", type=float, default=10.0, help="seconds for in-flight calls on stop")
    serve.add_argument("--poll", type=float, default=5.0, help="seconds between data-version polls")
    serve.add_argument("--port-file", type=Path, help="write the bound port here once serving")
    serve.add_argument("--log-format", choices=("console", "json"), default="console")
    serve.add_argument("--tls-cert", type=Path, help="server certificate chain (PEM): serve TLS")
    serve.add_argument("--tls-key", type=Path, help="private key of --tls-cert (PEM)")
    serve.add_argument("--tls-client-ca", type=Path,
                       help="CA of department client certificates: require mutual TLS")
    serve.add_argument("--policy", type=Path,
                       help="access policy YAML: authenticate and authorize every call (re-read on change)")
    serve.add_argument("--insecure", action="store_true",
                       help="allow plain text on a non-loopback --listen address")
    serve.add_argument("--ops-listen", help="HOST:PORT of the HTTP ops listener (/healthz, /readyz, "
                       "/metrics); default off")
    serve.add_argument("--ops-port-file", type=Path, help="write the ops listener's bound port here")
    serve.add_argument("--max-data-age", type=float, help="seconds: older data answers REVIEW and "
                       "fails /readyz (default off)")
    serve.add_argument("--overdue-days", type=int, default=30,
                       help="days after which a penalty check without feedback is overdue")
    _evidence_options(serve)
    serve.set_defaults(run=_serve)

    report = commands.add_parser("report", help="closed-loop statistics per department and month")
    report.add_argument("--db", default=DEFAULT_DB)
    report.add_argument("--from", dest="from_date", required=True, help="first day, YYYY-MM-DD (UTC+8)")
    report.add_argument("--to", dest="to_date", required=True, help="last day, YYYY-MM-DD (UTC+8)")
    report.add_argument("--department", default="")
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")
    report.add_argument("--overdue-days", type=int, default=30)
    report.add_argument("--as-of", default="", help="count overdue as of this date/timestamp (default now)")
    report.set_defaults(run=_report)

    overdue = commands.add_parser("overdue", help="penalty checks still without feedback after N days")
    overdue.add_argument("--db", default=DEFAULT_DB)
    overdue.add_argument("--department", default="")
    overdue.add_argument("--days", type=int, default=30)
    overdue.add_argument("--as-of", default="", help="as of this date/timestamp (default now)")
    overdue.add_argument("--limit", type=int, default=1000)
    overdue.add_argument("--format", choices=("table", "csv", "json"), default="table")
    overdue.set_defaults(run=_overdue)

    rekey = commands.add_parser("rekey", help="re-key stored personal data under a new secret "
                                "(stop the daemon first)")
    rekey.add_argument("--db", default=DEFAULT_DB)
    rekey.add_argument("--old-secret-file", type=Path, required=True)
    rekey.add_argument("--new-secret-file", type=Path, required=True,
                       help="created (random, mode 0600) if it does not exist")
    rekey.set_defaults(run=_rekey)

    token = commands.add_parser("token", help="API token tooling")
    token_commands = token.add_subparsers(title="token commands")
    token_new = token_commands.add_parser("new", help="make a token; print it and its policy entry")
    token_new.add_argument("--id", required=True, help="the token's name in the policy and audit")
    token_new.set_defaults(run=_token_new)

    check = commands.add_parser("check", help="run one check against a daemon, print JSON")
    check.add_argument("--target", default=DEFAULT_LISTEN)
    check.add_argument("--department", required=True)
    check.add_argument("--matter", default="")
    check.add_argument("--scene", default="")
    check.add_argument("--subject", action="append", required=True, help="identifier (repeatable)")
    check.add_argument("--request-id", default="")
    check.add_argument("--timeout", type=float, default=10.0)
    _client_options(check)
    check.set_defaults(run=_check)

    load = commands.add_parser("import", help="import list entries from CSV / JSON Lines files")
    _store_options(load)
    load.add_argument("files", nargs="+", type=Path)
    load.set_defaults(run=_import)

    reload_ = commands.add_parser("reload", help="ask a running daemon to reload rules and data")
    reload_.add_argument("--target", default=DEFAULT_LISTEN)
    _client_options(reload_)
    reload_.set_defaults(run=_reload)

    reinstate = commands.add_parser("reinstate", help="bring an entry the credit office revoked back in "
                                    "force, on a running daemon (recorded in the ledger)")
    reinstate.add_argument("entry_id")
    reinstate.add_argument("--document", required=True, help="the decision that reinstates the entry")
    reinstate.add_argument("--reason", required=True, help="why the entry applies again")
    reinstate.add_argument("--target", default=DEFAULT_LISTEN)
    reinstate.add_argument("--timeout", type=float, default=30.0)
    _client_options(reinstate)
    reinstate.set_defaults(run=_reinstate)

    rules = commands.add_parser("rules", help="catalogue tooling")
    rules_commands = rules.add_subparsers(title="rules commands")
    rules_check = rules_commands.add_parser("check", help="validate a rules directory")
    rules_check.add_argument("dir", nargs="?", type=Path, default=Path("rules"))
    rules_check.set_defaults(run=_rules_check)
    rules_show = rules_commands.add_parser("show", help="show one measure as GetCatalogue shows it")
    rules_show.add_argument("measure_id")
    rules_show.add_argument("--rules", type=Path, default=Path("rules"))
    rules_show.set_defaults(run=_rules_show)
    rules_schema = rules_commands.add_parser("schema", help="print the JSON Schema of the rules files")
    rules_schema.set_defaults(run=_rules_schema)

    ledger = commands.add_parser("ledger", help="evidence ledger tooling")
    ledger_commands = ledger.add_subparsers(title="ledger commands")
    verify = ledger_commands.add_parser("verify", help="walk the hash chain")
    verify.add_argument("--db", default=DEFAULT_DB)
    verify.add_argument("--anchor", action="append", default=[], metavar="SEQ:HASH",
                        help="a chain head from a `ledger_anchor` log event (repeatable)")
    verify.add_argument("--checkpoint-pubkeys", type=Path, metavar="PATH",
                        help="trusted checkpoint public keys: a PEM file or a directory of them")
    verify.add_argument("--allow-uncovered", action="store_true",
                        help="with --checkpoint-pubkeys: records after the last checkpoint do not fail")
    verify.add_argument("--receipt", action="append", default=[], metavar="SEQ:HASH",
                        help="a receipt from a check answer to confirm (repeatable)")
    verify.set_defaults(run=_ledger_verify)
    key = ledger_commands.add_parser("key", help="checkpoint signing keys")
    key_commands = key.add_subparsers(title="key commands")
    key_new = key_commands.add_parser("new", help="make a checkpoint key pair; print the public key")
    key_new.add_argument("--out", type=Path, required=True,
                         help="private key file (created mode 0600); the public key goes to OUT.pub")
    key_new.add_argument("--algorithm", choices=("ed25519", "sm2"), default="ed25519")
    key_new.set_defaults(run=_ledger_key_new)
    return parser


def _evidence_options(serve: argparse.ArgumentParser) -> None:
    """The serve options of the evidence ledger: chain algorithm and signed checkpoints."""
    serve.add_argument("--ledger-algorithm", choices=("sha256", "sm3"),
                       help="chain hash of a new store (default sha256); an existing store keeps its own")
    serve.add_argument("--checkpoint-key", type=Path, help="private key file (`checkd ledger key new`) "
                       "to sign checkpoints with; CHECKD_CHECKPOINT_KEY names it too. Keep it off the store")
    serve.add_argument("--checkpoint-seconds", type=float, default=60.0,
                       help="sign a checkpoint at least this often while records come in")
    serve.add_argument("--checkpoint-records", type=int, default=10_000,
                       help="sign a checkpoint after this many records at the latest")


def _client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ca", type=Path, help="CA certificate: connect with TLS")
    parser.add_argument("--cert", type=Path, help="client certificate (mutual TLS)")
    parser.add_argument("--key", type=Path, help="client private key (mutual TLS)")
    parser.add_argument("--token-file", type=Path, help="file holding a bearer token")


def _call_options(args: argparse.Namespace) -> dict[str, Any]:
    """Channel and per-call metadata for a client command."""
    from checkd.server.tls import client_channel

    metadata = []
    if args.token_file is not None:
        metadata.append(("authorization", f"Bearer {args.token_file.read_text().strip()}"))
    return {"channel": client_channel(args.target, args.ca, args.cert, args.key),
            "metadata": tuple(metadata)}


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=DEFAULT_DB, help="SQLAlchemy URL (sqlite:///... or "
                        "postgresql+psycopg://...)")
    parser.add_argument("--rules", type=Path, default=Path("rules"))
    parser.add_argument("--secret-file", type=Path, default=Path("var/checkd.secret"),
                        help="personal-data HMAC secret (CHECKD_SECRET wins)")


def _serve(args: argparse.Namespace) -> int:
    from checkd import wiring
    from checkd.ops import log

    try:
        config = Config(
            listen=args.listen, db_url=args.db, rules_dir=args.rules, secret_file=args.secret_file,
            secret=secret_from_env(), load_sample=False if args.no_sample else args.sample,
            max_batch=args.max_batch,
            workers=args.workers, max_concurrent_rpcs=args.max_concurrent_rpcs, grace_seconds=args.grace,
            poll_seconds=args.poll,
            port_file=args.port_file, log_format=args.log_format, tls_cert=args.tls_cert,
            tls_key=args.tls_key, tls_client_ca=args.tls_client_ca, policy_file=args.policy,
            insecure=args.insecure, ops_listen=args.ops_listen, ops_port_file=args.ops_port_file,
            max_data_age=args.max_data_age, overdue_days=args.overdue_days,
            **_evidence_config(args),
        )
    except ValueError as exc:
        print(f"checkd: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    log.configure(config.log_format)
    from checkd.errors import CheckdError, ImportRejected

    try:
        daemon = wiring.build(config)
        port = daemon.start()
    except ImportRejected as exc:
        _print_rejected(exc, "checkd: cannot start: sample data rejected")
        return EXIT_FAILED
    except (CheckdError, ValueError, OSError) as exc:
        print(f"checkd: cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if config.ops_port_file is not None and daemon.ops is not None:
        config.ops_port_file.write_text(str(daemon.ops.port))  # before the gRPC port file: tests wait on it
    if config.port_file is not None:
        config.port_file.write_text(str(port))  # bound: probes get NOT_SERVING while the index loads
    try:
        daemon.load()
    except ImportRejected as exc:
        daemon.stop(0)
        _print_rejected(exc, "checkd: cannot start: sample data rejected")
        return EXIT_FAILED
    except (CheckdError, ValueError, OSError) as exc:
        daemon.stop(0)
        print(f"checkd: cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED

    def stop(*_: object) -> None:
        threading.Thread(target=daemon.stop, args=(config.grace_seconds,), daemon=True).start()

    def reload(*_: object) -> None:
        def run() -> None:
            for hook in daemon.on_reload:  # the access policy, among others
                hook()
            try:
                daemon.snapshots.reload()
            except Exception as exc:  # a broken catalogue keeps the old one serving
                import structlog

                structlog.get_logger("checkd.cli").warning("reload_failed", error=str(exc))

        threading.Thread(target=run, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
    daemon.wait()
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    import grpc
    from google.protobuf import json_format

    from checkd.api.v1 import check_pb2, check_pb2_grpc

    request = check_pb2.CheckRequest(
        request_id=args.request_id, department=args.department, matter=args.matter, scene=args.scene,
        subjects=[check_pb2.Subject(id=subject) for subject in args.subject],
    )
    options = _call_options(args)
    with options["channel"] as channel:
        try:
            response = check_pb2_grpc.CheckServiceStub(channel).Check(
                request, timeout=args.timeout, metadata=options["metadata"])
        except grpc.RpcError as exc:
            return _print_rpc_error(exc)
    print(json_format.MessageToJson(response, ensure_ascii=False, indent=2))
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from checkd.loop.reports import run_report

    return run_report(args)


def _overdue(args: argparse.Namespace) -> int:
    from checkd.loop.reports import run_overdue

    return run_overdue(args)


def _print_rpc_error(exc: Any) -> int:
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


def _import(args: argparse.Namespace) -> int:
    from checkd.errors import CheckdError, ImportRejected
    from checkd.loop.interchange import parse_entries, read_rows
    from checkd.rules.catalogue import load_catalogue
    from checkd.store import Database, EntryRepository
    from checkd.wiring import open_keyer, utc_now

    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"checkd import: no such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        catalogue = load_catalogue(args.rules)
        database = Database(args.db)
        config = Config(db_url=args.db, rules_dir=args.rules, secret_file=args.secret_file,
                        secret=secret_from_env())
        keyer = open_keyer(config, database)
        entries = parse_entries(read_rows(args.files), catalogue, keyer)
        change = EntryRepository(database).upsert_change(entries, utc_now())
        result = _audit_import(database, args.files, change)
    except ImportRejected as exc:
        _print_rejected(exc, "checkd import")
        return EXIT_BAD_INPUT
    except (CheckdError, ValueError, OSError) as exc:
        print(f"checkd import: {exc}", file=sys.stderr)
        return EXIT_FAILED
    lists = Counter(entry.list_id for entry in entries)
    print(f"imported {len(entries)} entries ({', '.join(f'{k}: {v}' for k, v in sorted(lists.items()))}); "
          f"data version d{result.version}")
    if result.kept_revoked:
        # The credit office's revocations outlive the feed: say which rows did not bring an entry back.
        print(f"kept revoked: {len(result.kept_revoked)} entries (revoked by the credit office; "
              "`checkd reinstate` brings one back)")
        for entry in result.kept_revoked:
            assert entry.revocation is not None
            print(f"  {entry.entry_id}: revoked {entry.revocation.at.isoformat()} "
                  f"({entry.revocation.kind}, document {entry.revocation.document_no})")
    return EXIT_OK


def _print_rejected(error: Any, prefix: str) -> None:
    """Every bad row of a refused import as `file:line: reason`, then the verdict."""
    for where, reason in error.problems:
        print(f"{where}: {reason}", file=sys.stderr)
    print(f"{prefix}: {error.message}", file=sys.stderr)


def _audit_import(database: Any, files: list[Path], change: Any) -> Any:
    """Apply the import and its evidence ledger record in one transaction, as the daemon's registry does.

    There is no writer thread here: the chain head is read inside the import's transaction.
    """
    import getpass
    import socket

    from checkd.evidence.checkpoints import chain_algorithm
    from checkd.evidence.ledger import Ledger
    from checkd.loop.registry import upsert_payloads
    from checkd.store import LedgerRepository
    from checkd.wiring import utc_now

    caller = f"cli:{getpass.getuser()}@{socket.gethostname()}"
    repository = LedgerRepository(database)
    ledger = Ledger(repository, utc_now, algorithm=chain_algorithm(database, repository, None))
    result, _ = ledger.commit_change(
        change, lambda done: upsert_payloads("import", caller, done, files=[f.name for f in files]))
    return result


def _reload(args: argparse.Namespace) -> int:
    import grpc

    from checkd.api.v1 import registry_pb2, registry_pb2_grpc

    options = _call_options(args)
    with options["channel"] as channel:
        try:
            response = registry_pb2_grpc.RegistryServiceStub(channel).Reload(
                registry_pb2.ReloadRequest(), timeout=120, metadata=options["metadata"]
            )
        except grpc.RpcError as exc:
            return _print_rpc_error(exc)
    print(f"reloaded: catalogue {response.catalogue_version}, data {response.data_version}, "
          f"{response.entries} entries")
    return EXIT_OK


def _reinstate(args: argparse.Namespace) -> int:
    import grpc

    from checkd.api.v1 import registry_pb2, registry_pb2_grpc

    request = registry_pb2.ReinstateEntryRequest(entry_id=args.entry_id, reason=args.reason,
                                                 document_no=args.document)
    options = _call_options(args)
    with options["channel"] as channel:
        try:
            response = registry_pb2_grpc.RegistryServiceStub(channel).ReinstateEntry(
                request, timeout=args.timeout, metadata=options["metadata"])
        except grpc.RpcError as exc:
            return _print_rpc_error(exc)
    print(f"reinstated {args.entry_id} at {response.reinstated_at.ToJsonString()} (revoked since "
          f"{response.revoked_at.ToJsonString()}, document {response.revoke_document_no}); "
          f"data {response.data_version}")
    return EXIT_OK


def _rekey(args: argparse.Namespace) -> int:
    import getpass
    import socket

    from checkd.errors import CheckdError
    from checkd.evidence.checkpoints import chain_algorithm
    from checkd.evidence.ledger import Ledger
    from checkd.loop.rekey import rekey
    from checkd.store import LedgerRepository
    from checkd.store.db import StoreMissing, open_existing
    from checkd.store.rekey import RekeyRefused
    from checkd.subjects.keys import SubjectKeyer, load_secret
    from checkd.wiring import KEY_FINGERPRINT, utc_now

    try:
        old = SubjectKeyer(load_secret(args.old_secret_file, create=False))
        new = SubjectKeyer(load_secret(args.new_secret_file))
        database = open_existing(args.db)
        repository = LedgerRepository(database)
        ledger = Ledger(repository, utc_now, algorithm=chain_algorithm(database, repository, None))
        report = rekey(ledger, KEY_FINGERPRINT, old, new, f"cli:{getpass.getuser()}@{socket.gethostname()}")
    except CheckdError as exc:
        print(f"checkd rekey: {exc.message}; nothing was changed", file=sys.stderr)
        return EXIT_FAILED
    except (RekeyRefused, StoreMissing, ValueError, OSError) as exc:
        print(f"checkd rekey: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_FAILED
    print(f"re-keyed {report.persons} persons ({report.entries} entries, {report.relations} relations); "
          f"key fingerprint now {new.fingerprint()}; data version d{report.data_version}. "
          f"Start the daemon with the new secret ({args.new_secret_file}).")
    return EXIT_OK


def _token_new(args: argparse.Namespace) -> int:
    import secrets

    from checkd.server.policy import hash_token

    token = secrets.token_urlsafe(32)
    print(f"token (give it to the department system; it is not stored): {token}")
    print(f"policy entry:  - {{id: {args.id}, sha256: \"{hash_token(token)}\"}}")
    return EXIT_OK


def _rules_check(args: argparse.Namespace) -> int:
    from checkd.errors import CatalogueError
    from checkd.rules.catalogue import load_catalogue

    try:
        catalogue = load_catalogue(args.dir)
    except CatalogueError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    departments = {d for m in catalogue.measures for d in m.departments}
    scenes = {s for m in catalogue.measures for s in m.scenes}
    print(f"ok: {len(catalogue.measures)} measures, {len(departments)} departments, {len(scenes)} scenes, "
          f"{len(catalogue.list_types)} lists (version {catalogue.version})")
    return EXIT_OK


def _rules_show(args: argparse.Namespace) -> int:
    from checkd.errors import CatalogueError, NotFound
    from checkd.rules.catalogue import load_catalogue
    from checkd.server.catalogue_view import show_measure

    try:
        print(show_measure(load_catalogue(args.rules), args.measure_id))
    except CatalogueError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except NotFound as exc:
        print(f"checkd rules show: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _rules_schema(args: argparse.Namespace) -> int:
    import json

    from checkd.rules.schema import json_schema

    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
    return EXIT_OK


def _evidence_config(args: argparse.Namespace) -> dict[str, Any]:
    """The Config fields of the evidence options of serve."""
    from checkd.evidence.checkpoints import key_path_from_env

    return {"ledger_algorithm": args.ledger_algorithm,
            "checkpoint_key": args.checkpoint_key or key_path_from_env(),
            "checkpoint_seconds": args.checkpoint_seconds, "checkpoint_records": args.checkpoint_records}


def _seq_hash(values: list[str], flag: str) -> list[tuple[int, str]] | None:
    """SEQ:HASH arguments as pairs; None (after saying which) when one is malformed."""
    pairs = []
    for value in values:
        seq, _, digest = value.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            print(f"checkd ledger verify: {flag} {value!r} is not SEQ:HASH", file=sys.stderr)
            return None
        pairs.append((int(seq), digest.lower()))
    return pairs


def _ledger_verify(args: argparse.Namespace) -> int:
    from checkd.errors import CheckdError
    from checkd.evidence import checkpoints as cp
    from checkd.evidence.derived import row_checkers
    from checkd.evidence.ledger import verify
    from checkd.store import CheckpointRepository, EntryRepository, LedgerRepository
    from checkd.store.db import open_existing

    anchors, receipts = _seq_hash(args.anchor, "--anchor"), _seq_hash(args.receipt, "--receipt")
    if anchors is None or receipts is None:
        return EXIT_BAD_INPUT
    try:
        trusted = None if args.checkpoint_pubkeys is None else cp.load_public_keys(args.checkpoint_pubkeys)
    except cp.CheckpointKeyError as exc:
        print(f"checkd ledger verify: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        database = open_existing(args.db)
        records = LedgerRepository(database)
        algorithm = cp.stored_chain_algorithm(database)
        stored = CheckpointRepository(database).all()
        signed, signature_problems = ([], []) if trusted is None else cp.check_signatures(stored, trusted,
                                                                                            algorithm)
        report = verify(records.iter_records(), anchors, algorithm=algorithm, checkpoints=signed,
                        receipts=receipts,
                        derived=row_checkers(records, EntryRepository(database)))
    except CheckdError as exc:
        print(f"checkd ledger verify: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    problems = [*report.all_problems(), *signature_problems]
    uncovered = ""
    if trusted is not None and report.uncovered:
        uncovered = (f"{report.uncovered} records after the last checkpoint at seq {report.last_checkpoint}, "
                     "not yet covered")
        if not args.allow_uncovered:
            problems.append(uncovered)
    for note in report.notes:
        print(note)
    if trusted is None:
        print(f"checkpoints: {len(stored)} stored, not verified (no --checkpoint-pubkeys)")
    else:
        print(f"checkpoints: {report.checkpoints} verified of {len(stored)}, "
              f"last at seq {report.last_checkpoint}")
        if uncovered and args.allow_uncovered:
            print(f"note: {uncovered}")
    if problems:
        for problem in problems:
            print(f"ledger BROKEN: {problem}")
        print(f"ledger BROKEN: {len(problems)} problems ({algorithm} chain, verified up to record "
              f"{report.head_seq})")
        return EXIT_BAD_INPUT
    print(f"ledger ok: {report.records} records, head {report.head_seq} {report.head_hash} ({algorithm}; "
          "derived rows agree)")
    return EXIT_OK


def _ledger_key_new(args: argparse.Namespace) -> int:
    """Write a new checkpoint key pair; rotation is a new key (new id), the old public key stays trusted."""
    import os

    from checkd.evidence import checkpoints as cp

    public_path = args.out.with_name(args.out.name + ".pub")
    if args.out.exists():
        print(f"checkd ledger key new: {args.out} exists; a new key needs a new file", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        private, public = cp.new_key(args.algorithm)
    except cp.CheckpointKeyError as exc:
        print(f"checkd ledger key new: {exc}", file=sys.stderr)
        return EXIT_FAILED
    args.out.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private)
    public_path.write_bytes(public)
    key_id = cp.load_signing_key(args.out).key_id
    print(f"# checkpoint key {key_id} ({args.algorithm}); private key: {args.out}; public key: {public_path}")
    print(public.decode(), end="")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
