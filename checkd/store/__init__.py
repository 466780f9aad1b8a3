"""Persistence through SQLAlchemy (SQLite file or PostgreSQL); the only package that imports it."""

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
