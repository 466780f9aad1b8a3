"""One contract for the store's Protocols: the same cases on the in-memory twin, SQLite and PostgreSQL.

Each backend is given as the Protocols the layers declare (decide/storage.py, evidence/storage.py,
loop/storage.py): what passes here on all three is what the use cases may rely on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from checkd.decide.storage import EntryReader
from checkd.errors import FailedPrecondition, NotFound
from checkd.evidence.ledger import Ledger, chain_hash
from checkd.evidence.storage import ChainStore
from checkd.loop.interchange import parse_entries
from checkd.loop.storage import AnswerReader, EntryWriter, StatsReader
from checkd.model import ListEntry, RecordKind, Revocation, RevokeKind
from checkd.rules.catalogue import load_catalogue
from checkd.store import (
    CheckRef,
    Database,
    DuplicateKey,
    EntryRepository,
    FeedbackRef,
    LedgerRecord,
    LedgerRepository,
    OutcomeFact,
    Tx,
)
from checkd.store.memory import MemoryEntries, MemoryLedger, MemoryStats, MemoryStore
from checkd.store.stats import Figures, StatsRepository
from checkd.subjects.keys import SubjectKeyer
from tests import factories
from tests.conftest import pg_database
from tests.daemon import ROOT

KEYER = SubjectKeyer(b"contract" * 4)
NOW = dt.datetime(2026, 6, 1, 2, 30, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


class Backend(NamedTuple):
    """One store seen through the Protocols: its entries, its ledger, its statistics."""

    entries: EntryReader
    registry: EntryWriter
    chain: ChainStore
    answers: AnswerReader
    stats: StatsReader

    def write(self, entries: list[ListEntry], now: dt.datetime) -> int:
        """Upsert entries as the registry does (a change committed with no record); the new version."""
        result, _ = self.chain.commit_change(
            lambda tx, _head: (self.registry.upsert_change(entries, now)(tx), [])
        )
        return result.version

    def change(self, change: Any) -> Any:
        """Commit one registry change on the ledger's transaction; its result."""
        result, _ = self.chain.commit_change(lambda tx, _head: (change(tx), []))
        return result


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """An empty store of each kind (the twin, SQLite, PostgreSQL)."""
    if request.param == "memory":
        twin = MemoryStore()
        entries, ledger = MemoryEntries(twin), MemoryLedger(twin)
        yield Backend(entries, entries, ledger, ledger, MemoryStats(twin))
        return
    urls = iter([f"sqlite:///{tmp_path / 'checkd.db'}"]) if request.param == "sqlite" else pg_database()
    database = Database(next(urls))
    repository, records = EntryRepository(database), LedgerRepository(database)
    try:
        yield Backend(repository, repository, records, records, StatsRepository(database))
    finally:
        database.close()
        for _ in urls:  # the PostgreSQL database is dropped when its generator finishes
            pass


def _entries() -> list[ListEntry]:
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
    return parse_entries(((f"row:{i}", row) for i, row in enumerate(rows, 1)), catalogue, KEYER)


# ------------------------------------------------------------------ entries


def test_an_empty_store_has_version_zero_and_nothing_in_it(store: Backend) -> None:
    """Before any write: version 0, never confirmed, no entries, an empty chain."""
    reader = store.entries
    assert reader.data_state() == (0, None) and reader.data_version() == 0
    assert reader.count() == 0 and list(reader.iter_all()) == [] and reader.get("C-1") is None
    assert store.chain.head() == (0, "") and list(store.chain.iter_records()) == []


def test_written_entries_read_back_the_same(store: Backend) -> None:
    """A write is one new version confirmed at its instant; every entry reads back field for field."""
    reader = store.entries
    entries = _entries()
    version = store.write(entries, NOW)
    assert reader.data_state() == (version, NOW) and version == reader.data_version() >= 1
    assert reader.count() == 3
    assert sorted(reader.iter_all(), key=lambda e: e.entry_id) == sorted(entries, key=lambda e: e.entry_id)
    assert reader.get("C-2") == next(e for e in entries if e.entry_id == "C-2")
    assert store.write(entries[:1], NOW + HOUR) == version + 1
    assert reader.data_state() == (version + 1, NOW + HOUR)


