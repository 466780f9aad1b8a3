"""The `checkd` command: serve, check, import, reload, rules check, ledger verify."""

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
    result: int = args.run(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="checkd", description=__doc__)
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser("serve", help="run the daemon")
    serve.add_argument("--listen", default=DEFAULT_LISTEN, help="HOST:PORT (port 0: any free port)")
    _store_options(serve)
    serve.add_argument("--no-sample", action="store_true", help="do not seed an empty store")
    serve.add_argument("--max-batch", type=int, default=1000)
    serve.add_argument("--workers", type=int, default=16)
    serve.add_argument("--grace", type=float, default=10.0, help="seconds for in-flight calls on stop")
    serve.add_argument("--poll", type=float, default=5.0, help="seconds between data-version polls")
    serve.add_argument("--port-file", type=Path, help="write the bound port here once serving")
    serve.add_argument("--log-format", choices=("console", "json"), default="console")
    serve.set_defaults(run=_serve)

    check = commands.add_parser("check", help="run one check against a daemon, print JSON")
    check.add_argument("--target", default=DEFAULT_LISTEN)
    check.add_argument("--department", required=True)
    check.add_argument("--matter", default="")
    check.add_argument("--scene", default="")
    check.add_argument("--subject", action="append", required=True, help="identifier (repeatable)")
    check.add_argument("--request-id", default="")
    check.add_argument("--timeout", type=float, default=10.0)
    check.set_defaults(run=_check)

    load = commands.add_parser("import", help="import list entries from CSV / JSON Lines files")
    _store_options(load)
    load.add_argument("files", nargs="+", type=Path)
    load.set_defaults(run=_import)

    reload_ = commands.add_parser("reload", help="ask a running daemon to reload rules and data")
    reload_.add_argument("--target", default=DEFAULT_LISTEN)
    reload_.set_defaults(run=_reload)

    rules = commands.add_parser("rules", help="catalogue tooling")
    rules_commands = rules.add_subparsers(title="rules commands")
    rules_check = rules_commands.add_parser("check", help="validate a rules directory")
    rules_check.add_argument("dir", nargs="?", type=Path, default=Path("rules"))
    rules_check.set_defaults(run=_rules_check)

    ledger = commands.add_parser("ledger", help="evidence ledger tooling")
    ledger_commands = ledger.add_subparsers(title="ledger commands")
    verify = ledger_commands.add_parser("verify", help="walk the hash chain")
    verify.add_argument("--db", default=DEFAULT_DB)
    verify.set_defaults(run=_ledger_verify)
    return parser


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=DEFAULT_DB, help="SQLAlchemy URL (sqlite:///... or "
                        "postgresql+psycopg://...)")
    parser.add_argument("--rules", type=Path, default=Path("rules"))
    parser.add_argument("--secret-file", type=Path, default=Path("var/checkd.secret"),
                        help="personal-data HMAC secret (CHECKD_SECRET wins)")


def _serve(args: argparse.Namespace) -> int:
    from checkd import log, wiring

    try:
        config = Config(
            listen=args.listen, db_url=args.db, rules_dir=args.rules, secret_file=args.secret_file,
            secret=secret_from_env(), load_sample=not args.no_sample, max_batch=args.max_batch,
            workers=args.workers, grace_seconds=args.grace, poll_seconds=args.poll,
            port_file=args.port_file, log_format=args.log_format,
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
        for where, reason in exc.problems:
            print(f"{where}: {reason}", file=sys.stderr)
        print(f"checkd: cannot start: sample data rejected: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    except (CheckdError, ValueError, OSError) as exc:
        print(f"checkd: cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if config.port_file is not None:
        config.port_file.write_text(str(port))

    def stop(*_: object) -> None:
        threading.Thread(target=daemon.stop, args=(config.grace_seconds,), daemon=True).start()

    def reload(*_: object) -> None:
        def run() -> None:
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
    with grpc.insecure_channel(args.target) as channel:
        try:
            response = check_pb2_grpc.CheckServiceStub(channel).Check(request, timeout=args.timeout)
        except grpc.RpcError as exc:
            return _print_rpc_error(exc)
    print(json_format.MessageToJson(response, ensure_ascii=False, indent=2))
    return EXIT_OK


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
    from checkd.catalogue import load_catalogue
    from checkd.entries import parse_entries, read_rows
    from checkd.errors import CheckdError, ImportRejected
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
        version = EntryRepository(database).upsert(entries, utc_now())
    except ImportRejected as exc:
        for where, reason in exc.problems:
            print(f"{where}: {reason}", file=sys.stderr)
        print(f"checkd import: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (CheckdError, ValueError, OSError) as exc:
        print(f"checkd import: {exc}", file=sys.stderr)
        return EXIT_FAILED
    lists = Counter(entry.list_id for entry in entries)
    print(f"imported {len(entries)} entries ({', '.join(f'{k}: {v}' for k, v in sorted(lists.items()))}); "
          f"data version d{version}")
    return EXIT_OK


def _reload(args: argparse.Namespace) -> int:
    import grpc

    from checkd.api.v1 import registry_pb2, registry_pb2_grpc

    with grpc.insecure_channel(args.target) as channel:
        try:
            response = registry_pb2_grpc.RegistryServiceStub(channel).Reload(
                registry_pb2.ReloadRequest(), timeout=120
            )
        except grpc.RpcError as exc:
            return _print_rpc_error(exc)
    print(f"reloaded: catalogue {response.catalogue_version}, data {response.data_version}, "
          f"{response.entries} entries")
    return EXIT_OK


def _rules_check(args: argparse.Namespace) -> int:
    from checkd.catalogue import load_catalogue
    from checkd.errors import CatalogueError

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


def _ledger_verify(args: argparse.Namespace) -> int:
    from checkd.ledger import verify
    from checkd.store import Database, LedgerRepository

    database = Database(args.db)
    report = verify(LedgerRepository(database).iter_records())
    if not report.ok:
        print(f"ledger BROKEN: {report.problem} (verified up to record {report.head_seq})")
        return EXIT_BAD_INPUT
    print(f"ledger ok: {report.records} records, head {report.head_seq} {report.head_hash}")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
