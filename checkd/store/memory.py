"""An in-memory twin of the store's read Protocols, for contract tests and tests of the pure core.

It holds to the same contract as the SQL repositories (tests/integration/test_store_contract.py)
without a database, the way OPA keeps `storage/inmem` beside its disk store.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator

from checkd.model import ListEntry


class MemoryEntries:
    """EntryReader over a dict: each `upsert` replaces entries by id and is one new data version."""

    def __init__(self) -> None:
        self._entries: dict[str, ListEntry] = {}
        self._version = 0
        self._confirmed: dt.datetime | None = None
        self._lock = threading.Lock()  # a snapshot reload may read while a test writes

    def upsert(self, entries: Iterable[ListEntry], now: dt.datetime) -> int:
        """Insert or replace entries, confirming the data at `now`; return the new data version."""
        with self._lock:
            for entry in entries:
                self._entries[entry.entry_id] = entry
            self._version += 1
            self._confirmed = now
            return self._version

    def data_version(self) -> int:
        """The current data version (0 when nothing was ever written)."""
        return self._version

    def data_state(self) -> tuple[int, dt.datetime | None]:
        """The data version and when the data was last confirmed."""
        with self._lock:
            return self._version, self._confirmed

    def count(self) -> int:
        """How many entries are held."""
        return len(self._entries)

    def get(self, entry_id: str) -> ListEntry | None:
        """One entry by id."""
        return self._entries.get(entry_id)

    def for_subject(self, key: str, org_code: str) -> list[ListEntry]:
        """Every entry naming the subject or relating a person with that key to it, by start date."""
        with self._lock:
            found = [
                e
                for e in self._entries.values()
                if key in (e.subject_key, e.registration_no)
                or any(p.subject_key == key for p in e.related)
                or (org_code and e.org_code == org_code)
            ]
        return sorted(found, key=lambda e: e.start)

    def iter_all(self) -> Iterator[ListEntry]:
        """Every entry, from a copy taken now."""
        with self._lock:
            entries = list(self._entries.values())
        return iter(entries)
