"""Repository of ledger records (checks, feedback, administrative acts) and their lookup rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from checkd.store.bulk import insert_driver_rows, insert_rows, stamper
from checkd.store.db import Database, SessionTx, StoreUnavailable, Tx, utc
from checkd.store.tables import Base, CheckpointRow, CheckRow, FeedbackOutcomeRow, FeedbackRow, LedgerRow
from checkd.values import quick_init

T = TypeVar("T")
# Admin records of one change inserted per statement: a record is up to ~1 MB (5000 entry digests).
CHANGE_RECORDS_PER_INSERT = 8


@quick_init
@dataclass(frozen=True, slots=True)
class CheckRef:
    """Lookup facts of a check record."""

    check_id: str
    department: str
    request_id: str | None
    matter: str
    scene: str
    verdict: str
    subjects: int = 0
    subjects_hit_penalty: int = 0
    subjects_hit_reward: int = 0
    measures_mandatory: int = 0
    measures_discretionary: int = 0
    has_penalty: bool = False
    fingerprint: str = ""  # sha256 of the canonical request, for the idempotency rule


@dataclass(frozen=True, slots=True)
class OutcomeFact:
    """One reported outcome, for statistics."""

    measure_id: str
    subject_id: str
    outcome: str
    action: str


@dataclass(frozen=True, slots=True)
class FeedbackRef:
    """Lookup facts of a feedback record."""

    feedback_id: str
    check_id: str
    digest: str
    outcomes: tuple[OutcomeFact, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """One chained evidence record, with the lookup row it carries (if any)."""

    seq: int
    kind: str  # a RecordKind value as stored: a tampered kind must fail its hash in verify, not the read
    ref_id: str
    recorded_at: dt.datetime
    payload: bytes
    prev_hash: str
    hash: str
    check: CheckRef | None = None
    feedback: FeedbackRef | None = None


class DuplicateKey(Exception):
    """A record's idempotency key (request_id or feedback digest) is already stored."""


# The per-request lookups, built once with bound parameters: building a statement costs more
# Python than running it (SQLAlchemy caches the compiled form, not the construction).
_LEDGER_COLUMNS = select(
    LedgerRow.seq,
    LedgerRow.kind,
    LedgerRow.ref_id,
    LedgerRow.recorded_at,
    LedgerRow.payload,
    LedgerRow.prev_hash,
    LedgerRow.hash,
)
_CHECK_PAYLOAD = (
    select(LedgerRow.payload)
    .join(CheckRow, CheckRow.seq == LedgerRow.seq)
    .where(CheckRow.check_id == bindparam("check_id"))
)
# Authorisation's read before a department's feedback or GetCheck.
_CHECK_DEPARTMENT = select(CheckRow.department).where(CheckRow.check_id == bindparam("check_id"))
_VIA_CHECKS = _LEDGER_COLUMNS.join_from(LedgerRow, CheckRow, CheckRow.seq == LedgerRow.seq)
_VIA_FEEDBACK = _LEDGER_COLUMNS.join_from(LedgerRow, FeedbackRow, FeedbackRow.seq == LedgerRow.seq)
_CHECK_RECORD = _VIA_CHECKS.where(CheckRow.check_id == bindparam("check_id"))
_CHECK_BY_REQUEST = _VIA_CHECKS.where(
    CheckRow.department == bindparam("department"), CheckRow.request_id == bindparam("request_id")
)
_FEEDBACK_RECORDS = _VIA_FEEDBACK.where(FeedbackRow.check_id == bindparam("check_id")).order_by(LedgerRow.seq)
_FEEDBACK_BY_DIGEST = _VIA_FEEDBACK.where(
    FeedbackRow.check_id == bindparam("check_id"), FeedbackRow.digest == bindparam("digest")
)