def test_a_subject_finds_its_entries_and_relations(store: Backend) -> None:
    """for_subject: by the subject's key, by a related person's key, by start date; others apart."""
    entries = _entries()
    store.write(entries, NOW)
    by_id = {e.entry_id: e for e in entries}
    for reader in (store.entries, store.registry):
        company_key = by_id["C-1"].subject_key
        assert [e.entry_id for e in reader.for_subject(company_key, "")] == ["C-1", "C-2"]
        person_key = by_id["C-2"].related[0].subject_key
        assert [e.entry_id for e in reader.for_subject(person_key, "")] == ["C-2"]
        assert [e.entry_id for e in reader.for_subject("no-such-key", "")] == []
        assert [e.entry_id for e in reader.for_subject("no-such-key", by_id["O-1"].org_code)] == ["O-1"]


def test_revoke_and_reinstate_follow_the_office_rules(store: Backend) -> None:
    """Revoke once, refuse a second revocation, keep it through the feed, reinstate naming what it lifted."""
    entries = _entries()
    version = store.write(entries, NOW)
    revocation = Revocation(NOW + HOUR, "credit repaired", "XF-1", RevokeKind.OBJECTION)
    revoked, revoked_version = store.change(store.registry.revoke_change("C-1", revocation))
    assert revoked_version == version + 1 and revoked.revocation == revocation
    assert store.entries.get("C-1") == revoked
    # Only the feed confirms the data: a revocation changes it without saying the source is alive.
    assert store.entries.data_state() == (version + 1, NOW)

    with pytest.raises(FailedPrecondition) as again:
        store.change(store.registry.revoke_change("C-1", dataclasses.replace(revocation, reason="twice")))
    assert str(again.value.message) == (
        f"entry C-1 is already revoked since {(NOW + HOUR).isoformat()} (objection, document XF-1: "
        "credit repaired); reinstate it first to record another revocation"
    )
    with pytest.raises(NotFound, match="'no-such' does not exist"):
        store.change(store.registry.revoke_change("no-such", revocation))
    assert store.entries.data_version() == version + 1  # the refusals changed nothing

    kept = store.chain.commit_change(
        lambda tx, _head: (store.registry.upsert_change(entries, NOW + 2 * HOUR)(tx), [])
    )
    result = kept[0]
    assert [e.entry_id for e in result.kept_revoked] == ["C-1"]
    assert store.entries.get("C-1") == revoked  # the feed does not undo the office's act

    reinstated, _ = store.change(
        store.registry.reinstate_change("C-1", NOW + 3 * HOUR, "objection lost", "XF-2")
    )
    assert reinstated.revocation is None and reinstated.reinstatement is not None
    assert (reinstated.reinstatement.at, reinstated.reinstatement.lifted_at) == (NOW + 3 * HOUR, NOW + HOUR)
    assert reinstated.reinstatement.lifted_document_no == "XF-1"
    assert store.entries.get("C-1") == reinstated
    with pytest.raises(FailedPrecondition, match="C-1 is not revoked: there is nothing to reinstate"):
        store.change(store.registry.reinstate_change("C-1", NOW, "again", "XF-3"))
    with pytest.raises(FailedPrecondition, match="O-1 is not revoked"):
        store.change(store.registry.reinstate_change("O-1", NOW, "never revoked", "XF-4"))


# ------------------------------------------------------------------ the chain


def _append(store: Backend, records: Sequence[LedgerRecord]) -> list[LedgerRecord]:
    """Append records chained beforehand (on the head they name, stale or not)."""
    return store.chain.append(lambda _head: records)


def _chained(
    head: tuple[int, str], items: list[tuple[RecordKind, str, bytes, Any]], at: dt.datetime
) -> list[LedgerRecord]:
    """Records chained on `head`, each with its lookup facts (a CheckRef or a FeedbackRef)."""
    seq, prev = head
    records = []
    for kind, ref_id, payload, ref in items:
        seq += 1
        digest = chain_hash(prev, seq, kind.value, ref_id, at, payload)
        records.append(
            LedgerRecord(
                seq,
                kind.value,
                ref_id,
                at,
                payload,
                prev,
                digest,
                check=ref if isinstance(ref, CheckRef) else None,
                feedback=ref if isinstance(ref, FeedbackRef) else None,
            )
        )
        prev = digest
    return records


def _check(check_id: str, department: str, request_id: str | None, **figures: Any) -> CheckRef:
    return CheckRef(check_id, department, request_id, "matter-a", "scene-a", "pass", **figures)


def _feedback(
    feedback_id: str, check_id: str, *outcomes: tuple[str, str, str, str], digest: str = ""
) -> FeedbackRef:
    outcome_facts = tuple(OutcomeFact(*o) for o in outcomes)
    return FeedbackRef(feedback_id, check_id, digest or f"digest-{feedback_id}", outcome_facts)


