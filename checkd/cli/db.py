"""Store maintenance with the daemon stopped: `checkd db upgrade|current` (the schema) and `checkd rekey`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from checkd.cli.options import EXIT_FAILED, EXIT_OK, db_option, store_options


def register(commands: Any) -> None:
    """The db command group."""
    db = commands.add_parser("db", help="the store's schema: upgrade it to this release, show its revision")
    db_commands = db.add_subparsers(title="db commands", required=True)
    upgrade = db_commands.add_parser(
        "upgrade",
        help="bring the store to this release's schema in one transaction (an empty one is created)",
    )
    store_options(upgrade)
    upgrade.set_defaults(run=run_upgrade)
    current = db_commands.add_parser("current", help="print the store's schema revision and this release's")
    store_options(current)
    current.set_defaults(run=run_current)
    _register_rekey(commands)


def run_upgrade(args: argparse.Namespace) -> int:
    from checkd.store.db import Database, shown_url
    from checkd.store.migrations import versioning

    database = Database(args.db, create=False, make_directory=True)  # upgrade creates a new store
    try:
        with database.guard():
            before, after = versioning.upgrade(database.engine, shown_url(args.db))
    finally:
        database.close()
    if after.baseline_owed:
        named = _record_entry_baseline(args.db, before.describe())
        print(f"{shown_url(args.db)}: recorded the {named} list entries in the ledger as they stand")
    if before.revision == after.revision and before.versioned and not before.baseline_owed:
        print(f"{shown_url(args.db)}: already at {after.describe()}")
    else:
        print(f"{shown_url(args.db)}: upgraded from {before.describe()} to {after.describe()}")
    return EXIT_OK


def run_current(args: argparse.Namespace) -> int:
    from checkd.store.db import open_url, shown_url
    from checkd.store.migrations import versioning

    database = open_url(args.db)
    try:
        with database.guard():
            state = versioning.current(database.engine)
    finally:
        database.close()
    print(f"{shown_url(args.db)}: {state.describe()}; this checkd: {versioning.head()}")
    return EXIT_OK if state.revision == versioning.head() else EXIT_FAILED


def _record_entry_baseline(url: str, upgraded_from: str) -> int:
    """The admin record an upgrade from 0.1.0 owes: every entry's digest, so `ledger verify` can check them.

    0.1.0's admin records did not name the entries they changed; from here on every entry is tied
    to the chain. Runs in one transaction with the clearing of the flag, so it is recorded once.
    """
    import getpass
    import socket

    from checkd.evidence.checkpoints import chain_algorithm
    from checkd.evidence.entry_audit import change_payloads
    from checkd.evidence.ledger import Ledger
    from checkd.store import EntryRepository, LedgerRepository
    from checkd.store.db import Database
    from checkd.typing import utc_now

    database = Database(url, create=False)
    try:
        repository = LedgerRepository(database)
        ledger = Ledger(repository, utc_now, algorithm=chain_algorithm(database, repository, None))
        caller = f"cli:{getpass.getuser()}@{socket.gethostname()}"
        entries, _ = ledger.commit_change(
            EntryRepository.baseline_change(),
            lambda named: (
                []
                if named is None
                else change_payloads("schema_upgrade", caller, named, upgraded_from=upgraded_from)
            ),
        )
    finally:
        database.close()
    return len(entries or [])


def _register_rekey(commands: Any) -> None:
    """The rekey command."""
    rekey = commands.add_parser(
        "rekey", help="re-key stored personal data under a new secret (stop the daemon first)"
    )
    db_option(rekey)
    rekey.add_argument("--old-secret-file", type=Path, required=True)
    rekey.add_argument(
        "--new-secret-file", type=Path, required=True, help="created (random, mode 0600) if it does not exist"
    )
    rekey.set_defaults(run=_rekey)


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
    from checkd.typing import utc_now
    from checkd.wiring import KEY_FINGERPRINT

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
    print(
        f"re-keyed {report.persons} persons ({report.entries} entries, {report.relations} relations); "
        f"key fingerprint now {new.fingerprint()}; data version d{report.data_version}. "
        f"Start the daemon with the new secret ({args.new_secret_file})."
    )
    return EXIT_OK
