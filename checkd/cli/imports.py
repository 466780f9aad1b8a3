"""`checkd import`: list entries from CSV / JSON Lines / .xlsx feed files into a store, all or nothing."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from checkd.cli.options import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, print_rejected, store_options


def register(commands: Any) -> None:
    """The import command."""
    load = commands.add_parser(
        "import",
        help="import list entries from CSV / JSON Lines / .xlsx files",
        description="Import list entries, all or nothing. Files are streamed: any size, bounded memory.",
    )
    store_options(load)
    load.add_argument(
        "--encoding",
        default=None,
        help="encoding of CSV / JSON Lines files (default: detected: UTF-8 with or without BOM, GB18030/GBK)",
    )
    load.add_argument(
        "--sync",
        metavar="LIST[:AUTHORITY]",
        default=None,
        help="the files are the complete current list (of that authority): entries of it they no longer "
        "hold are withdrawn; the credit office's revocations stay in force",
    )
    load.add_argument("files", nargs="+", type=Path)
    load.set_defaults(run=_import)


def _import(args: argparse.Namespace) -> int:
    from checkd.errors import CheckdError, ImportRejected
    from checkd.loop.feeds.files import FeedFileError, check_encoding_name
    from checkd.rules.catalogue import load_catalogue
    from checkd.store import Database

    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"checkd import: no such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.encoding is not None and (problem := check_encoding_name(args.encoding)):
        print(f"checkd import: --encoding: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    started = time.perf_counter()
    database = None
    try:
        catalogue = load_catalogue(args.rules)
        sync = _sync_scope(args.sync, catalogue)
        database = Database(args.db)
        with _Progress(args.files) as progress:
            outcome = _run(args, catalogue, database, sync, progress)
        _report(outcome, time.perf_counter() - started, args.sync)
        _write_index(args, database)
    except (FeedFileError, ValueError) as exc:
        print(f"checkd import: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportRejected as exc:
        print_rejected(exc, "checkd import")
        if exc.total > len(exc.problems):
            print(f"  (the first {len(exc.problems)} of {exc.total} bad rows are listed)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (CheckdError, OSError) as exc:
        print(f"checkd import: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        # Closed here, not left to the interpreter's exit: the index write freezes the collector's
        # objects, and a SQLite store whose connection is never closed keeps the import in its -wal
        # file only, which a copy or a rename of the store file leaves behind.
        if database is not None:
            database.close()
    return EXIT_OK


def _write_index(args: argparse.Namespace, database: Any) -> None:
    """Write the index snapshot file of the imported data, so a daemon maps it instead of building it.

    The import has committed already: a file that cannot be written only costs the daemon a build.
    """
    from checkd.wiring import write_index_file

    started = time.perf_counter()
    try:
        written = write_index_file(args.settings, database)
    except (OSError, ValueError) as exc:
        print(f"checkd import: the index snapshot file was not written ({exc}); the daemon builds it")
        return
    if written is not None:
        path, header = written
        print(
            f"index snapshot: {header.entries} entries, data version d{header.data_version}, "
            f"{header.size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s -> {path}"
        )


def _sync_scope(text: str | None, catalogue: Any) -> Any:
    from checkd.loop.feeds.importer import SyncScope

    return None if text is None else SyncScope.parse(text, catalogue)


def _run(args: argparse.Namespace, catalogue: Any, database: Any, sync: Any, progress: _Progress) -> Any:
    """Import the files through the audited path: the entries and their ledger records in one transaction.

    There is no writer thread here: the chain head is read inside the import's transaction.
    """
    import getpass
    import socket

    from checkd.evidence.checkpoints import chain_algorithm
    from checkd.evidence.ledger import Ledger
    from checkd.loop.feeds.files import read_rows
    from checkd.loop.feeds.importer import FeedImport
    from checkd.loop.interchange import REQUIRED
    from checkd.store import LedgerRepository
    from checkd.typing import utc_now
    from checkd.wiring import open_keyer

    keyer = open_keyer(args.settings, database)
    repository = LedgerRepository(database)
    ledger = Ledger(repository, utc_now, algorithm=chain_algorithm(database, repository, None))
    feed = FeedImport(
        ledger,
        catalogue,
        keyer,
        utc_now,
        caller=f"cli:{getpass.getuser()}@{socket.gethostname()}",
        files=[f.name for f in args.files],
        sync=sync,
    )

    def rows() -> Any:
        progress.restart()
        located = read_rows(args.files, encoding=args.encoding, required=REQUIRED, on_bytes=progress.at)
        for count, item in enumerate(located, start=1):
            progress.rows = count
            yield item

    return feed.run(rows)


class _Progress:
    """A progress bar over the files' bytes on a terminal (stderr); nothing when not a terminal."""

    def __init__(self, files: list[Path]) -> None:
        self.rows = 0
        self._sizes = [f.stat().st_size for f in files]
        self._done = 0  # bytes of the files already finished
        self._last = 0
        self._bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=sum(self._sizes), unit="B", unit_scale=True, desc="import", leave=False)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def restart(self) -> None:
        """Start over (a re-run of the import reads the files again)."""
        self.rows = self._done = self._last = 0
        if self._bar is not None:
            self._bar.reset()

    def at(self, position: int) -> None:
        """Reading reached `position` in the current file (it restarts at 0 in the next one)."""
        if position < self._last:
            self._done += self._last
        self._last = position
        if self._bar is not None:
            self._bar.n = self._done + position
            self._bar.set_postfix(rows=f"{self.rows:,}", refresh=False)
            self._bar.refresh()


def _report(outcome: Any, seconds: float, synced: str | None) -> None:
    lists = ", ".join(f"{k}: {v}" for k, v in sorted(outcome.by_list.items()))
    rate = outcome.imported / seconds if seconds > 0 else 0.0
    print(
        f"imported {outcome.imported} entries ({lists}); data version d{outcome.version}; "
        f"{seconds:.1f} s, {rate:,.0f} rows/s"
    )
    if outcome.kept_revoked_count:
        # The credit office's revocations outlive the feed: say which rows did not bring an entry back.
        print(
            f"kept revoked: {outcome.kept_revoked_count} entries (revoked by the credit office; "
            "`checkd reinstate` brings one back)"
        )
        for entry in outcome.kept_revoked:
            print(
                f"  {entry.entry_id}: revoked {entry.revocation.at.isoformat()} "
                f"({entry.revocation.kind}, document {entry.revocation.document_no})"
            )
        _more(outcome.kept_revoked_count, len(outcome.kept_revoked))
    if synced:
        print(f"withdrawn: {outcome.withdrawn_count} entries no longer in the source's list {synced}")
        for entry_id in outcome.withdrawn:
            print(f"  {entry_id}")
        _more(outcome.withdrawn_count, len(outcome.withdrawn))


def _more(total: int, shown: int) -> None:
    if total > shown:
        print(f"  ... and {total - shown} more (every id is in the ledger's admin records)")