def test_appended_records_read_back_by_every_lookup(store: Backend) -> None:
    """A batch appends atomically; the chain, checks and feedback read back by seq, id, request and digest."""
    batch = _chained(
        (0, ""),
        [
            (RecordKind.CHECK, "k1", b"answer-1", _check("k1", "tax", "req-1")),
            (RecordKind.CHECK, "k2", b"answer-2", _check("k2", "tax", None)),
            (RecordKind.FEEDBACK, "k1", b"feedback-1", _feedback("f1", "k1")),
            (RecordKind.ADMIN, "a1", b'{"action": "reload"}', None),
        ],
        NOW,
    )
    _append(store, batch)
    bare = [dataclasses.replace(r, check=None, feedback=None) for r in batch]  # as stored: no lookup facts
    assert store.chain.head() == (4, batch[-1].hash)
    assert (
        list(store.chain.iter_records()) == bare and list(store.chain.iter_records(after_seq=2)) == bare[2:]
    )
    assert store.answers.check_payload("k1") == b"answer-1" and store.answers.check_payload("nope") is None
    assert store.answers.check_record_by_request("tax", "req-1") == bare[0]
    assert store.answers.check_record_by_request("customs", "req-1") is None
    assert store.answers.check("k1") == (bare[0], [bare[2]]) and store.answers.check("k2") == (bare[1], [])
    assert store.answers.check("nope") is None
    assert store.answers.feedback_by_digest("k1", "digest-f1") == bare[2]
    assert store.answers.feedback_by_digest("k2", "digest-f1") is None


def test_an_idempotency_key_is_stored_once_and_a_refused_batch_writes_nothing(store: Backend) -> None:
    """A repeated request_id, feedback digest or seq is DuplicateKey, and the whole batch is left out."""
    first = _chained((0, ""), [(RecordKind.CHECK, "k1", b"a", _check("k1", "tax", "req-1"))], NOW)
    _append(store, first)
    head = store.chain.head()
    retried = _chained(
        head,
        [
            (RecordKind.ADMIN, "a1", b"{}", None),
            (RecordKind.CHECK, "k9", b"b", _check("k9", "tax", "req-1")),
        ],
        NOW,
    )
    with pytest.raises(DuplicateKey):
        _append(store, retried)
    assert store.chain.head() == head and store.answers.check("k9") is None
    with pytest.raises(DuplicateKey):  # the same seq again
        _append(store, _chained((0, ""), [(RecordKind.ADMIN, "a2", b"{}", None)], NOW))
    # Another department may use the same request_id, and checks without one never collide.
    _append(
        store,
        _chained(
            head,
            [
                (RecordKind.CHECK, "k2", b"c", _check("k2", "customs", "req-1")),
                (RecordKind.CHECK, "k3", b"d", _check("k3", "tax", None)),
                (RecordKind.CHECK, "k4", b"e", _check("k4", "tax", None)),
                (RecordKind.FEEDBACK, "k2", b"f", _feedback("f1", "k2")),
            ],
            NOW,
        ),
    )
    resent = _feedback("f2", "k2", digest="digest-f1")  # the same content sent again under a new id
    with pytest.raises(DuplicateKey):
        _append(store, _chained(store.chain.head(), [(RecordKind.FEEDBACK, "k2", b"f", resent)], NOW))
    assert store.chain.head()[0] == 5


def test_a_change_and_its_records_commit_together_or_not_at_all(store: Backend) -> None:
    """commit_change: the change is given the head its transaction holds; a refusal changes nothing."""
    entries = _entries()

    def work(tx: Tx, head: tuple[int, str]) -> tuple[Any, list[LedgerRecord]]:
        result = store.registry.upsert_change(entries, NOW)(tx)
        return result, _chained(head, [(RecordKind.ADMIN, "a1", b"{}", None)], NOW)

    result, last = store.chain.commit_change(work)
    assert result.version == store.entries.data_version() and last is not None and last.seq == 1
    assert store.chain.head() == (1, last.hash)

    def refused(tx: Tx, _head: tuple[int, str]) -> tuple[Any, list[LedgerRecord]]:
        store.registry.revoke_change("C-1", Revocation(NOW, "repaired", "XF-1"))(tx)
        return None, _chained((0, ""), [(RecordKind.ADMIN, "a2", b"{}", None)], NOW)  # seq 1 is taken

    with pytest.raises(DuplicateKey):
        store.chain.commit_change(refused)
    assert store.entries.get("C-1") == next(e for e in entries if e.entry_id == "C-1")  # not revoked
    assert store.chain.head() == (1, last.hash) and store.entries.data_version() == result.version


