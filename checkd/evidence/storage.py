"""What the evidence layer needs of a store: the chain appended by the writer and read back whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from checkd.store.db import Tx
from checkd.store.records import LedgerRecord

T = TypeVar("T")


class ChainReader(Protocol):
    """The chain as checkpoints and verification read it."""

    def head(self) -> tuple[int, str]:
        """The last (seq, hash) of the chain; (0, "") for an empty ledger."""

    def iter_records(self, after_seq: int = 0, batch: int = 5000) -> Iterator[LedgerRecord]:
        """Every record after `after_seq`, in sequence order, without its lookup facts."""


class ChainStore(ChainReader, Protocol):
    """The chain as the ledger writer appends to it: batches, and store changes with their records.

    `DuplicateKey` (store/records.py) is the one refusal: a sequence number or an idempotency key
    (a department's request_id, a check's feedback digest) is already stored, and nothing was
    written.
    """

    def append(self, records: Sequence[LedgerRecord]) -> None:
        """Store a batch of chained records and their lookup rows atomically."""

    def commit_change(
        self, work: Callable[[Tx], tuple[T, Sequence[LedgerRecord]]]
    ) -> tuple[T, list[LedgerRecord]]:
        """Run `work` on one transaction and append the records it returns in it: both or neither."""

    def head_in(self, tx: Tx) -> tuple[int, str]:
        """The chain head as the open transaction sees it."""
