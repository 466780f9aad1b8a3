"""The twin's list entries: the reads of EntryReader and the changes of EntryWriter."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Sequence

from checkd.errors import FailedPrecondition, NotFound
from checkd.model import ListEntry, Reinstatement, Revocation
from checkd.store.db import Tx, utc
from checkd.store.entries import UpsertResult
from checkd.store.memory.state import MemoryStore, State, state_of


class MemoryEntries:
    """List entries held in a MemoryStore; every change is one new data version, as in SQL."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def data_version(self) -> int:
        """The current data version (0 when nothing was ever written)."""
        return self._store.state.version

    def data_state(self) -> tuple[int, dt.datetime | None]:
        """The data version and when the data was last confirmed by its source."""
        state = self._store.state
        return state.version, state.confirmed

    def count(self) -> int:
        """How many entries are held."""
        return len(self._store.state.entries)

    def get(self, entry_id: str) -> ListEntry | None:
        """One entry by id."""
        return self._store.state.entries.get(entry_id)

    def get_many(self, entry_ids: Sequence[str]) -> list[ListEntry]:
        """The entries with these ids that exist (what another process announced it changed)."""
        entries = self._store.state.entries
        return [entries[entry_id] for entry_id in entry_ids if entry_id in entries]

    def for_subject(self, key: str, org_code: str) -> list[ListEntry]:
        """Every entry naming the subject or relating a person with that key to it, by start date."""
        found = [
            e
            for e in self._store.state.entries.values()
            if key in (e.subject_key, e.registration_no)
            or any(p.subject_key == key for p in e.related)
            or (org_code and e.org_code == org_code)
        ]
        return sorted(found, key=lambda e: e.start)

    def iter_all(self) -> Iterator[ListEntry]:
        """Every entry of the state committed when the iteration began."""
        return iter(list(self._store.state.entries.values()))

    @staticmethod
    def upsert_change(entries: Sequence[ListEntry], now: dt.datetime) -> Callable[[Tx], UpsertResult]:
        """Insert or replace entries; a stored revocation or reinstatement is kept (the office's act)."""

        def apply(tx: Tx) -> UpsertResult:
            state = state_of(tx)
            stored = []
            for given in entries:
                old = state.entries.get(given.entry_id)
                acted = old is not None and (old.revocation is not None or old.reinstatement is not None)
                entry = (
                    dataclasses.replace(given, revocation=old.revocation, reinstatement=old.reinstatement)
                    if old is not None and acted
                    else given
                )
                state.entries[entry.entry_id] = entry
                stored.append(entry)
            kept = [e for e in stored if e.revocation is not None]
            return UpsertResult(_bump_version(state, confirmed_at=now), stored, kept)

        return apply

    @staticmethod
    def revoke_change(entry_id: str, revocation: Revocation) -> Callable[[Tx], tuple[ListEntry, int]]:
        """Mark an entry revoked; an entry already revoked is refused naming that revocation."""

        def apply(tx: Tx) -> tuple[ListEntry, int]:
            state = state_of(tx)
            entry = _existing(state, entry_id)
            if (old := entry.revocation) is not None:
                raise FailedPrecondition(
                    f"entry {entry_id} is already revoked since {utc(old.at).isoformat()} "
                    f"({old.kind}, document {old.document_no}: {old.reason[:80]}); "
                    "reinstate it first to record another revocation"
                )
            revoked = dataclasses.replace(
                entry, revocation=dataclasses.replace(revocation, at=utc(revocation.at))
            )
            state.entries[entry_id] = revoked
            return revoked, _bump_version(state)

        return apply

    @staticmethod
    def reinstate_change(
        entry_id: str, at: dt.datetime, reason: str, document_no: str
    ) -> Callable[[Tx], tuple[ListEntry, int]]:
        """Bring a revoked entry back in force from `at`, naming the revocation it lifts."""

        def apply(tx: Tx) -> tuple[ListEntry, int]:
            state = state_of(tx)
            entry = _existing(state, entry_id)
            if (lifted := entry.revocation) is None:
                raise FailedPrecondition(f"entry {entry_id} is not revoked: there is nothing to reinstate")
            reinstated = dataclasses.replace(
                entry,
                revocation=None,
                reinstatement=Reinstatement(utc(at), reason, document_no, lifted.at, lifted.document_no),
            )
            state.entries[entry_id] = reinstated
            return reinstated, _bump_version(state)

        return apply


def _existing(state: State, entry_id: str) -> ListEntry:
    entry = state.entries.get(entry_id)
    if entry is None:
        raise NotFound(f"entry {entry_id!r} does not exist")
    return entry


def _bump_version(state: State, confirmed_at: dt.datetime | None = None) -> int:
    """Advance the data version; only the source feed (an upsert) confirms the data."""
    state.version += 1
    if confirmed_at is not None:
        state.confirmed = utc(confirmed_at)
    return state.version
