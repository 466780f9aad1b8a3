"""`checkd import`: list entries from CSV / JSON Lines files into a store, all or nothing."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from checkd.cli.options import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, print_rejected, store_options


def register(commands: Any) -> None:
    """The import command."""
    load = commands.add_parser("import", help="import list entries from CSV / JSON Lines files")
    store_options(load)
    load.add_argument("files", nargs="+", type=Path)
    load.set_defaults(run=_import)


def _import(args: argparse.Namespace) -> int:
    from checkd.errors import CheckdError, ImportRejected
    from checkd.loop.interchange import parse_entries, read_rows
    from checkd.rules.catalogue import load_catalogue
    from checkd.store import Database, EntryRepository
    from checkd.typing import utc_now
    from checkd.wiring import open_keyer

    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"checkd import: no such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        catalogue = load_catalogue(args.rules)
        database = Database(args.db)
        keyer = open_keyer(args.settings, database)
        entries = parse_entries(read_rows(args.files), catalogue, keyer)
        change = EntryRepository(database).upsert_change(entries, utc_now())
        result = _audit_import(database, args.files, change)
    except ImportRejected as exc:
        print_rejected(exc, "checkd import")
        return EXIT_BAD_INPUT
    except (CheckdError, ValueError, OSError) as exc:
        print(f"checkd import: {exc}", file=sys.stderr)
        return EXIT_FAILED
    lists = Counter(entry.list_id for entry in entries)
    print(
        f"imported {len(entries)} entries ({', '.join(f'{k}: {v}' for k, v in sorted(lists.items()))}); "
        f"data version d{result.version}"
    )
    if result.kept_revoked:
        # The credit office's revocations outlive the feed: say which rows did not bring an entry back.
        print(
            f"kept revoked: {len(result.kept_revoked)} entries (revoked by the credit office; "
            "`checkd reinstate` brings one back)"
        )
        for entry in result.kept_revoked:
            assert entry.revocation is not None
            print(
                f"  {entry.entry_id}: revoked {entry.revocation.at.isoformat()} "
                f"({entry.revocation.kind}, document {entry.revocation.document_no})"
            )
    return EXIT_OK


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
    from checkd.typing import utc_now

    caller = f"cli:{getpass.getuser()}@{socket.gethostname()}"
    repository = LedgerRepository(database)
    ledger = Ledger(repository, utc_now, algorithm=chain_algorithm(database, repository, None))
    result, _ = ledger.commit_change(
        change, lambda done: upsert_payloads("import", caller, done, files=[f.name for f in files])
    )
    return result
