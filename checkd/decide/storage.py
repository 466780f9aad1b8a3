"""What the decision side reads from a store: the list entries its index snapshots are built from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Protocol

from checkd.model import ListEntry


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
