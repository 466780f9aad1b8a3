"""Persistence through SQLAlchemy (SQLite file or PostgreSQL); the only package that imports it.

The repositories implement the small Protocols declared by the layers that use them
(`decide/storage.py`, `evidence/storage.py`, `loop/storage.py`); `checkd/store/memory` is an
in-memory twin of each, held to the same contract (tests/integration/test_store_contract.py runs
one set of cases on the twin, SQLite and PostgreSQL). This module names the store's public
surface: the repositories the composition root builds and the record types they carry.
"""

from __future__ import annotations

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

__all__ = [
    "CheckRef",
    "Checkpoint",
    "CheckpointRepository",
    "Database",
    "DuplicateKey",
    "EntryRepository",
    "FeedbackRef",
    "LedgerRecord",
    "LedgerRepository",
    "OutcomeFact",
    "StoreUnavailable",
    "Tx",
    "UpsertResult",
]
