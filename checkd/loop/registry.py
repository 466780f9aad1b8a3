"""The credit office's operations: upsert, revoke, look up a subject, reload (each audited)."""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from checkd.days import china_day
from checkd.decide.snapshots import Snapshots, State, data_version_number
from checkd.errors import (
    BadIdentifier,
    EntryNotFound,
    InvalidArgument,
    RepairNotAllowed,
    Violation,
)
from checkd.evidence.entry_audit import change_payloads
from checkd.evidence.ledger import Ledger, record_admin
from checkd.limits import ENTRY_ID_CHARS, REASON_CHARS, TEXT_CHARS, text_problem
from checkd.loop.interchange import parse_entries, read_rows
from checkd.loop.storage import EntryWriter
from checkd.model import OFFICE_REVOKE_KINDS, ListEntry, Reinstatement, RelatedPerson, Revocation, RevokeKind
from checkd.rules.catalogue import Catalogue
from checkd.store import UpsertResult
from checkd.store.changes import DataChange
from checkd.subjects.ids import IdentifierError, IdKind, parse_identifier
from checkd.subjects.keys import SubjectKeyer

log = structlog.get_logger(__name__)

SIGNAL_CALLER = "signal:SIGHUP"  # the caller named by a reload that SIGHUP asked for


class Registry:
    """Changes list data in the store, swaps the index, and records each act in the ledger."""

    def __init__(
        self,
        entries: EntryWriter,
        snapshots: Snapshots,
        ledger: Ledger,
        keyer: SubjectKeyer,
        clock: Callable[[], dt.datetime],
        *,
        also_reload: Sequence[Callable[[], None]] = (),
        announce_reload: Callable[[int], None] | None = None,
    ) -> None:
        self._entries = entries
        # Tells the other processes on the store to reload too (given the data version in force).
        self._announce_reload = announce_reload
        self._also_reload = tuple(also_reload)  # what else a reload re-reads (the access policy)
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

    @property
    def state(self) -> State:
        """The catalogue and index in force."""
        return self._snapshots.current

    def data_age(self) -> dt.timedelta | None:
        """Since the source last confirmed the data in force; None when it never did."""
        return self._snapshots.data_age(self._clock())

    def upsert(
        self, rows: Iterable[tuple[str, Mapping[str, Any] | str]], caller: str = ""
    ) -> tuple[UpsertResult, State]:
        """Validate all rows, store them with their admin record in one transaction, swap the index.

        All or nothing. Entries the credit office revoked stay revoked (`kept_revoked`).
        """
        return self._store(rows, "upsert", caller)

    def _store(
        self, rows: Iterable[tuple[str, Mapping[str, Any] | str]], action: str, caller: str, **facts: Any
    ) -> tuple[UpsertResult, State]:
        entries = parse_entries(rows, self._snapshots.current.catalogue, self._keyer)
        if not entries:
            raise InvalidArgument([Violation("entries", "at least one entry is required")])
        with self._write_lock:
            result, _ = self._ledger.record_change(
                self._entries.upsert_change(entries, self._clock()),
                lambda done: upsert_payloads(action, caller, done, **facts),
            )
            state = self._snapshots.apply(result.stored, result.version)
        self._log(
            action,
            caller,
            entries=len(entries),
            data_version=result.version,
            kept_revoked=len(result.kept_revoked),
        )
        return result, state

    def import_files(
        self, files: Sequence[tuple[str, bytes]], caller: str = ""
    ) -> tuple[UpsertResult, State]:
        """Files as `checkd import` reads them (the suffix picks the format), all or nothing, audited.

        The bytes are written under their own names to a private directory so the one interchange
        reader parses them exactly as it parses the command's files.
        """
        names = [Path(name).name for name, _ in files]  # never a directory: the name only
        problems = [
            Violation(f"files[{i}].name", "required: the file name (its suffix picks the format)")
            for i, name in enumerate(names)
            if name in ("", ".", "..")
        ]
        problems += [
            Violation(f"files[{i}].name", problem)
            for i, name in enumerate(names)
            if (problem := text_problem(name, TEXT_CHARS))
        ]
        problems += [
            Violation(f"files[{i}].name", f"{name!r} repeats an earlier file")
            for i, name in enumerate(names)
            if name and name in names[:i]
        ]
        if not files:
            problems.append(Violation("files", "at least one file is required"))
        if problems:
            raise InvalidArgument(problems)
        with tempfile.TemporaryDirectory(prefix="checkd-import-") as directory:
            paths = []
            for name, (_, content) in zip(names, files, strict=True):
                path = Path(directory) / name
                path.write_bytes(content)
                paths.append(path)
            rows = list(read_rows(paths))
        return self._store(rows, "import", caller, files=names)

    def revoke(
        self, entry_id: str, reason: str, document_no: str, kind: str, caller: str = ""
    ) -> tuple[Revocation, State]:
        """Stop an entry applying from now (credit repair or upheld objection); once, until reinstated."""
        problems = _act_problems(
            entry_id, reason, document_no, "why the entry is revoked", "the repair or objection decision"
        )
        if kind and kind not in OFFICE_REVOKE_KINDS:
            problems.append(Violation("kind", f"one of {[k.value for k in OFFICE_REVOKE_KINDS]}"))
        if problems:
            raise InvalidArgument(problems)
        revocation = Revocation(
            self._clock(),
            reason.strip(),
            document_no.strip(),
            RevokeKind(kind) if kind else RevokeKind.REPAIR,
        )
        entry_id = entry_id.strip()
        if revocation.kind is RevokeKind.REPAIR:
            self._check_repair(entry_id, china_day(revocation.at))
        facts: dict[str, Any] = {
            "entry_id": entry_id,
            "kind": revocation.kind,
            "document_no": revocation.document_no,
            "reason": revocation.reason,
        }
        with self._write_lock:
            (entry, version), _ = self._ledger.record_change(
                self._entries.revoke_change(entry_id, revocation),
                lambda done: change_payloads("revoke", caller, [done[0]], data_version=done[1], **facts),
            )
            state = self._snapshots.apply([entry], version)
        self._log("revoke", caller, data_version=version, **facts)
        return revocation, state

    def reinstate(
        self, entry_id: str, reason: str, document_no: str, caller: str = ""
    ) -> tuple[Reinstatement, State]:
        """Bring a revoked entry back in force from now: an explicit act, recorded with who and why."""
        problems = _act_problems(
            entry_id, reason, document_no, "why the entry applies again", "the decision that reinstates it"
        )
        if problems:
            raise InvalidArgument(problems)
        entry_id, reason, document_no = entry_id.strip(), reason.strip(), document_no.strip()
        facts: dict[str, Any] = {"entry_id": entry_id, "document_no": document_no, "reason": reason}
        with self._write_lock:
            (entry, version), _ = self._ledger.record_change(
                self._entries.reinstate_change(entry_id, self._clock(), reason, document_no),
                lambda done: change_payloads("reinstate", caller, [done[0]], data_version=done[1], **facts),
            )
            state = self._snapshots.apply([entry], version)
        assert entry.reinstatement is not None  # the change sets it
        self._log("reinstate", caller, data_version=version, **facts)
        return entry.reinstatement, state

    def _check_repair(self, entry_id: str, day: dt.date) -> None:
        """Refuse a credit repair the rules do not allow yet (or at all); objections are never bound."""
        entry = self._entries.get(entry_id)
        if entry is None:
            raise EntryNotFound(f"entry {entry_id!r} does not exist")
        catalogue = self._snapshots.current.catalogue
        list_type = catalogue.list_types.get(entry.list_id)
        if list_type is not None and not list_type.repairable:
            raise RepairNotAllowed(
                f"entry {entry_id}: {entry.list_id} entries cannot be removed by "
                "credit repair (only by an upheld objection)"
            )
        problem = catalogue.time_rules.repair_problem(entry.list_id, entry.start, day)
        if problem is not None:
            raise RepairNotAllowed(f"entry {entry_id}: {problem}", subject=f"entry {entry_id}")

    def subject(self, raw_id: str, declared: IdKind | None) -> tuple[Any, list[ListEntry]]:
        """The identifier and every entry about it (including revoked and expired ones)."""
        try:
            identifier = parse_identifier(raw_id, declared)
        except IdentifierError as exc:
            raise BadIdentifier([Violation("id", exc.reason)]) from None
        return identifier, self._entries.for_subject(self._keyer.key(identifier), identifier.org_code)

    def relations(
        self, identifier: Any, entries: Iterable[ListEntry]
    ) -> list[tuple[str, RelatedPerson, bool]]:
        """Each person tied to these entries: (entry id, the person, whether it is `identifier`)."""
        key = self._keyer.key(identifier) if identifier.is_person else None
        return [(e.entry_id, person, person.subject_key == key) for e in entries for person in e.related]

    def reload(self, caller: str = "") -> State:
        """Reload catalogue and index; a broken catalogue is refused and the old one keeps serving.

        The one reload path: the Reload RPC and SIGHUP both come here, and each reload is audited.
        """
        state = self._reload_here()
        self._audit(
            "reload", caller, catalogue_version=state.catalogue.version, data_version=state.index.version
        )
        if self._announce_reload is not None and caller != SIGNAL_CALLER:
            # A signal is sent to each process (the supervisor forwards it to every worker); a
            # Reload call reaches one replica, which passes it on to the others.
            try:
                self._announce_reload(data_version_number(state.index.version))
            except Exception as exc:  # reloaded here; the others still reload at their next change
                log.warning("reload_not_announced", error=str(exc))
        return state

    def follow(self, change: DataChange) -> None:
        """Apply a change another process announced: an incremental update, a rebuild or a reload."""
        if change.reload:
            state = self._reload_here()
            self._log("reload_followed", change.origin, data_version=state.index.version)
            return
        ids = change.entry_ids
        self._snapshots.follow(change.version, None if ids is None else lambda: self._entries.get_many(ids))

    def _reload_here(self) -> State:
        for step in self._also_reload:
            step()
        return self._snapshots.reload()

    def _audit(self, action: str, caller: str, **facts: Any) -> None:
        record_admin(self._ledger, action, caller, **facts)
        self._log(action, caller, **facts)

    @staticmethod
    def _log(action: str, caller: str, **facts: Any) -> None:
        # Free-text reasons stay in the ledger, out of the log (they may name persons).
        log.info("registry_" + action, caller=caller, **{k: v for k, v in facts.items() if k != "reason"})


def upsert_payloads(action: str, caller: str, result: UpsertResult, **facts: Any) -> list[bytes]:
    """The admin records of an upsert or import: every stored entry's digest, and those kept revoked."""
    kept = frozenset(e.entry_id for e in result.kept_revoked)
    return change_payloads(
        action,
        caller,
        result.stored,
        kept_revoked=kept,
        data_version=result.version,
        entries_total=len(result.stored),
        **facts,
    )


def _act_problems(entry_id: str, reason: str, document_no: str, why: str, document: str) -> list[Violation]:
    """What is wrong with the fields of a revocation or reinstatement."""
    problems = []
    if not entry_id.strip():
        problems.append(Violation("entry_id", "required"))
    if not reason.strip():
        problems.append(Violation("reason", f"required: {why}"))
    if not document_no.strip():
        problems.append(Violation("document_no", f"required: {document}"))
    for field, value, limit in (
        ("entry_id", entry_id, ENTRY_ID_CHARS),
        ("document_no", document_no, TEXT_CHARS),
        ("reason", reason, REASON_CHARS),
    ):
        problem = text_problem(value, limit)
        if problem:
            problems.append(Violation(field, problem))
    return problems
