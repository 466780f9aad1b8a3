"""Changes made by another process: announced payloads, followed incrementally, required versions."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest

from checkd.decide.snapshots import Snapshots
from checkd.errors import DataStale, Unavailable
from checkd.model import ListEntry, SourceLevel, SubjectType
from checkd.store.changes import PAYLOAD_LIMIT, DataChange, parse
from checkd.store.memory import MemoryEntries, MemoryStore
from checkd.typing import utc_now

ROOT = Path(__file__).resolve().parents[2]


def _entry(entry_id: str) -> ListEntry:
    return ListEntry(
        entry_id=entry_id,
        subject_key=f"91330402MA{entry_id[-8:]:0>8}",
        display_id=entry_id,
        subject_type=SubjectType.ENTERPRISE,
        subject_name="某公司",
        list_id="serious_illegal_dishonest",
        authority="a",
        document_no="d",
        level=SourceLevel.MUNICIPAL,
        start=dt.date(2025, 9, 1),
        end=None,
        reason="r",
    )


class _Entries(MemoryEntries):
    """The in-memory store's entries, with an upsert committed as another process would."""

    def __init__(self) -> None:
        self._memory = MemoryStore()
        super().__init__(self._memory)

    def upsert(self, entries: list[ListEntry], now: dt.datetime) -> int:
        with self._memory.transaction() as tx:
            return self.upsert_change(entries, now)(tx).version


def _loaded() -> tuple[_Entries, Snapshots]:
    entries = _Entries()
    entries.upsert([_entry("E-1")], utc_now())
    snapshots = Snapshots(ROOT / "rules", entries, utc_now)
    snapshots.reload()
    return entries, snapshots


def test_the_next_version_is_applied_from_the_changed_entries_only() -> None:
    """The version after the one held comes in through the changed entries, read only then."""
    entries, snapshots = _loaded()
    read: list[str] = []
    version = entries.upsert([_entry("E-2")], utc_now())

    def changed() -> list[ListEntry]:
        read.append("E-2")
        return [_entry("E-2")]

    assert snapshots.follow(version, changed)
    assert read == ["E-2"]
    assert snapshots.current.index.version == f"d{version}" and snapshots.current.index.size == 2
    assert not snapshots.follow(version, changed)  # held already: nothing read, nothing swapped
    assert read == ["E-2"]


def test_a_gap_in_the_versions_rebuilds_from_the_store() -> None:
    """Two versions ahead (an announcement missed): the index is rebuilt, not patched."""
    entries, snapshots = _loaded()
    entries.upsert([_entry("E-2")], utc_now())
    version = entries.upsert([_entry("E-3")], utc_now())
    assert snapshots.follow(version, lambda: [_entry("E-3")])
    assert snapshots.current.index.size == 3  # E-2 too: the store was read whole


def test_a_required_version_not_reached_is_data_stale_after_the_wait() -> None:
    """A version nobody reaches: DataStale (an Unavailable) naming both versions, after the wait."""
    _, snapshots = _loaded()
    with pytest.raises(DataStale) as caught:
        snapshots.require(5, wait=0.05)
    assert isinstance(caught.value, Unavailable)
    assert "d5 is required" in caught.value.message and "holds d1" in caught.value.message
    snapshots.require(1, wait=0)  # held: no wait, no error


def test_a_waiting_caller_is_released_by_the_swap() -> None:
    """A caller waiting for a version returns as soon as another thread swaps it in."""
    entries, snapshots = _loaded()
    version = entries.upsert([_entry("E-2")], utc_now())
    released = threading.Event()

    def wait() -> None:
        snapshots.require(version, wait=30)
        released.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    snapshots.follow(version, lambda: [_entry("E-2")])
    waiter.join(30)
    assert released.is_set()


def test_payloads_are_read_back_and_unreadable_ones_refused() -> None:
    """What announce writes, parse reads; anything else is None, never an exception."""
    change = parse(json.dumps({"version": 7, "reload": False, "origin": "x", "entries": ["a", "b"]}))
    assert change == DataChange(7, ("a", "b"), False, "x")
    assert parse(json.dumps({"version": 8})) == DataChange(8, None)
    for bad in ("", "not json", "[]", json.dumps({"entries": []}), json.dumps({"version": "x"})):
        assert parse(bad) is None, bad
    assert PAYLOAD_LIMIT < 8000  # PostgreSQL refuses a payload of 8000 bytes or more
