"""What the use cases read and write through a store: stored answers, registry changes, statistics.

Each Protocol is the narrow surface one use case needs; the SQL repositories of `store/` and the
in-memory twin of `store/memory` both implement them, held to one contract
(tests/integration/test_store_contract.py). The composition root (wiring.py) passes the concrete
ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol

from checkd.model import ListEntry, Revocation
from checkd.store.db import Tx
from checkd.store.entries import UpsertResult
from checkd.store.records import LedgerRecord
from checkd.store.stats import Figures, OverdueCheck


class AnswerReader(Protocol):
    """The stored checks and feedback the checker answers retries and read-backs from (Checker)."""

    def check_payload(self, check_id: str) -> bytes | None:
        """The stored payload of one check, without its feedback."""

    def newest_check_records(self, limit: int) -> list[LedgerRecord]:
        """The newest `limit` check records, newest first."""

    def check_record_by_request(self, department: str, request_id: str) -> LedgerRecord | None:
        """The record of a department's check with this request_id (a replayed answer)."""

    def check(self, check_id: str) -> tuple[LedgerRecord, list[LedgerRecord]] | None:
        """A check record and its feedback records, oldest first."""

    def feedback_by_digest(self, check_id: str, digest: str) -> LedgerRecord | None:
        """The stored feedback record of a check with this content digest."""


class EntryWriter(Protocol):
    """The list entries as the registry changes and looks them up (Registry).

    A change is applied by the ledger writer on the transaction its admin records are appended
    in; its refusals (NotFound, FailedPrecondition) leave the store as it was.
    """

    def upsert_change(self, entries: Sequence[ListEntry], now: dt.datetime) -> Callable[[Tx], UpsertResult]:
        """Insert or replace entries, keeping the credit office's revocations and reinstatements."""

    def revoke_change(self, entry_id: str, revocation: Revocation) -> Callable[[Tx], tuple[ListEntry, int]]:
        """Revoke an entry not already revoked; the entry as stored and the new data version."""

    def reinstate_change(
        self, entry_id: str, at: dt.datetime, reason: str, document_no: str
    ) -> Callable[[Tx], tuple[ListEntry, int]]:
        """Bring a revoked entry back in force; the entry as stored and the new data version."""

    def get(self, entry_id: str) -> ListEntry | None:
        """One entry by id."""

    def get_many(self, entry_ids: Sequence[str]) -> list[ListEntry]:
        """The entries with these ids that exist."""

    def for_subject(self, key: str, org_code: str) -> list[ListEntry]:
        """Every entry naming the subject or relating a person with that key to it, by start date."""


class StatsReader(Protocol):
    """The closed-loop statistics over the stored checks and feedback (Statistics)."""

    def window(
        self, start: dt.datetime, end: dt.datetime, department: str | None, overdue_before: dt.datetime
    ) -> dict[str, Figures]:
        """Figures per department for checks recorded in [start, end); feedback counted by its check."""

    def follow_up(self, overdue_before: dt.datetime) -> tuple[int, int]:
        """(checks with measures and no feedback, penalty checks overdue for feedback), store-wide."""

    def overdue(self, before: dt.datetime, department: str | None, limit: int) -> list[OverdueCheck]:
        """Penalty checks recorded before `before` with no feedback, oldest first."""
