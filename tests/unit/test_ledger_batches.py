"""A batch call's records reach the ledger writer together: one commit, and a refusal fails each of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from checkd.errors import QueueFull, ShuttingDown
from checkd.evidence.ledger import Ledger
from checkd.model import RecordKind
from checkd.store import LedgerRecord
from checkd.store.memory.ledger import MemoryLedger
from checkd.store.memory.state import MemoryStore

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class Counting(MemoryLedger):
    """The twin's ledger, counting its commits."""

    def __init__(self) -> None:
        super().__init__(MemoryStore())
        self.commits: list[int] = []

    def append(self, chain: Callable[[tuple[int, str]], Sequence[LedgerRecord]]) -> list[LedgerRecord]:
        records = super().append(chain)
        self.commits.append(len(records))
        return records


def _records(ledger: Ledger, count: int) -> list[Any]:
    return [ledger.pending(RecordKind.ADMIN, f"r{n}", b"%d" % n) for n in range(count)]


def test_records_submitted_together_are_one_commit_in_order() -> None:
    store = Counting()
    ledger = Ledger(store, lambda: NOW, max_batch=64)
    ledger.start()
    try:
        held = _records(ledger, 300)  # more than max_batch: a batch call is never split
        ledger.submit_all(held)
        written = [record.future.result(timeout=10) for record in held]
    finally:
        ledger.close()
    assert store.commits == [300]
    assert [record.ref_id for record in written] == [f"r{n}" for n in range(300)]
    assert [record.seq for record in written] == list(range(1, 301))


def test_a_closed_ledger_fails_every_held_record() -> None:
    ledger = Ledger(Counting(), lambda: NOW)
    ledger.start()
    ledger.close()
    held = _records(ledger, 3)
    ledger.submit_all(held)
    for record in held:
        with pytest.raises(ShuttingDown):
            record.future.result(timeout=1)


def test_a_full_queue_fails_every_held_record() -> None:
    ledger = Ledger(Counting(), lambda: NOW, max_pending=1)  # not started: nothing drains the queue
    ledger.submit(RecordKind.ADMIN, "first", b"1")
    held = _records(ledger, 3)
    ledger.submit_all(held)
    for record in held:
        with pytest.raises(QueueFull):
            record.future.result(timeout=1)
