"""Repository of ledger records (checks, feedback, administrative acts) and their lookup rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from checkd.store.bulk import insert_rows
from checkd.store.db import Database, StoreUnavailable, Tx, utc
from checkd.store.tables import CheckRow, FeedbackOutcomeRow, FeedbackRow, LedgerRow

T = TypeVar("T")


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


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """One chained evidence record, with the lookup row it carries (if any)."""

    seq: int
    kind: str  # check | feedback | admin
    ref_id: str
    recorded_at: dt.datetime
    payload: bytes
    prev_hash: str
    hash: str
    check: CheckRef | None = None
    feedback: FeedbackRef | None = None


class DuplicateKey(Exception):
    """A record's idempotency key (request_id or feedback digest) is already stored."""


class LedgerRepository:
    """Appends ledger records in one transaction per batch and reads them back."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def append(self, records: Sequence[LedgerRecord]) -> None:
        """Store a batch atomically; DuplicateKey if any idempotency key already exists."""
        try:
            with self._db.transaction() as session:
                _insert(session, records)
        except IntegrityError as exc:
            raise DuplicateKey(str(exc.orig)) from exc

    def commit_change(self, work: Callable[[Tx], tuple[T, Sequence[LedgerRecord]]]
                      ) -> tuple[T, list[LedgerRecord]]:
        """Run a store change and append the records describing it in ONE transaction: both or neither.

        `work` applies the change on the transaction and returns its result with the records to
        append (chained on `head_in(tx)`); DuplicateKey when another writer took those sequence
        numbers meanwhile (nothing is committed: re-run on the new head).
        """
        try:
            with self._db.transaction() as session:
                result, records = work(Tx(session))
                _insert(session, records)
        except IntegrityError as exc:
            raise DuplicateKey(str(exc.orig)) from exc
        except DBAPIError as exc:  # e.g. a store that refuses the write: the change is rolled back with it
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
            raise StoreUnavailable(f"store refused the change (nothing was applied): {detail}") from exc
        return result, list(records)

    @staticmethod
    def head_in(tx: Tx) -> tuple[int, str]:
        """The chain head as the open transaction sees it (after its change serialised the writers)."""
        return _head(tx.session)

    def head(self) -> tuple[int, str]:
        """The last (seq, hash) of the chain; (0, "") for an empty ledger."""
        with self._db.transaction() as session:
            return _head(session)

    def check_by_request(self, department: str, request_id: str) -> bytes | None:
        """The stored payload of a department's check with this request_id."""
        return self._check_payload(CheckRow.department == department, CheckRow.request_id == request_id)

    def check_by_request_fingerprinted(self, department: str, request_id: str) -> tuple[bytes, str] | None:
        """The stored payload of a department's check with this request_id, and its request's fingerprint."""
        with self._db.transaction() as session:
            row = session.execute(
                select(LedgerRow.payload, CheckRow.request_fingerprint)
                .join(CheckRow, CheckRow.seq == LedgerRow.seq)
                .where(CheckRow.department == department, CheckRow.request_id == request_id)
            ).first()
            return None if row is None else (row[0], row[1] or "")

    def check_payload(self, check_id: str) -> bytes | None:
        """The stored payload of one check, without its feedback."""
        return self._check_payload(CheckRow.check_id == check_id)

    def check_department(self, check_id: str) -> str | None:
        """The department that made a check (None when there is no such check)."""
        with self._db.transaction() as session:
            return session.scalar(select(CheckRow.department).where(CheckRow.check_id == check_id))

    def _check_payload(self, *where: ColumnElement[bool]) -> bytes | None:
        with self._db.transaction() as session:
            return session.scalar(
                select(LedgerRow.payload).join(CheckRow, CheckRow.seq == LedgerRow.seq).where(*where)
            )

    def check(self, check_id: str) -> tuple[LedgerRecord, list[LedgerRecord]] | None:
        """A check record and its feedback records, oldest first."""
        with self._db.transaction() as session:
            seq = session.scalar(select(CheckRow.seq).where(CheckRow.check_id == check_id))
            if seq is None:
                return None
            feedback_seqs = session.scalars(
                select(FeedbackRow.seq).where(FeedbackRow.check_id == check_id).order_by(FeedbackRow.seq)
            ).all()
            check = _record(session.get_one(LedgerRow, seq))
            return check, [_record(session.get_one(LedgerRow, s)) for s in feedback_seqs]

    def feedback_by_digest(self, check_id: str, digest: str) -> LedgerRecord | None:
        """The stored feedback record with this content digest, if any."""
        with self._db.transaction() as session:
            seq = session.scalar(
                select(FeedbackRow.seq).where(FeedbackRow.check_id == check_id, FeedbackRow.digest == digest)
            )
            return None if seq is None else _record(session.get_one(LedgerRow, seq))

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


def _insert(session: Session, records: Sequence[LedgerRecord]) -> None:
    """Insert ledger records and their lookup rows in the session's transaction."""
    ledger = [
        {"seq": r.seq, "kind": r.kind, "ref_id": r.ref_id, "recorded_at": r.recorded_at,
         "payload": r.payload, "prev_hash": r.prev_hash, "hash": r.hash}
        for r in records
    ]
    checks = [
        {"check_id": c.check_id, "department": c.department, "request_id": c.request_id,
         "matter": c.matter, "scene": c.scene, "verdict": c.verdict, "recorded_at": r.recorded_at,
         "seq": r.seq, "subjects": c.subjects, "subjects_hit_penalty": c.subjects_hit_penalty,
         "subjects_hit_reward": c.subjects_hit_reward, "measures_mandatory": c.measures_mandatory,
         "measures_discretionary": c.measures_discretionary, "has_penalty": c.has_penalty,
         "request_fingerprint": c.fingerprint}
        for r in records if (c := r.check) is not None
    ]
    feedback = [
        {"feedback_id": f.feedback_id, "check_id": f.check_id, "digest": f.digest,
         "recorded_at": r.recorded_at, "seq": r.seq}
        for r in records if (f := r.feedback) is not None
    ]
    outcomes = [
        {"feedback_id": f.feedback_id, "check_id": f.check_id, "measure_id": o.measure_id,
         "subject_id": o.subject_id, "outcome": o.outcome, "action": o.action,
         "recorded_at": r.recorded_at}
        for r in records if (f := r.feedback) is not None for o in f.outcomes
    ]
    for table, rows in ((LedgerRow, ledger), (CheckRow, checks), (FeedbackRow, feedback),
                        (FeedbackOutcomeRow, outcomes)):
        insert_rows(session, table, rows)


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(
        select(LedgerRow.seq, LedgerRow.hash).order_by(LedgerRow.seq.desc()).limit(1)
    ).first()
    return (0, "") if row is None else (row.seq, row.hash)


def _record(row: LedgerRow) -> LedgerRecord:
    return LedgerRecord(
        seq=row.seq,
        kind=row.kind,
        ref_id=row.ref_id,
        recorded_at=utc(row.recorded_at),
        payload=row.payload,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