def test_the_ledger_writer_runs_on_every_store(store: Backend) -> None:
    """The real writer (evidence/ledger.py) chains records and registry changes on any ChainStore."""
    ledger = Ledger(store.chain, lambda: NOW)
    ledger.start()
    try:
        check = ledger.append(RecordKind.CHECK, "k1", b"answer", check=_check("k1", "tax", "req-1"))
        upsert, admin = ledger.record_change(
            store.registry.upsert_change(_entries(), NOW), lambda result: [b'{"action": "upsert"}']
        )
        (revoked, _), more = ledger.record_change(
            store.registry.revoke_change("C-1", Revocation(NOW, "repaired", "XF-1")),
            lambda result: [b'{"action": "revoke"}'],
        )
        with pytest.raises(NotFound):  # a refused change is raised to its caller, with no record
            ledger.record_change(
                store.registry.revoke_change("nope", Revocation(NOW, "repaired", "XF-1")),
                lambda result: [b"{}"],
            )
    finally:
        ledger.close()
    assert check.seq == 1 and admin is not None and admin.seq == 2 and admin.prev_hash == check.hash
    assert more is not None and more.seq == 3 and revoked.revocation is not None
    assert store.entries.data_version() == upsert.version + 1 and store.entries.count() == 3
    assert [r.kind for r in store.chain.iter_records()] == ["check", "admin", "admin"]
    assert store.answers.check_record_by_request("tax", "req-1") == dataclasses.replace(check, check=None)


# ------------------------------------------------------------------ statistics


def test_statistics_read_the_same_figures(store: Backend) -> None:
    """window, follow_up and overdue count checks, the latest outcome of each measure, and what is late."""
    day = dt.timedelta(days=1)
    penalty = {"has_penalty": True, "measures_mandatory": 1, "subjects": 2, "subjects_hit_penalty": 1}
    _append(
        store,
        _chained(
            (0, ""),
            [
                (RecordKind.CHECK, "k1", b"one", _check("k1", "tax", None, **penalty)),
                (RecordKind.CHECK, "k2", b"two", _check("k2", "tax", None, **penalty)),
                (
                    RecordKind.CHECK,
                    "k3",
                    b"three",
                    _check("k3", "customs", None, subjects=1, measures_discretionary=1),
                ),
                (RecordKind.CHECK, "k4", b"four", _check("k4", "customs", None, subjects=1)),
            ],
            NOW,
        ),
    )
    _append(
        store,
        _chained(
            store.chain.head(),
            [
                (
                    RecordKind.FEEDBACK,
                    "k1",
                    b"f1",
                    _feedback("f1", "k1", ("m1", "s1", "not_applied", "prohibit")),
                ),
                (
                    RecordKind.FEEDBACK,
                    "k1",
                    b"f2",
                    _feedback("f2", "k1", ("m1", "s1", "applied", "prohibit")),
                ),
            ],
            NOW + day,
        ),
    )
    window = store.stats.window(NOW - day, NOW + day, None, NOW + 40 * day)
    assert window == {
        "tax": Figures(
            checks=2,
            subjects_checked=4,
            subjects_hit_penalty=2,
            measures_mandatory=2,
            feedback_applied=1,  # f2 replaced f1's outcome of the same measure and subject
            checks_missing_feedback=1,
            penalty_checks_overdue=1,
            restrictions_applied=1,
            checks_with_measures=2,
        ),
        "customs": Figures(
            checks=2,
            subjects_checked=2,
            measures_discretionary=1,
            checks_missing_feedback=1,
            checks_with_measures=1,
        ),
    }
    assert store.stats.window(NOW - day, NOW + day, "customs", NOW) == {"customs": window["customs"]}
    assert store.stats.window(NOW + HOUR, NOW + day, None, NOW) == {}
    assert store.stats.follow_up(NOW + 40 * day) == (2, 1) and store.stats.follow_up(NOW) == (2, 0)
    (late,) = store.stats.overdue(NOW + 40 * day, None, 10)
    assert (late.check_id, late.department, late.recorded_at, late.measures, late.payload) == (
        "k2",
        "tax",
        NOW,
        1,
        b"two",
    )
    assert (
        store.stats.overdue(NOW + 40 * day, "customs", 10) == [] and store.stats.overdue(NOW, None, 10) == []
    )
