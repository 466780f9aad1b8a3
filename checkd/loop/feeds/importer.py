"""A feed import streamed into the store: validated and written chunk by chunk in ONE transaction, audited.

A file of any size is read once, in chunks of ENTRIES_PER_RECORD rows; each chunk is validated,
stored and described (its entries' digests) before the next is read, and the descriptions wait
in a temporary file, not in memory. Any bad row, a bad encoding or a repeated entry id rolls the
whole transaction back: a failed import changes nothing. With a sync scope, entries of that list
(and authority) the file no longer holds are withdrawn in the same transaction.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from checkd.errors import ImportRejected, Violation
from checkd.evidence.entry_audit import ENTRIES, ENTRIES_PER_RECORD, entry_digest
from checkd.evidence.ledger import Ledger
from checkd.loop.feeds.files import FeedFileError, Located
from checkd.loop.interchange import parse_entry
from checkd.model import ListEntry, Revocation, RevokeKind
from checkd.rules.catalogue import Catalogue
from checkd.store import EntryRepository, Tx
from checkd.subjects.keys import SubjectKeyer
from checkd.typing import Clock

MAX_PROBLEMS = 200  # bad rows listed; beyond them only the count (one cause often breaks every row)
MAX_SHOWN = 1000  # ids of withdrawn and kept-revoked entries kept for the report (the ledger has all)


@dataclass(frozen=True, slots=True)
class SyncScope:
    """The list (and optionally the authority) a file is the complete current content of."""

    list_id: str
    authority: str | None = None

    @classmethod
    def parse(cls, text: str, catalogue: Catalogue) -> SyncScope:
        """`LIST` or `LIST:AUTHORITY`; ValueError naming the problem."""
        list_id, _, authority = text.partition(":")
        list_id, authority = list_id.strip(), authority.strip()
        if list_id not in catalogue.list_types:
            raise ValueError(f"--sync: unknown list {list_id!r} (one of {sorted(catalogue.list_types)})")
        return cls(list_id, authority or None)

    def refuses(self, entry: ListEntry) -> str | None:
        """Why this entry cannot be part of the synced list's file, or None."""
        if entry.list_id != self.list_id:
            return f"list: {entry.list_id!r} is not the list being synced ({self.list_id})"
        if self.authority is not None and entry.authority != self.authority:
            return f"authority: {entry.authority!r} is not the authority being synced ({self.authority})"
        return None

    def __str__(self) -> str:
        return self.list_id if self.authority is None else f"{self.list_id}:{self.authority}"


@dataclass(slots=True)
class ImportOutcome:
    """What an import stored and withdrew, and the data version it made."""

    version: int = 0
    imported: int = 0
    by_list: Counter[str] = field(default_factory=Counter)
    kept_revoked: list[ListEntry] = field(default_factory=list)  # the first MAX_SHOWN
    kept_revoked_count: int = 0
    withdrawn: list[str] = field(default_factory=list)  # the first MAX_SHOWN ids
    withdrawn_count: int = 0
    parts: IO[bytes] | None = None  # the admin record bodies, one JSON line per chunk


