"""`checkd rekey`: re-key stored personal data under a new secret."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from checkd.cli.options import EXIT_FAILED, EXIT_OK, db_option


def register(commands: Any) -> None:
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
