"""One contract for the store's read Protocols: the same cases on the in-memory twin, SQLite, PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from checkd.loop.interchange import parse_entries
from checkd.model import ListEntry
from checkd.rules.catalogue import load_catalogue
from checkd.store import Database, EntryReader, EntryRepository, Tx
from checkd.store.memory import MemoryEntries
from checkd.subjects.keys import SubjectKeyer
from tests import factories
from tests.conftest import pg_database
from tests.daemon import ROOT

KEYER = SubjectKeyer(b"contract" * 4)
NOW = dt.datetime(2026, 6, 1, 2, 30, tzinfo=dt.UTC)

Writer = Callable[[Sequence[ListEntry], dt.datetime], None]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[EntryReader, Writer]]:
    """An empty EntryReader of each kind (the twin, SQLite, PostgreSQL), with the way to write into it."""
    if request.param == "memory":
        twin = MemoryEntries()
        yield twin, lambda entries, now: twin.upsert(entries, now) and None
        return
    urls = iter([f"sqlite:///{tmp_path / 'checkd.db'}"]) if request.param == "sqlite" else pg_database()
    url = next(urls)
    database = Database(url)
    repository = EntryRepository(database)

    def write(entries: Sequence[ListEntry], now: dt.datetime) -> None:
        with database.transaction() as session:
            EntryRepository.upsert_change(entries, now)(Tx(session))

    try:
        yield repository, write
    finally:
        database.close()
        for _ in urls:  # the PostgreSQL database is dropped when its generator finishes
            pass


def _entries() -> tuple[list[ListEntry], str, str]:
    """Three entries: two about one company (one naming its legal representative), one about another."""
    company, other, person = factories.uscc(), factories.uscc(), factories.resident_id()
    rows = [
        factories.entry_row("C-1", company, "serious_illegal_dishonest", start="2025-01-01"),
        factories.entry_row(
            "C-2",
            company,
            "abnormal_operation",
            start="2025-03-01",
            legal_representative_id=person,
            legal_representative_name="张三",
        ),
        factories.entry_row("O-1", other, "abnormal_operation", start="2025-02-01"),
    ]
    catalogue = load_catalogue(ROOT / "rules")
    entries = parse_entries(((f"row:{i}", row) for i, row in enumerate(rows, 1)), catalogue, KEYER)
    return entries, company, person


def test_an_empty_store_has_version_zero_and_nothing_in_it(store: tuple[EntryReader, Writer]) -> None:
    """Before any write: version 0, never confirmed, no entries."""
    reader, _ = store
    assert reader.data_state() == (0, None) and reader.data_version() == 0
    assert reader.count() == 0 and list(reader.iter_all()) == [] and reader.get("C-1") is None


def test_written_entries_read_back_the_same(store: tuple[EntryReader, Writer]) -> None:
    """A write is one new version confirmed at its instant; every entry reads back field for field."""
    reader, write = store
    entries, _, _ = _entries()
    write(entries, NOW)
    version, confirmed = reader.data_state()
    assert version == reader.data_version() >= 1 and confirmed == NOW
    assert reader.count() == 3
    assert sorted(reader.iter_all(), key=lambda e: e.entry_id) == sorted(entries, key=lambda e: e.entry_id)
    assert reader.get("C-2") == next(e for e in entries if e.entry_id == "C-2")
    write(entries[:1], NOW + dt.timedelta(hours=1))
    assert reader.data_state() == (version + 1, NOW + dt.timedelta(hours=1))


def test_a_subject_finds_its_entries_and_relations(store: tuple[EntryReader, Writer]) -> None:
    """for_subject: by the subject's key, by a related person's key, by start date; others apart."""
    reader, write = store
    entries, _, _ = _entries()
    write(entries, NOW)
    by_id = {e.entry_id: e for e in entries}
    company_key = by_id["C-1"].subject_key
    assert [e.entry_id for e in reader.for_subject(company_key, "")] == ["C-1", "C-2"]
    person_key = by_id["C-2"].related[0].subject_key
    assert [e.entry_id for e in reader.for_subject(person_key, "")] == ["C-2"]
    assert [e.entry_id for e in reader.for_subject("no-such-key", "")] == []
    assert [e.entry_id for e in reader.for_subject("no-such-key", by_id["O-1"].org_code)] == ["O-1"]
