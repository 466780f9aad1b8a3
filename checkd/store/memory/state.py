"""The twin's state and its transactions: a draft copy committed whole, or dropped on failure."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from checkd.model import ListEntry
from checkd.store.db import Tx
from checkd.store.records import CheckRef, FeedbackRef, LedgerRecord, OutcomeFact


@dataclass(slots=True)
class State:
    """Everything the twin stores: entries and the data version, the chain and its lookup rows."""

    entries: dict[str, ListEntry] = field(default_factory=dict)
    version: int = 0
    confirmed: dt.datetime | None = None
    records: dict[int, LedgerRecord] = field(default_factory=dict)  # by seq, in insertion order
    checks: dict[str, tuple[CheckRef, LedgerRecord]] = field(default_factory=dict)
    requests: dict[tuple[str, str], str] = field(default_factory=dict)  # (department, request_id) -> check
    feedback: dict[str, tuple[FeedbackRef, LedgerRecord]] = field(default_factory=dict)
    digests: dict[tuple[str, str], str] = field(default_factory=dict)  # (check, digest) -> feedback id
    outcomes: list[tuple[FeedbackRef, OutcomeFact, dt.datetime]] = field(default_factory=list)

    def draft(self) -> State:
        """A copy a transaction can change without touching this one (the values are immutable)."""
        return State(
            dict(self.entries),
            self.version,
            self.confirmed,
            dict(self.records),
            dict(self.checks),
            dict(self.requests),
            dict(self.feedback),
            dict(self.digests),
            list(self.outcomes),
        )


class MemoryTx(Tx):
    """A transaction of the twin: the draft state its change writes to."""

    __slots__ = ("state",)

    def __init__(self, state: State) -> None:
        self.state = state


def state_of(tx: Tx) -> State:
    """The draft of a twin's transaction (TypeError for another store's)."""
    if not isinstance(tx, MemoryTx):
        raise TypeError(f"an in-memory store change was given a {type(tx).__name__}, not a MemoryTx")
    return tx.state


class MemoryStore:
    """The twin's one state; writers take turns, readers see the last committed state whole."""

    def __init__(self) -> None:
        self._state = State()
        self._lock = threading.RLock()  # one writer at a time, as the data-version lock in SQL

    @property
    def state(self) -> State:
        """The last committed state (never changed in place: a commit replaces it)."""
        return self._state

    @contextmanager
    def transaction(self) -> Iterator[MemoryTx]:
        """A draft of the state, committed when the block ends and dropped if it raises."""
        with self._lock:
            draft = self._state.draft()
            yield MemoryTx(draft)
            self._state = draft
