"""The compact index (snapshot file + overlay) answers every lookup as the dict index does."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.mix import Mix
from bench.synth import BENCH_SECRET, SCALES, Population
from checkd.decide import snapshot_file
from checkd.decide.dict_index import DictIndex
from checkd.decide.engine import decide
from checkd.decide.index import Index
from checkd.decide.snapshot_file import SnapshotRefused, open_file, read_header, write_file
from checkd.decide.snapshots import Snapshots
from checkd.loop.interchange import parse_entries
from checkd.model import (
    CheckCase,
    EntryHit,
    ListEntry,
    Reinstatement,
    RelatedPerson,
    Revocation,
    RevokeKind,
    Role,
    SubjectQuery,
    SubjectType,
)
from checkd.rules.catalogue import Catalogue, load_catalogue
from checkd.server import convert
from checkd.subjects.keys import SubjectKeyer
from tests.daemon import ROOT

NOW = dt.datetime(2026, 11, 30, 9, 15, 30, 123456, tzinfo=dt.UTC)
Hits = list[tuple[ListEntry, str, Role]]


@dataclasses.dataclass
class World:
    """The sample population's entries, the catalogue, and the queries to ask."""

    entries: list[ListEntry]
    catalogue: Catalogue
    queries: list[SubjectQuery]
    cases: list[CheckCase]


@pytest.fixture(scope="module")
def world() -> World:
    """Sample entries; queries from 3,000 requests of the bench mix and from every key of every entry."""
    catalogue = load_catalogue(ROOT / "rules")
    keyer = SubjectKeyer(BENCH_SECRET.encode())
    population = Population(SCALES["sample"], seed=1)
    rows = (("synth", json.loads(line)) for line in population.entries())
    entries = parse_entries(rows, catalogue, keyer)
    requests = Mix(population, ROOT / "rules", seed=7).requests(3000)
    cases = [convert.check_case(r, catalogue, keyer, NOW) for r in requests]
    queries = [q for case in cases for q in case.subjects]
    queries += _key_queries(entries)
    return World(entries, catalogue, queries, cases)


def _key_queries(entries: list[ListEntry]) -> list[SubjectQuery]:
    """A query for every key an entry sits under: its subject, registration number, code, persons."""
    queries = []
    for e in entries:
        queries.append(
            SubjectQuery(0, e.subject_key, e.display_id, e.org_code, e.subject_type, Role.SUBJECT, "")
        )
        if e.registration_no:
            queries.append(
                SubjectQuery(0, e.registration_no, e.registration_no, "", e.subject_type, Role.SUBJECT, "")
            )
        if e.org_code:
            queries.append(
                SubjectQuery(0, e.org_code, e.org_code, e.org_code, e.subject_type, Role.SUBJECT, "")
            )
        for p in e.related:
            queries.append(SubjectQuery(0, p.subject_key, p.masked_id, "", SubjectType.PERSON, p.role, ""))
    return queries


def _hits(found: list[EntryHit]) -> Hits:
    return [(h.entry, h.label, h.role) for h in found]


def _assert_same(reference: DictIndex, index: Index, queries: list[SubjectQuery]) -> None:
    assert index.size == reference.size
    assert index.version == reference.version
    for query in queries:
        assert _hits(index.lookup(query)) == _hits(reference.lookup(query)), query


def _changes(entries: list[ListEntry]) -> Iterator[list[ListEntry]]:
    """Revocations, reinstatements, re-keyed and new entries, and entries changed twice."""
    at = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
    revoked = [
        dataclasses.replace(e, revocation=Revocation(at, "修复", "D-1", RevokeKind.REPAIR))
        for e in entries[:40]
    ]
    yield revoked
    yield [
        dataclasses.replace(
            e,
            revocation=None,
            reinstatement=Reinstatement(at + dt.timedelta(days=3), "复原", "D-2", at, "D-1"),
        )
        for e in revoked[:15]
    ]
    person = (
        RelatedPerson(Role.ACTUAL_CONTROLLER, entries[7].related[0].subject_key, "m", "某人")
        if any(entries[7].related)
        else RelatedPerson(Role.ACTUAL_CONTROLLER, "p:new", "m", "某人")
    )
    yield [
        dataclasses.replace(
            entries[100], subject_key=entries[200].subject_key, org_code=entries[200].org_code
        ),
        dataclasses.replace(entries[101], related=(person,)),
        dataclasses.replace(entries[102], entry_id="NEW-1"),
        dataclasses.replace(entries[103], entry_id="NEW-2", registration_no="330402000099999"),
    ]
    yield [
        dataclasses.replace(entries[100], subject_name="又改了"),
        dataclasses.replace(entries[104], end=None),
    ]
    yield [
        dataclasses.replace(entries[5], revocation=Revocation(at, "异议", "D-3", RevokeKind.OBJECTION))
    ] * 2


