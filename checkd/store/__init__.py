"""Persistence through SQLAlchemy (SQLite file or PostgreSQL); the only package that imports it.

Besides the repositories, this module declares the small Protocols the layers read the store
through; `checkd/store/memory.py` is an in-memory twin of them, held to the same contract
(tests/integration/test_store_contract.py runs one set of cases on the twin, SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Protocol

from checkd.model import ListEntry
from checkd.store.db import Database, StoreUnavailable, Tx
from checkd.store.entries import EntryRepository, UpsertResult
from checkd.store.records import (
    Checkpoint,
    CheckpointRepository,
    CheckRef,
    DuplicateKey,
    FeedbackRef,
    LedgerRecord,
    LedgerRepository,
    OutcomeFact,
)


class EntryReader(Protocol):
    """The list entries as the decision side reads them: the source of the index snapshots."""

    def data_version(self) -> int:
        """The current data version (0 for an empty store)."""

    def data_state(self) -> tuple[int, dt.datetime | None]:
        """The data version and when its source last confirmed the data (None: never)."""

    def count(self) -> int:
        """How many entries are stored."""

    def get(self, entry_id: str) -> ListEntry | None:
        """One entry by id."""

    def for_subject(self, key: str, org_code: str) -> list[ListEntry]:
        """Every entry naming the subject or relating a person with that key to it, by start date."""

    def iter_all(self) -> Iterator[ListEntry]:
        """Every entry (for building an index)."""


__all__ = [
    "CheckRef",
    "Checkpoint",
    "CheckpointRepository",
    "Database",
    "DuplicateKey",
    "EntryReader",
    "EntryRepository",
    "FeedbackRef",
    "LedgerRecord",
    "LedgerRepository",
    "OutcomeFact",
    "StoreUnavailable",
    "Tx",
    "UpsertResult",
]
