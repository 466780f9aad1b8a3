"""Repository of list entries: upserts, revocations, reinstatements (changes), reads for the index."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from checkd.errors import EntryNotFound, EntryState
from checkd.model import (
    ListEntry,
    Reinstatement,
    RelatedPerson,
    Revocation,
    RevokeKind,
    Role,
    SourceLevel,
    SubjectType,
)
from checkd.store.bulk import insert_rows
from checkd.store.changes import announce
from checkd.store.db import Database, Tx, session_of, utc
from checkd.store.migrations.versioning import BASELINE_KEY as ENTRY_BASELINE_KEY
from checkd.store.tables import EntryRow, MetaRow, RelatedRow

DATA_VERSION_KEY = "data_version"
# When the list data was last confirmed by its source (an import or upsert, ISO 8601 UTC); the
# staleness fail-safe counts from here, so a dead nightly import shows as ageing data.
DATA_CONFIRMED_KEY = "data_confirmed_at"


class EntryRepository:
    """Reads and writes list entries; every write bumps the data version in the same transaction."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def data_version(self) -> int:
        """The current data version (0 for an empty store)."""
        value = self._db.get_meta(DATA_VERSION_KEY)
        return int(value) if value else 0

    def data_state(self) -> tuple[int, dt.datetime | None]:
        """The data version and when its source last confirmed the data (None: never recorded)."""
        values = self._db.get_metas((DATA_VERSION_KEY, DATA_CONFIRMED_KEY))
        version, confirmed = values.get(DATA_VERSION_KEY), values.get(DATA_CONFIRMED_KEY)
        return (
            int(version) if version else 0,
            None if not confirmed else utc(dt.datetime.fromisoformat(confirmed)),
        )

    def count(self) -> int:
        """How many entries are stored."""
        with self._db.transaction() as session:
            return session.scalar(select(func.count()).select_from(EntryRow)) or 0

    @staticmethod
    def upsert_change(entries: Sequence[ListEntry], now: dt.datetime) -> Callable[[Tx], UpsertResult]:
        """Insert or replace entries, as a change to commit with its ledger record (all or nothing).

        A revocation or reinstatement already stored for an entry is the credit office's act and
        is kept: the feed updates the entry's other fields, never whether it is revoked.
        """

        def apply(tx: Tx) -> UpsertResult:
            session = session_of(tx)
            _lock_version(session)
            ids = [e.entry_id for e in entries]
            acts: dict[str, dict[str, Any]] = {}
            for chunk in _chunks(ids, 500):
                for row in session.execute(
                    select(*_ACT_COLUMNS).where(
                        EntryRow.entry_id.in_(chunk),
                        or_(EntryRow.revoked_at.is_not(None), EntryRow.reinstated_at.is_not(None)),
                    )
                ):
                    acts[row[0]] = _kept_acts(row[1:])
            stored = _replace_rows(session, entries, acts, now)
            kept = [e for e in stored if e.revocation is not None]
            version = _bump_version(session, confirmed_at=now, changed=ids)
            return UpsertResult(version, stored, kept)

        return apply

    @staticmethod
    def revoke_change(entry_id: str, revocation: Revocation) -> Callable[[Tx], tuple[ListEntry, int]]:
        """Mark an entry revoked from `revocation.at` (a change); the entry and the new data version.

        An entry already revoked is refused naming that revocation, which stays as it was.
        """

        def apply(tx: Tx) -> tuple[ListEntry, int]:
            session = session_of(tx)
            _lock_version(session)
            row = session.get(EntryRow, entry_id, with_for_update=True)
            if row is None:
                raise EntryNotFound(f"entry {entry_id!r} does not exist")
            if row.revoked_at is not None:
                raise EntryState(
                    f"entry {entry_id} is already revoked since {utc(row.revoked_at).isoformat()} "
                    f"({row.revoke_kind}, document {row.revoke_document_no}: {row.revoke_reason[:80]}); "
                    "reinstate it first to record another revocation",
                    subject=f"entry {entry_id}",
                )
            row.revoked_at = revocation.at
            row.revoke_reason = revocation.reason
            row.revoke_document_no = revocation.document_no
            row.revoke_kind = revocation.kind
            row.updated_at = revocation.at
            return _from_row(row), _bump_version(session, changed=[entry_id])

        return apply

    @staticmethod
    def reinstate_change(
        entry_id: str, at: dt.datetime, reason: str, document_no: str
    ) -> Callable[[Tx], tuple[ListEntry, int]]:
        """Bring a revoked entry back in force from `at` (a change); the entry and the new data version."""

        def apply(tx: Tx) -> tuple[ListEntry, int]:
            session = session_of(tx)
            _lock_version(session)
            row = session.get(EntryRow, entry_id, with_for_update=True)
            if row is None:
                raise EntryNotFound(f"entry {entry_id!r} does not exist")
            if row.revoked_at is None:
                raise EntryState(
                    f"entry {entry_id} is not revoked: there is nothing to reinstate",
                    subject=f"entry {entry_id}",
                )
            row.reinstated_at = at
            row.reinstate_reason = reason
            row.reinstate_document_no = document_no
            row.reinstate_lifted_at = row.revoked_at
            row.reinstate_lifted_document_no = row.revoke_document_no
            row.revoked_at = None
            row.revoke_reason = row.revoke_document_no = row.revoke_kind = ""
            row.updated_at = at
            return _from_row(row), _bump_version(session, changed=[entry_id])

        return apply

    @staticmethod
    def baseline_change() -> Callable[[Tx], list[ListEntry] | None]:
        """Every entry as stored, for the admin record an upgrade from 0.1.0 owes (a change, run once).

        None when none is owed: the upgrade's flag is gone, cleared in the transaction of that record.
        """

        def apply(tx: Tx) -> list[ListEntry] | None:
            session = session_of(tx)
            _lock_version(session)
            owed = session.get(MetaRow, ENTRY_BASELINE_KEY, with_for_update=True)
            if owed is None:
                return None
            session.delete(owed)
            return [_from_row(row) for row in session.scalars(select(EntryRow).order_by(EntryRow.entry_id))]

        return apply

    def get(self, entry_id: str) -> ListEntry | None:
        """One entry by id."""
        with self._db.transaction() as session:
            row = session.get(EntryRow, entry_id)
            return None if row is None else _from_row(row)

    def get_many(self, entry_ids: Sequence[str]) -> list[ListEntry]:
        """The entries with these ids that exist (what another process announced it changed)."""
        found: list[ListEntry] = []
        with self._db.transaction() as session:
            for chunk in _chunks(list(entry_ids), 500):
                found.extend(
                    _from_row(row)
                    for row in session.scalars(select(EntryRow).where(EntryRow.entry_id.in_(chunk)))
                )
        return found

    def for_subject(self, key: str, org_code: str) -> list[ListEntry]:
        """Every entry naming the subject (by key or organisation code) or relating a person to it."""
        with self._db.transaction() as session:
            related_ids = select(RelatedRow.entry_id).where(RelatedRow.person_key == key)
            clauses = [
                EntryRow.subject_key == key,
                EntryRow.registration_no == key,
                EntryRow.entry_id.in_(related_ids),
            ]
            if org_code:
                clauses.append(EntryRow.org_code == org_code)
            rows = session.scalars(select(EntryRow).where(or_(*clauses)).order_by(EntryRow.start))
            return [_from_row(row) for row in rows]

    def iter_all(self, batch: int = 10_000) -> Iterator[ListEntry]:
        """Stream every entry (for building an index), in pages of `batch`."""
        with self._db.transaction() as session:
            # Plain tuples in a fixed column order, not ORM objects or named rows: building the
            # index at start is bound by this loop.
            result = session.connection().execute(select(*_INDEX_COLUMNS).execution_options(yield_per=batch))
            for values in result:
                yield _from_values(values)

    # ------------------------------------------------------------ streamed imports, in one transaction

    @staticmethod
    def lock_in(tx: Tx) -> None:
        """Take the data-version lock in an open transaction (first, before any other write)."""
        _lock_version(session_of(tx))

    @staticmethod
    def upsert_in(
        tx: Tx, entries: Sequence[ListEntry], now: dt.datetime
    ) -> tuple[list[ListEntry], list[str]]:
        """Store one chunk of a streamed import in the open transaction: (entries as stored, repeats).

        Entries this transaction already stored (their `updated_at` is `now`) are not replaced
        but returned as repeats: a file naming an entry twice is refused, and no id set of the
        whole file is held in memory. The credit office's acts are kept as in `upsert_change`.
        """
        session = session_of(tx)
        stamp = utc(now)
        acts: dict[str, dict[str, Any]] = {}
        repeated: list[str] = []
        ids = [e.entry_id for e in entries]
        for chunk in _chunks(ids, 500):
            for row in session.execute(
                select(EntryRow.updated_at, *_ACT_COLUMNS).where(EntryRow.entry_id.in_(chunk))
            ):
                if utc(row[0]) == stamp:
                    repeated.append(row[1])
                elif row[2] is not None or row[6] is not None:  # revoked_at, reinstated_at
                    acts[row[1]] = _kept_acts(row[2:])
        if repeated:
            return [], repeated
        return _replace_rows(session, entries, acts, now), []

    @staticmethod
    def withdraw_absent_in(
        tx: Tx, list_id: str, authority: str | None, now: dt.datetime, revocation: Revocation
    ) -> Iterator[list[ListEntry]]:
        """Revoke, as withdrawn by the source, this list's entries in force that `now`'s import did not store.

        Entries already revoked (the credit office's repairs and objections) are left as they are.
        Yields the withdrawn entries as stored, a chunk at a time.
        """
        session = session_of(tx)
        stamp = utc(now)
        query = select(EntryRow.entry_id, EntryRow.updated_at).where(
            EntryRow.list_id == list_id, EntryRow.revoked_at.is_(None)
        )
        if authority is not None:
            query = query.where(EntryRow.authority == authority)
        absent = [entry_id for entry_id, updated in session.execute(query) if utc(updated) != stamp]
        for chunk in _chunks(sorted(absent), 500):
            session.execute(
                update(EntryRow)
                .where(EntryRow.entry_id.in_(chunk))
                .values(
                    revoked_at=revocation.at,
                    revoke_reason=revocation.reason,
                    revoke_document_no=revocation.document_no,
                    revoke_kind=revocation.kind.value,
                    updated_at=revocation.at,
                )
                .execution_options(synchronize_session=False)
            )
            rows = session.execute(select(*_INDEX_COLUMNS).where(EntryRow.entry_id.in_(chunk)))
            yield sorted((_from_values(values) for values in rows), key=lambda e: e.entry_id)

    @staticmethod
    def confirm_in(tx: Tx, now: dt.datetime) -> int:
        """Advance the data version as the source's confirmation of the data; the new version."""
        return _bump_version(session_of(tx), confirmed_at=now)


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What an upsert stored: the new data version, every entry as stored, those kept revoked."""

    version: int
    stored: list[ListEntry]
    kept_revoked: list[ListEntry]


def _replace_rows(
    session: Session, entries: Sequence[ListEntry], acts: dict[str, dict[str, Any]], now: dt.datetime
) -> list[ListEntry]:
    """Replace the entries' rows (and their relations), keeping the credit office's acts; as stored."""
    for chunk in _chunks([e.entry_id for e in entries], 500):
        session.execute(delete(RelatedRow).where(RelatedRow.entry_id.in_(chunk)))
        session.execute(delete(EntryRow).where(EntryRow.entry_id.in_(chunk)))
    stored = [e if e.entry_id not in acts else dataclasses.replace(e, **acts[e.entry_id]) for e in entries]
    # Plain rows, no ORM objects: an import of a city's lists is half a million of them, and an
    # upsert through the daemon must not hand the GIL back and forth once per row.
    insert_rows(session, EntryRow, [_to_values(e, now) for e in stored])
    insert_rows(
        session,
        RelatedRow,
        [
            {"entry_id": e.entry_id, "person_key": p.subject_key, "role": p.role.value}
            for e in stored
            for p in e.related
        ],
    )
    return stored


def _lock_version(session: Session) -> None:
    """Take the data-version lock first, so registry changes (daemon or CLI) run one at a time.

    A write statement: PostgreSQL locks the row, SQLite takes its write lock (a deferred SQLite
    transaction that read first could not upgrade if another writer committed in between).
    """
    session.execute(
        update(MetaRow)
        .where(MetaRow.key == DATA_VERSION_KEY)
        .values(value=MetaRow.value)
        .execution_options(synchronize_session=False)
    )


def _bump_version(
    session: Session, confirmed_at: dt.datetime | None = None, changed: Sequence[str] | None = None
) -> int:
    """Advance the data version; with `confirmed_at`, also record that the source confirmed the data.

    The new version is announced to every process on the store at commit, with the ids of the
    `changed` entries (None: the change is not a set of entries, so the listeners rebuild).

    Both are written in the caller's transaction, so the time never runs ahead of the data. Only
    the source feed (an import or upsert, even of unchanged rows) confirms the data; a revocation,
    reinstatement or re-keying changes it without telling whether the feed is still alive.
    """
    row = session.get(MetaRow, DATA_VERSION_KEY, with_for_update=True)
    if row is None:
        row = MetaRow(key=DATA_VERSION_KEY, value="0")
        session.add(row)
    row.value = str(int(row.value) + 1)
    if confirmed_at is not None:
        stamp = utc(confirmed_at).isoformat()
        confirmed = session.get(MetaRow, DATA_CONFIRMED_KEY)
        if confirmed is None:
            session.add(MetaRow(key=DATA_CONFIRMED_KEY, value=stamp))
        else:
            confirmed.value = stamp
    version = int(row.value)
    announce(session, version, changed)
    return version


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _to_values(entry: ListEntry, now: dt.datetime) -> dict[str, object]:
    revocation, reinstated = entry.revocation, entry.reinstatement
    return dict(
        entry_id=entry.entry_id,
        subject_key=entry.subject_key,
        display_id=entry.display_id,
        subject_type=entry.subject_type.value,
        subject_name=entry.subject_name,
        list_id=entry.list_id,
        authority=entry.authority,
        document_no=entry.document_no,
        level=entry.level.value,
        start=entry.start,
        end=entry.end,
        reason=entry.reason,
        severity=entry.severity,
        org_code=entry.org_code,
        registration_no=entry.registration_no,
        related=json.dumps(
            [
                {"role": p.role.value, "key": p.subject_key, "masked": p.masked_id, "name": p.name}
                for p in entry.related
            ],
            ensure_ascii=False,
        ),
        revoked_at=revocation.at if revocation else None,
        revoke_reason=revocation.reason if revocation else "",
        revoke_document_no=revocation.document_no if revocation else "",
        revoke_kind=revocation.kind if revocation else "",
        reinstated_at=reinstated.at if reinstated else None,
        reinstate_reason=reinstated.reason if reinstated else "",
        reinstate_document_no=reinstated.document_no if reinstated else "",
        reinstate_lifted_at=reinstated.lifted_at if reinstated else None,
        reinstate_lifted_document_no=reinstated.lifted_document_no if reinstated else "",
        updated_at=now,
    )


_INDEX_COLUMNS = tuple(
    EntryRow.__table__.c[name]
    for name in (
        "entry_id",
        "subject_key",
        "display_id",
        "subject_type",
        "subject_name",
        "list_id",
        "authority",
        "document_no",
        "level",
        "start",
        "end",
        "reason",
        "severity",
        "org_code",
        "registration_no",
        "related",
        "revoked_at",
        "revoke_reason",
        "revoke_document_no",
        "revoke_kind",
        "reinstated_at",
        "reinstate_reason",
        "reinstate_document_no",
        "reinstate_lifted_at",
        "reinstate_lifted_document_no",
    )
)
# The credit office's acts on an entry, which an upsert of the feed carries over.
_ACT_COLUMNS = (EntryRow.__table__.c.entry_id, *_INDEX_COLUMNS[16:])
_INDEX_NAMES = tuple(c.key for c in _INDEX_COLUMNS)
_SUBJECT_TYPES = {t.value: t for t in SubjectType}
_LEVELS = {level.value: level for level in SourceLevel}


@functools.lru_cache(maxsize=8192)
def _shared_date(day: dt.date) -> dt.date:
    """One date object per distinct day (entries share a few thousand start and end days)."""
    return day


def _from_row(row: Any) -> ListEntry:
    """An entry from a mapped row (the occasional single look-up)."""
    return _from_values(tuple(getattr(row, name) for name in _INDEX_NAMES))


def _from_values(values: Sequence[Any]) -> ListEntry:
    """An entry from the index columns in their fixed order (the start-up load: bound by this)."""
    (
        entry_id,
        subject_key,
        display_id,
        subject_type,
        subject_name,
        list_id,
        authority,
        document_no,
        level,
        start,
        end,
        reason,
        severity,
        org_code,
        registration_no,
        related,
        *acts,
    ) = values
    # Repeated values share one object: a province's index holds five million entries, and most
    # of their text (names, reasons, dates, keys shown in clear) repeats across a subject's entries.
    intern = sys.intern
    subject_key = intern(subject_key)
    return ListEntry(
        entry_id=entry_id,
        subject_key=subject_key,
        display_id=subject_key if display_id == subject_key else intern(display_id),
        subject_type=_SUBJECT_TYPES[subject_type],
        subject_name=intern(subject_name),
        list_id=intern(list_id),
        authority=intern(authority),
        document_no=intern(document_no),
        level=_LEVELS[level],
        start=_shared_date(start),
        end=None if end is None else _shared_date(end),
        reason=intern(reason),
        severity=intern(severity),
        org_code=intern(org_code),
        registration_no=registration_no,
        related=()
        if related == "[]"
        else tuple(
            RelatedPerson(Role(p["role"]), p["key"], p["masked"], p["name"]) for p in json.loads(related)
        ),
        **_acts(acts),
    )


def _kept_acts(values: Sequence[Any]) -> dict[str, Any]:
    """The acts a feed's new row keeps: the credit office's; the source's own withdrawal is lifted."""
    acts = _acts(values)
    revocation = acts["revocation"]
    if revocation is not None and revocation.kind.by_source:
        acts["revocation"] = None
    return acts


def _acts(values: Sequence[Any]) -> dict[str, Any]:
    """The revocation and reinstatement of an entry from the act columns in their fixed order."""
    (
        revoked_at,
        revoke_reason,
        revoke_document_no,
        revoke_kind,
        reinstated_at,
        reinstate_reason,
        reinstate_document_no,
        lifted_at,
        lifted_document_no,
    ) = values
    return {
        "revocation": None
        if revoked_at is None
        else Revocation(utc(revoked_at), revoke_reason, revoke_document_no, RevokeKind(revoke_kind)),
        "reinstatement": None
        if reinstated_at is None or lifted_at is None
        else Reinstatement(
            utc(reinstated_at), reinstate_reason, reinstate_document_no, utc(lifted_at), lifted_document_no
        ),
    }
