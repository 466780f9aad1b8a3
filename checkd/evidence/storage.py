"""What the evidence layer needs of a store: the chain appended by the writer and read back whole."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
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

    def append(self, chain: Callable[[tuple[int, str]], Sequence[LedgerRecord]]) -> list[LedgerRecord]:
        """Chain a batch on the head (given while the store holds it) and store it atomically."""

    def commit_change(
        self, work: Callable[[Tx, tuple[int, str]], tuple[T, Iterable[LedgerRecord]]]
    ) -> tuple[T, LedgerRecord | None]:
        """Run `work` on a transaction holding the chain head (given to it), append its records; the last."""