class LedgerRepository:
    """Appends ledger records in one transaction per batch and reads them back."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def append(self, chain: Callable[[tuple[int, str]], Sequence[LedgerRecord]]) -> list[LedgerRecord]:
        """Chain a batch on the head and store it atomically, holding the head; the records stored.

        `chain` is given the head as read inside the locked transaction, so writers in other
        processes cannot take the same sequence numbers; DuplicateKey if any idempotency key
        (request_id, feedback digest) is already stored (nothing is committed).
        """
        try:
            if self._db.is_sqlite:
                return self._append_sqlite(chain)
            with self._db.chain_transaction() as session:
                records = list(chain(_head(session)))
                _insert(session, records)
        except IntegrityError as exc:
            raise DuplicateKey(str(exc.orig)) from exc
        return records

    def _append_sqlite(
        self, chain: Callable[[tuple[int, str]], Sequence[LedgerRecord]]
    ) -> list[LedgerRecord]:
        """`append` on the raw sqlite3 connection: the same statements and stored values, no Session."""
        with self._db.driver_chain_transaction() as driver:
            found = driver.execute(_HEAD_SQL).fetchone()
            records = list(chain((0, "") if found is None else (found[0], found[1])))
            stamp = stamper(LedgerRow, "recorded_at", self._db.engine.dialect)
            for table, columns, rows in _rows(records, stamp):
                if rows:
                    insert_driver_rows(driver, table.__tablename__, columns, rows)
        return records

    def commit_change(
        self, work: Callable[[Tx, tuple[int, str]], tuple[T, Iterable[LedgerRecord]]]
    ) -> tuple[T, LedgerRecord | None]:
        """Run a store change and append the records describing it in ONE transaction: both or neither.

        `work` applies the change on the transaction and returns its result with the records to
        append, chained on the head it is given (read while holding it, as `append` does), inserted
        a few at a time as they come; the last one is returned. DuplicateKey when the store refuses
        those records (nothing is committed).
        """
        last: LedgerRecord | None = None
        try:
            with self._db.chain_transaction() as session:
                result, records = work(SessionTx(session), _head(session))
                batch: list[LedgerRecord] = []
                for record in records:
                    batch.append(record)
                    if len(batch) == CHANGE_RECORDS_PER_INSERT:
                        _insert(session, batch)
                        batch = []
                    last = record
                _insert(session, batch)
        except IntegrityError as exc:
            raise DuplicateKey(str(exc.orig)) from exc
        except DBAPIError as exc:  # e.g. a store that refuses the write: the change is rolled back with it
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
            raise StoreUnavailable(f"store refused the change (nothing was applied): {detail}") from exc
        return result, last

    def head(self) -> tuple[int, str]:
        """The last (seq, hash) of the chain; (0, "") for an empty ledger."""
        with self._db.transaction() as session:
            return _head(session)

    def check_payload(self, check_id: str) -> bytes | None:
        """The stored payload of one check, without its feedback."""
        with self._db.reading() as connection:
            payload: bytes | None = connection.execute(_CHECK_PAYLOAD, {"check_id": check_id}).scalar()
            return payload

    def check_department(self, check_id: str) -> str | None:
        """The department that made a check (None when there is no such check)."""
        with self._db.reading() as connection:
            department: str | None = connection.execute(_CHECK_DEPARTMENT, {"check_id": check_id}).scalar()
            return department

    def check(self, check_id: str) -> tuple[LedgerRecord, list[LedgerRecord]] | None:
        """A check record and its feedback records, oldest first."""
        with self._db.reading() as connection:
            check = connection.execute(_CHECK_RECORD, {"check_id": check_id}).first()
            if check is None:
                return None
            feedback = connection.execute(_FEEDBACK_RECORDS, {"check_id": check_id})
            return _record(check), [_record(row) for row in feedback]

    def feedback_by_digest(self, check_id: str, digest: str) -> LedgerRecord | None:
        """The stored feedback record with this content digest, if any."""
        with self._db.reading() as connection:
            found = connection.execute(_FEEDBACK_BY_DIGEST, {"check_id": check_id, "digest": digest}).first()
            return None if found is None else _record(found)

    def iter_records(self, after_seq: int = 0, batch: int = 5000) -> Iterator[LedgerRecord]:
        """Every ledger record in sequence order (for verification)."""
        last = after_seq
        while True:
            with self._db.transaction() as session:
                rows = session.scalars(
                    select(LedgerRow).where(LedgerRow.seq > last).order_by(LedgerRow.seq).limit(batch)
                ).all()
                records = [_record(row) for row in rows]
            if not records:
                return
            yield from records
            last = records[-1].seq

    # ------------------------------------------------------------- evidence (read side)

    def record_at(self, seq: int) -> LedgerRecord | None:
        """The ledger record at one position, if any."""
        with self._db.transaction() as session:
            row = session.get(LedgerRow, seq)
            return None if row is None else _record(row)

    def check_record_by_request(self, department: str, request_id: str) -> LedgerRecord | None:
        """The ledger record of a department's check with this request_id (for a replayed answer)."""
        with self._db.reading() as connection:
            found = connection.execute(
                _CHECK_BY_REQUEST, {"department": department, "request_id": request_id}
            ).first()
            return None if found is None else _record(found)

    def newest_check_records(self, limit: int) -> list[LedgerRecord]:
        """The newest `limit` check records, newest first (the recent checks of a subject)."""
        with self._db.transaction() as session:
            rows = session.scalars(
                select(LedgerRow)
                .join(CheckRow, CheckRow.seq == LedgerRow.seq)
                .order_by(CheckRow.seq.desc())
                .limit(limit)
            ).all()
            return [_record(row) for row in rows]

    def check_rows(self, check_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored `checks` rows of these checks, by check id."""
        with self._db.transaction() as session:
            rows = session.scalars(select(CheckRow).where(CheckRow.check_id.in_(check_ids))).all()
            return {row.check_id: _columns(row) for row in rows}

    def stray_check_rows(self) -> list[dict[str, Any]]:
        """`checks` rows that no check record with their id sits at their seq for."""
        return self._stray_rows(CheckRow, "check", CheckRow.check_id)

    def check_records(self, check_ids: Sequence[str]) -> dict[str, LedgerRecord]:
        """The check records of these checks, found through their rows and confirmed by the record's id."""
        with self._db.transaction() as session:
            records = _records_via(
                session,
                CheckRow,
                CheckRow.check_id.in_(check_ids),
                LedgerRow.kind == "check",
                LedgerRow.ref_id == CheckRow.check_id,
            )
            return {record.ref_id: record for record in records}

    def feedback_rows(self, feedback_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored `feedback` rows of these feedback ids."""
        with self._db.transaction() as session:
            rows = session.scalars(select(FeedbackRow).where(FeedbackRow.feedback_id.in_(feedback_ids))).all()
            return {row.feedback_id: _columns(row) for row in rows}

    def stray_feedback_rows(self) -> list[dict[str, Any]]:
        """`feedback` rows with no feedback record on their check at their seq."""
        return self._stray_rows(FeedbackRow, "feedback", FeedbackRow.check_id)

    def _stray_rows(
        self, table: type[CheckRow] | type[FeedbackRow], kind: str, ref_id: InstrumentedAttribute[str]
    ) -> list[dict[str, Any]]:
        """Rows of a derived table with no ledger record of `kind` naming `ref_id` at their seq."""
        with self._db.transaction() as session:
            rows = session.scalars(
                select(table)
                .outerjoin(
                    LedgerRow,
                    and_(LedgerRow.seq == table.seq, LedgerRow.kind == kind, LedgerRow.ref_id == ref_id),
                )
                .where(LedgerRow.seq.is_(None))
                .order_by(table.seq)
            ).all()
            return [_columns(row) for row in rows]

    def feedback_rows_sharing_seq(self) -> list[tuple[dict[str, Any], bytes | None]]:
        """`feedback` rows that share their seq with another, each with the payload stored at that seq."""
        with self._db.transaction() as session:
            shared = select(FeedbackRow.seq).group_by(FeedbackRow.seq).having(func.count() > 1)
            rows = session.scalars(
                select(FeedbackRow).where(FeedbackRow.seq.in_(shared)).order_by(FeedbackRow.seq)
            ).all()
            result = []
            for row in rows:
                record = session.get(LedgerRow, row.seq)
                result.append((_columns(row), None if record is None else record.payload))
            return result

    def outcome_rows(self, check_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """The stored `feedback_outcomes` rows of these checks, by feedback id."""
        with self._db.transaction() as session:
            rows = session.scalars(
                select(FeedbackOutcomeRow)
                .where(FeedbackOutcomeRow.check_id.in_(check_ids))
                .order_by(FeedbackOutcomeRow.id)
            ).all()
            grouped: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                grouped.setdefault(row.feedback_id, []).append(_columns(row))
            return grouped

    def stray_outcome_rows(self) -> list[dict[str, Any]]:
        """`feedback_outcomes` rows whose (feedback, check) has no `feedback` row."""
        with self._db.transaction() as session:
            rows = session.scalars(
                select(FeedbackOutcomeRow)
                .outerjoin(
                    FeedbackRow,
                    and_(
                        FeedbackRow.feedback_id == FeedbackOutcomeRow.feedback_id,
                        FeedbackRow.check_id == FeedbackOutcomeRow.check_id,
                    ),
                )
                .where(FeedbackRow.feedback_id.is_(None))
                .order_by(FeedbackOutcomeRow.id)
            ).all()
            return [_columns(row) for row in rows]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed chain head: (seq, head_hash) at signed_at, by key_id with algorithm."""

    seq: int
    head_hash: str
    signed_at: dt.datetime
    key_id: str
    algorithm: str
    chain_algorithm: str
    signature: str


class CheckpointRepository:
    """Stores signed checkpoints of the chain and reads them back in order."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, checkpoint: Checkpoint) -> None:
        """Store one checkpoint."""
        with self._db.transaction() as session:
            session.add(
                CheckpointRow(
                    seq=checkpoint.seq,
                    head_hash=checkpoint.head_hash,
                    signed_at=checkpoint.signed_at,
                    key_id=checkpoint.key_id,
                    algorithm=checkpoint.algorithm,
                    chain_algorithm=checkpoint.chain_algorithm,
                    signature=checkpoint.signature,
                )
            )

    def all(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first."""
        with self._db.transaction() as session:
            rows = session.scalars(select(CheckpointRow).order_by(CheckpointRow.seq, CheckpointRow.id)).all()
            return [_checkpoint(row) for row in rows]

    def newest(self, key_id: str, limit: int = 16) -> list[Checkpoint]:
        """The newest checkpoints of one key, newest first (where a restarted signer resumes)."""
        with self._db.transaction() as session:
            rows = session.scalars(
                select(CheckpointRow)
                .where(CheckpointRow.key_id == key_id)
                .order_by(CheckpointRow.seq.desc())
                .limit(limit)
            ).all()
            return [_checkpoint(row) for row in rows]


# The columns of each table the ledger writes, in the order `_rows` builds their values.
LEDGER_COLUMNS = ("seq", "kind", "ref_id", "recorded_at", "payload", "prev_hash", "hash")
CHECK_COLUMNS = (
    "check_id",
    "department",
    "request_id",
    "matter",
    "scene",
    "verdict",
    "recorded_at",
    "seq",
    "subjects",
    "subjects_hit_penalty",
    "subjects_hit_reward",
    "measures_mandatory",
    "measures_discretionary",
    "has_penalty",
    "request_fingerprint",
)
FEEDBACK_COLUMNS = ("feedback_id", "check_id", "digest", "recorded_at", "seq")
OUTCOME_COLUMNS = (
    "feedback_id",
    "check_id",
    "measure_id",
    "subject_id",
    "outcome",
    "action",
    "recorded_at",
)
_HEAD_SQL = "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1"
Rows = list[tuple[type[Base], tuple[str, ...], list[tuple[Any, ...]]]]


def _rows(records: Sequence[LedgerRecord], stamp: Callable[[dt.datetime], Any]) -> Rows:
    """The rows of ledger records and their lookup rows, per table, as tuples in column order.

    `stamp` is what a record's instant is stored as (the driver's value on the raw SQLite path,
    the datetime itself where SQLAlchemy binds it).
    """
    ledger: list[tuple[Any, ...]] = []
    checks: list[tuple[Any, ...]] = []
    feedback: list[tuple[Any, ...]] = []
    outcomes: list[tuple[Any, ...]] = []
    for r in records:
        when = stamp(r.recorded_at)
        ledger.append((r.seq, r.kind, r.ref_id, when, r.payload, r.prev_hash, r.hash))
        c = r.check
        if c is not None:
            checks.append(
                (
                    c.check_id,
                    c.department,
                    c.request_id,
                    c.matter,
                    c.scene,
                    c.verdict,
                    when,
                    r.seq,
                    c.subjects,
                    c.subjects_hit_penalty,
                    c.subjects_hit_reward,
                    c.measures_mandatory,
                    c.measures_discretionary,
                    c.has_penalty,
                    c.fingerprint,
                )
            )
        f = r.feedback
        if f is not None:
            feedback.append((f.feedback_id, f.check_id, f.digest, when, r.seq))
            outcomes.extend(
                (f.feedback_id, f.check_id, o.measure_id, o.subject_id, o.outcome, o.action, when)
                for o in f.outcomes
            )
    return [
        (LedgerRow, LEDGER_COLUMNS, ledger),
        (CheckRow, CHECK_COLUMNS, checks),
        (FeedbackRow, FEEDBACK_COLUMNS, feedback),
        (FeedbackOutcomeRow, OUTCOME_COLUMNS, outcomes),
    ]


def _same(value: dt.datetime) -> dt.datetime:
    return value


def _insert(session: Session, records: Sequence[LedgerRecord]) -> None:
    """Insert ledger records and their lookup rows in the session's transaction."""
    for table, columns, rows in _rows(records, _same):
        insert_rows(session, table, [dict(zip(columns, row, strict=True)) for row in rows])


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(
        select(LedgerRow.seq, LedgerRow.hash).order_by(LedgerRow.seq.desc()).limit(1)
    ).first()
    return (0, "") if row is None else (row.seq, row.hash)


def _records_via(
    session: Session, table: type[CheckRow] | type[FeedbackRow], *where: ColumnElement[bool]
) -> list[LedgerRecord]:
    """The ledger records a lookup table's rows point at (by their seq) where `where` holds, by seq."""
    rows = session.scalars(
        select(LedgerRow).join(table, table.seq == LedgerRow.seq).where(*where).order_by(LedgerRow.seq)
    ).all()
    return [_record(row) for row in rows]


def _checkpoint(row: CheckpointRow) -> Checkpoint:
    return Checkpoint(
        row.seq,
        row.head_hash,
        utc(row.signed_at),
        row.key_id,
        row.algorithm,
        row.chain_algorithm,
        row.signature,
    )


def _record(row: LedgerRow | Row[int, str, str, dt.datetime, bytes, str, str]) -> LedgerRecord:
    """A ledger record from its ORM row or from a row of `_LEDGER_COLUMNS`."""
    return LedgerRecord(
        seq=row.seq,
        kind=row.kind,
        ref_id=row.ref_id,
        recorded_at=utc(row.recorded_at),
        payload=row.payload,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _columns(row: Base) -> dict[str, Any]:
    """A row's columns by name, times in UTC (as the record's are)."""
    values: dict[str, Any] = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        values[column.key] = utc(value) if isinstance(value, dt.datetime) else value
    return values
