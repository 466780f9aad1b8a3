"""The twin's ledger: the chain with its lookup rows, under the SQL store's unique keys."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from checkd.store.db import Tx
from checkd.store.memory.state import MemoryStore, State
from checkd.store.records import DuplicateKey, LedgerRecord

T = TypeVar("T")


class MemoryLedger:
    """Appends chained records to a MemoryStore and reads them back as the SQL ledger does."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def append(self, chain: Callable[[tuple[int, str]], Sequence[LedgerRecord]]) -> list[LedgerRecord]:
        """Chain a batch on the head and store it atomically; DuplicateKey if any key is already stored."""
        with self._store.transaction() as tx:
            records = list(chain(_head(tx.state)))
            _insert(tx.state, records)
        return records

    def commit_change(
        self, work: Callable[[Tx, tuple[int, str]], tuple[T, Iterable[LedgerRecord]]]
    ) -> tuple[T, LedgerRecord | None]:
        """Run a change and append the records describing it in one transaction; the last record."""
        with self._store.transaction() as tx:
            result, records = work(tx, _head(tx.state))
            stored = list(records)
            _insert(tx.state, stored)
        return result, stored[-1] if stored else None

    def head(self) -> tuple[int, str]:
        """The last (seq, hash) of the chain; (0, "") for an empty ledger."""
        return _head(self._store.state)

    def iter_records(self, after_seq: int = 0, batch: int = 5000) -> Iterator[LedgerRecord]:
        """Every record after `after_seq` in sequence order (`batch` is the SQL store's page size)."""
        records = self._store.state.records
        return iter([_read(records[seq]) for seq in sorted(records) if seq > after_seq])

    def check_payload(self, check_id: str) -> bytes | None:
        """The stored payload of one check, without its feedback."""
        found = self._store.state.checks.get(check_id)
        return None if found is None else found[1].payload

    def check_department(self, check_id: str) -> str | None:
        """The department that made a check (None when there is no such check)."""
        found = self._store.state.checks.get(check_id)
        return None if found is None else found[0].department

    def newest_check_records(self, limit: int) -> list[LedgerRecord]:
        """The newest `limit` check records, newest first (the recent checks of a subject)."""
        records = sorted((record for _, record in self._store.state.checks.values()), key=lambda r: -r.seq)
        return [_read(record) for record in records[:limit]]

    def check_record_by_request(self, department: str, request_id: str) -> LedgerRecord | None:
        """The record of a department's check with this request_id."""
        state = self._store.state
        check_id = state.requests.get((department, request_id))
        return None if check_id is None else _read(state.checks[check_id][1])

    def check(self, check_id: str) -> tuple[LedgerRecord, list[LedgerRecord]] | None:
        """A check record and its feedback records, oldest first."""
        state = self._store.state
        found = state.checks.get(check_id)
        if found is None:
            return None
        feedback = sorted(
            (record for ref, record in state.feedback.values() if ref.check_id == check_id),
            key=lambda record: record.seq,
        )
        return _read(found[1]), [_read(record) for record in feedback]

    def feedback_by_digest(self, check_id: str, digest: str) -> LedgerRecord | None:
        """The stored feedback record of a check with this content digest."""
        state = self._store.state
        feedback_id = state.digests.get((check_id, digest))
        return None if feedback_id is None else _read(state.feedback[feedback_id][1])


def _insert(state: State, records: Sequence[LedgerRecord]) -> None:
    """Add records and their lookup rows to a draft; DuplicateKey on any key the SQL schema keeps unique."""
    for record in records:
        if record.seq in state.records:
            raise DuplicateKey(f"ledger seq {record.seq} is already stored")
        state.records[record.seq] = record
        if (check := record.check) is not None:
            request = None if check.request_id is None else (check.department, check.request_id)
            if check.check_id in state.checks or request in state.requests:
                raise DuplicateKey(f"check {check.check_id} (request {check.request_id}) is already stored")
            state.checks[check.check_id] = (check, record)
            if request is not None:
                state.requests[request] = check.check_id
        if (feedback := record.feedback) is not None:
            digest = (feedback.check_id, feedback.digest)
            if feedback.feedback_id in state.feedback or digest in state.digests:
                raise DuplicateKey(
                    f"feedback {feedback.feedback_id} (digest {feedback.digest}) is already stored"
                )
            state.feedback[feedback.feedback_id] = (feedback, record)
            state.digests[digest] = feedback.feedback_id
            state.outcomes.extend((feedback, outcome, record.recorded_at) for outcome in feedback.outcomes)


def _head(state: State) -> tuple[int, str]:
    if not state.records:
        return 0, ""
    last = state.records[max(state.records)]
    return last.seq, last.hash


def _read(record: LedgerRecord) -> LedgerRecord:
    """A record as the SQL store reads it back: the chained content, without the lookup facts."""
    return dataclasses.replace(record, check=None, feedback=None)