class FeedImport:
    """One import of feed files into the store, with its evidence records, as one transaction."""

    def __init__(
        self,
        ledger: Ledger,
        catalogue: Catalogue,
        keyer: SubjectKeyer,
        clock: Clock,
        *,
        caller: str,
        files: list[str],
        sync: SyncScope | None = None,
    ) -> None:
        self._ledger = ledger
        self._catalogue = catalogue
        self._keyer = keyer
        self._clock = clock
        self._caller = caller
        self._files = files
        self._sync = sync

    def run(self, rows: Callable[[], Iterable[Located]]) -> ImportOutcome:
        """Import the rows `rows()` yields (called again if the ledger head moved and the try is re-run)."""
        outcome, _ = self._ledger.commit_change(lambda tx: self._apply(tx, rows()), self._describe)
        return outcome

    def _apply(self, tx: Tx, rows: Iterable[Located]) -> ImportOutcome:
        EntryRepository.lock_in(tx)
        now = self._clock()
        # Closed by _describe once the records are made, or below if the import fails.
        outcome = ImportOutcome(parts=tempfile.TemporaryFile())  # noqa: SIM115
        assert outcome.parts is not None
        try:
            problems: list[Violation] = []
            total_problems = 0
            chunk: list[tuple[str, ListEntry]] = []
            for where, row in rows:
                problem = row if isinstance(row, str) else None
                if problem is None:
                    assert not isinstance(row, str)
                    try:
                        entry = parse_entry(row, self._catalogue, self._keyer)
                    except ValueError as exc:
                        problem = str(exc)
                    else:
                        problem = None if self._sync is None else self._sync.refuses(entry)
                        if problem is None:
                            chunk.append((where, entry))
                if problem is not None:
                    total_problems += 1
                    if len(problems) < MAX_PROBLEMS:
                        problems.append(Violation("", problem, at=where))
                if len(chunk) >= ENTRIES_PER_RECORD:
                    total_problems += self._store(tx, chunk, now, outcome, problems, write=not total_problems)
                    chunk = []
            total_problems += self._store(tx, chunk, now, outcome, problems, write=not total_problems)
            if total_problems:
                raise ImportRejected(problems, total=total_problems)
            if not outcome.imported:
                raise FeedFileError(f"{', '.join(self._files)}: no entries: nothing was imported")
            if self._sync is not None:
                self._withdraw(tx, self._sync, now, outcome)
            outcome.version = EntryRepository.confirm_in(tx, now)
        except BaseException:
            outcome.parts.close()
            raise
        return outcome

    def _store(
        self,
        tx: Tx,
        chunk: list[tuple[str, ListEntry]],
        now: Any,
        outcome: ImportOutcome,
        problems: list[Violation],
        *,
        write: bool,
    ) -> int:
        """Store one chunk (unless an earlier row already failed the import); the problems it found."""
        found: list[Violation] = []
        first: dict[str, str] = {}
        for where, entry in chunk:
            if entry.entry_id in first:
                found.append(
                    Violation("entry_id", f"{entry.entry_id!r} repeats {first[entry.entry_id]}", at=where)
                )
            else:
                first[entry.entry_id] = where
        if found or not write or not chunk:
            problems.extend(found[: max(0, MAX_PROBLEMS - len(problems))])
            return len(found)
        stored, repeated = EntryRepository.upsert_in(tx, [e for _, e in chunk], now)
        if repeated:
            found = [Violation("entry_id", f"{r!r} repeats an earlier row", at=first[r]) for r in repeated]
            problems.extend(found[: max(0, MAX_PROBLEMS - len(problems))])
            return len(found)
        kept = [e for e in stored if e.revocation is not None]
        outcome.imported += len(stored)
        outcome.by_list.update(e.list_id for e in stored)
        outcome.kept_revoked_count += len(kept)
        outcome.kept_revoked.extend(kept[: max(0, MAX_SHOWN - len(outcome.kept_revoked))])
        self._spill(outcome, {ENTRIES: _digests(stored), "kept_revoked": [e.entry_id for e in kept]})
        return 0

    def _withdraw(self, tx: Tx, scope: SyncScope, now: Any, outcome: ImportOutcome) -> None:
        """Revoke, as withdrawn by the source, the scope's entries in force this import did not store."""
        revocation = Revocation(
            now,
            f"no longer in the source's complete list {scope} ({', '.join(self._files)})",
            ", ".join(self._files),
            RevokeKind.WITHDRAWN,
        )
        for chunk in EntryRepository.withdraw_absent_in(tx, scope.list_id, scope.authority, now, revocation):
            outcome.withdrawn_count += len(chunk)
            outcome.withdrawn.extend(e.entry_id for e in chunk[: max(0, MAX_SHOWN - len(outcome.withdrawn))])
            for start in range(0, len(chunk), ENTRIES_PER_RECORD):
                part = chunk[start : start + ENTRIES_PER_RECORD]
                self._spill(
                    outcome,
                    {
                        "action": "withdraw",
                        "kind": revocation.kind.value,
                        "reason": revocation.reason,
                        "document_no": revocation.document_no,
                        "list": scope.list_id,
                        "authority": scope.authority,
                        ENTRIES: _digests(part),
                    },
                )

    @staticmethod
    def _spill(outcome: ImportOutcome, body: dict[str, Any]) -> None:
        assert outcome.parts is not None
        outcome.parts.write(json.dumps(body, ensure_ascii=False).encode() + b"\n")

    def _describe(self, outcome: ImportOutcome) -> Iterator[bytes]:
        """The admin records, read back from the spill file one part at a time."""
        parts = outcome.parts
        assert parts is not None
        with contextlib.closing(parts):
            parts.seek(0)
            count = sum(1 for _ in parts)
            parts.seek(0)
            facts = {
                "action": "import",
                "caller": self._caller,
                "files": self._files,
                "data_version": outcome.version,
                "entries_total": outcome.imported,
            }
            if self._sync is not None:
                facts["sync"] = str(self._sync)
                facts["withdrawn_total"] = outcome.withdrawn_count
            for number, line in enumerate(parts, start=1):
                body = {**facts, **json.loads(line)}
                if count > 1:
                    body.update(part=number, parts=count)
                yield json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode()


def _digests(entries: list[ListEntry]) -> dict[str, str]:
    return {e.entry_id: entry_digest(e) for e in entries}


__all__ = ["FeedImport", "ImportOutcome", "SyncScope"]
