"""The credit office's operations: upsert, revoke, look up a subject, reload (each audited)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import structlog

from checkd.catalogue import Catalogue
from checkd.days import china_day
from checkd.entries import parse_entries
from checkd.errors import FailedPrecondition, InvalidArgument, NotFound, Violation
from checkd.ids import IdentifierError, IdKind, parse_identifier
from checkd.ledger import Ledger, record_admin
from checkd.model import ListEntry, Revocation
from checkd.pii import SubjectKeyer
from checkd.snapshots import Snapshots, State
from checkd.store import EntryRepository
from checkd.text import text_problem

log = structlog.get_logger(__name__)

REVOKE_KINDS = ("repair", "objection")


class Registry:
    """Changes list data in the store, swaps the index, and records each act in the ledger."""

    def __init__(self, entries: EntryRepository, snapshots: Snapshots, ledger: Ledger,
                 keyer: SubjectKeyer, clock: Callable[[], dt.datetime]) -> None:
        self._entries = entries
        self._snapshots = snapshots
        self._ledger = ledger
        self._keyer = keyer
        self._clock = clock
        # Registry writes are serialised so each index update follows its store version exactly.
        self._write_lock = threading.Lock()

    @property
    def catalogue(self) -> Catalogue:
        """The catalogue in force."""
        return self._snapshots.current.catalogue

    def upsert(self, rows: Iterable[tuple[str, Mapping[str, Any] | str]],
               caller: str = "") -> tuple[int, State]:
        """Validate all rows, store them in one transaction, swap the index; all or nothing."""
        entries = parse_entries(rows, self._snapshots.current.catalogue, self._keyer)
        if not entries:
            raise InvalidArgument([Violation("entries", "at least one entry is required")])
        with self._write_lock:
            version = self._entries.upsert(entries, self._clock())
            state = self._snapshots.apply(entries, version)
        self._audit("upsert", caller, entries=len(entries), data_version=version,
                    entry_ids=[e.entry_id for e in entries[:1000]])
        return len(entries), state

    def revoke(self, entry_id: str, reason: str, document_no: str, kind: str,
               caller: str = "") -> tuple[Revocation, State]:
        """Stop an entry applying from now (credit repair or upheld objection)."""
        problems = []
        if not entry_id.strip():
            problems.append(Violation("entry_id", "required"))
        if not reason.strip():
            problems.append(Violation("reason", "required: why the entry is revoked"))
        if not document_no.strip():
            problems.append(Violation("document_no", "required: the repair or objection decision"))
        for field, value, limit in (("entry_id", entry_id, 128), ("document_no", document_no, 256),
                                    ("reason", reason, 2000)):
            problem = text_problem(value, limit)
            if problem:
                problems.append(Violation(field, problem))
        if kind and kind not in REVOKE_KINDS:
            problems.append(Violation("kind", f"one of {list(REVOKE_KINDS)}"))
        if problems:
            raise InvalidArgument(problems)
        revocation = Revocation(self._clock(), reason.strip(), document_no.strip(), kind or "repair")
        if revocation.kind == "repair":
            self._check_repair(entry_id.strip(), china_day(revocation.at))
        with self._write_lock:
            entry, version = self._entries.revoke(entry_id.strip(), revocation)
            state = self._snapshots.apply([entry], version)
        self._audit("revoke", caller, entry_id=entry_id, kind=revocation.kind,
                    document_no=revocation.document_no, data_version=version)
        return revocation, state

    def _check_repair(self, entry_id: str, day: dt.date) -> None:
        """Refuse a credit repair the rules do not allow yet (or at all); objections are never bound."""
        entry = self._entries.get(entry_id)
        if entry is None:
            raise NotFound(f"entry {entry_id!r} does not exist")
        catalogue = self._snapshots.current.catalogue
        list_type = catalogue.list_types.get(entry.list_id)
        if list_type is not None and not list_type.repairable:
            raise FailedPrecondition(f"entry {entry_id}: {entry.list_id} entries cannot be removed by "
                                     "credit repair (only by an upheld objection)")
        problem = catalogue.time_rules.repair_problem(entry.list_id, entry.start, day)
        if problem is not None:
            raise FailedPrecondition(f"entry {entry_id}: {problem}")

    def subject(self, raw_id: str, declared: IdKind | None) -> tuple[Any, list[ListEntry]]:
        """The identifier and every entry about it (including revoked and expired ones)."""
        try:
            identifier = parse_identifier(raw_id, declared)
        except IdentifierError as exc:
            raise InvalidArgument([Violation("id", exc.reason)]) from None
        return identifier, self._entries.for_subject(self._keyer.key(identifier), identifier.org_code)

    def reload(self, caller: str = "") -> State:
        """Reload catalogue and index; a broken catalogue is refused and the old one keeps serving."""
        state = self._snapshots.reload()
        self._audit("reload", caller, catalogue_version=state.catalogue.version,
                    data_version=state.index.version)
        return state

    def _audit(self, action: str, caller: str, **facts: Any) -> None:
        record_admin(self._ledger, action, caller, **facts)
        log.info("registry_" + action, caller=caller, **{k: v for k, v in facts.items() if k != "entry_ids"})