def test_every_lookup_equals_the_dict_index_before_and_after_changes(world: World, tmp_path: Path) -> None:
    """In memory and from a file: the same hits in the same order, after each change too."""
    reference = DictIndex(world.entries, "d7", NOW)
    path = tmp_path / "index.snap"
    write_file(world.entries, path, "store-1", 7)
    for index in (Index(world.entries, "d7", NOW), Index.open(path, "store-1", 7, NOW)):
        _assert_same(reference, index, world.queries)
        ref, new = reference, index
        extra: list[SubjectQuery] = []
        for number, change in enumerate(_changes(world.entries), start=8):
            ref = ref.updated(change, f"d{number}", NOW)
            new = new.updated(change, f"d{number}", NOW)
            extra += _key_queries(change)
            _assert_same(ref, new, world.queries + extra)
        for case in world.cases:  # the engine's decisions too, over the changed index
            assert decide(case, new, world.catalogue, NOW) == decide(case, ref, world.catalogue, NOW)  # type: ignore[arg-type]


def test_a_hash_shared_by_many_keys_gives_no_wrong_hit(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every key hashed to one of three values: the decoded entries sort the hits out."""
    monkeypatch.setattr(snapshot_file, "_crc", lambda data: 1 + len(data) % 3)
    entries = world.entries[:400]
    queries = [
        *_key_queries(entries),
        SubjectQuery(0, "91330402MA00000000", "", "MA0000000", SubjectType.ENTERPRISE, Role.SUBJECT, ""),
        SubjectQuery(0, "p:nobody", "", "", SubjectType.PERSON, Role.SUBJECT, ""),
    ]
    _assert_same(DictIndex(entries, "d1", NOW), Index(entries, "d1", NOW), queries)


@pytest.mark.parametrize("shared_hashes", [False, True], ids=["own-hashes", "three-hashes"])
def test_a_key_table_built_bucket_by_bucket_gives_the_same_hits(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_hashes: bool
) -> None:
    """Tiny buckets (a national file's many): every key's hits, in order, as the dict index gives them."""
    monkeypatch.setattr(snapshot_file, "BUCKET_PAIRS", 16)
    if shared_hashes:
        monkeypatch.setattr(snapshot_file, "_crc", lambda data: 1 + len(data) % 3)
    path = tmp_path / "index.snap"
    write_file(world.entries, path, "store-1", 7)
    queries = [*_key_queries(world.entries), *world.queries]
    _assert_same(DictIndex(world.entries, "d7", NOW), Index.open(path, "store-1", 7, NOW), queries)


def test_a_hot_entry_comes_back_as_the_same_object(world: World) -> None:
    """The answer fragments are cached by entry identity: two lookups give the very same entry."""
    index = Index(world.entries, "d1", NOW)
    query = _key_queries(world.entries[:1])[0]
    first, second = index.lookup(query), index.lookup(query)
    assert first and all(a.entry is b.entry for a, b in zip(first, second, strict=True))
    changed = index.updated([dataclasses.replace(world.entries[-1], subject_name="x")], "d2", NOW)
    assert changed.lookup(query)[0].entry is first[0].entry  # an update keeps the base's objects


def test_a_damaged_or_foreign_file_is_refused(world: World, tmp_path: Path) -> None:
    """Truncated, flipped, of another store or data version, or no snapshot at all: never opened."""
    path = tmp_path / "index.snap"
    header = write_file(world.entries[:300], path, "store-1", 3)
    assert read_header(path) == header
    open_file(path, "store-1", 3)
    with pytest.raises(SnapshotRefused, match="another store"):
        open_file(path, "store-2", 3)
    with pytest.raises(SnapshotRefused, match="data version"):
        open_file(path, "store-1", 4)
    data = path.read_bytes()
    (tmp_path / "short").write_bytes(data[:-10])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x40
    (tmp_path / "flipped").write_bytes(bytes(flipped))
    (tmp_path / "foreign").write_bytes(b"SQLite format 3\0" + bytes(5000))
    (tmp_path / "empty").write_bytes(b"")
    for name, reason in [
        ("short", "bytes"),
        ("flipped", "damaged"),
        ("foreign", "not an index"),
        ("empty", "not an index"),
        ("absent", "no snapshot"),
    ]:
        with pytest.raises(SnapshotRefused, match=reason):
            open_file(tmp_path / name, "store-1", 3)


class _Reader:
    """The store as Snapshots reads it: a fixed list of entries at one data version."""

    def __init__(self, entries: list[ListEntry], version: int) -> None:
        self.entries = entries
        self.version = version
        self.reads = 0

    def data_version(self) -> int:
        return self.version

    def data_state(self) -> tuple[int, dt.datetime | None]:
        return self.version, NOW

    def count(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> ListEntry | None:
        return next((e for e in self.entries if e.entry_id == entry_id), None)

    def for_subject(self, key: str, org_code: str) -> list[ListEntry]:
        raise NotImplementedError

    def iter_all(self) -> Iterator[ListEntry]:
        self.reads += 1
        return iter(self.entries)


def test_snapshots_use_a_matching_file_and_rebuild_a_bad_one(world: World, tmp_path: Path) -> None:
    """The first load writes the file, the next uses it; a damaged or stale one is rebuilt, not served."""
    entries = world.entries[:500]
    path = tmp_path / "store.db.index"
    reader = _Reader(entries, 5)

    def loaded() -> Index:
        snapshots = Snapshots(ROOT / "rules", reader, lambda: NOW, index_file=path, store="s1")
        return snapshots.reload().index

    reference = DictIndex(entries, "d5", NOW)
    queries = _key_queries(entries)
    _assert_same(reference, loaded(), queries)
    assert reader.reads == 1 and read_header(path).data_version == 5
    _assert_same(reference, loaded(), queries)
    assert reader.reads == 1  # the file served, the store was not read
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    _assert_same(reference, loaded(), queries)
    assert reader.reads == 2  # refused and rebuilt
    open_file(path, "s1", 5)  # and the rebuilt file is whole
    reader.version = 6
    _assert_same(DictIndex(entries, "d6", NOW), loaded(), queries)
    assert reader.reads == 3 and read_header(path).data_version == 6


def test_lookups_stay_right_when_the_kept_entries_are_evicted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only four decoded entries and keys kept: every lookup still equals the dict index's."""
    monkeypatch.setattr(snapshot_file, "DECODED_KEPT", 4)
    entries = world.entries[:600]
    index = Index(entries, "d1", NOW)
    _assert_same(DictIndex(entries, "d1", NOW), index, _key_queries(entries))
    assert len(index._base._decoded) <= 4 and len(index._base._resolved) <= 4


def test_the_kept_entries_and_keys_are_the_newest(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once full, each memory drops its oldest: the entries and keys used last stay, as the same objects."""
    monkeypatch.setattr(snapshot_file, "DECODED_KEPT", 4)
    entries = world.entries[:600]
    snapshot = Index(entries, "d1", NOW)._base
    first = [snapshot.entry(ordinal) for ordinal in range(6)]
    assert list(snapshot._decoded) == [2, 3, 4, 5]
    assert snapshot.entry(5) is first[5] and snapshot.entry(2) is first[2]
    keys = list(dict.fromkeys(entry.subject_key for entry in entries))[:6]  # six distinct subjects
    for key in keys:
        snapshot.find(key)
    assert [kept_key for kept_key, _ in snapshot._resolved.values()] == keys[2:]
