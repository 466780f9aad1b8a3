"""The ledger writer's rows equal those SQLAlchemy's own insert stores, on the bench mix (both backends)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import insert, text

from bench.mix import Mix
from checkd.decide.engine import decide
from checkd.evidence import answers
from checkd.evidence.ledger import Ledger
from checkd.loop.checks import request_fingerprint
from checkd.model import RecordKind
from checkd.server import convert
from checkd.store import Database, FeedbackRef, LedgerRecord, LedgerRepository, OutcomeFact
from checkd.store.tables import CheckRow, FeedbackOutcomeRow, FeedbackRow, LedgerRow
from tests.conftest import pg_database
from tests.daemon import ROOT
from tests.factories import sample_world

NOW = dt.datetime(2026, 11, 30, 9, 15, 30, 123456, tzinfo=dt.UTC)
TABLES = {
    "ledger": "seq",
    "checks": "check_id",
    "feedback": "feedback_id",
    "feedback_outcomes": "id",
}


class Capturing:
    """A ChainStore that keeps every record the writer appended (what the reference store is given)."""

    def __init__(self, repository: LedgerRepository) -> None:
        self._repository = repository
        self.records: list[LedgerRecord] = []
        self.batches = 0

    def append(self, chain: Any) -> list[LedgerRecord]:
        records = self._repository.append(chain)
        self.records.extend(records)
        self.batches += 1
        return records

    def commit_change(self, work: Any) -> Any:
        return self._repository.commit_change(work)


def _reference_insert(database: Database, records: Sequence[LedgerRecord]) -> None:
    """The rows as the writer built them before (dicts bound by SQLAlchemy's executemany)."""
    ledger = [
        {
            "seq": r.seq,
            "kind": r.kind,
            "ref_id": r.ref_id,
            "recorded_at": r.recorded_at,
            "payload": r.payload,
            "prev_hash": r.prev_hash,
            "hash": r.hash,
        }
        for r in records
    ]
    checks = [
        {
            "check_id": c.check_id,
            "department": c.department,
            "request_id": c.request_id,
            "matter": c.matter,
            "scene": c.scene,
            "verdict": c.verdict,
            "recorded_at": r.recorded_at,
            "seq": r.seq,
            "subjects": c.subjects,
            "subjects_hit_penalty": c.subjects_hit_penalty,
            "subjects_hit_reward": c.subjects_hit_reward,
            "measures_mandatory": c.measures_mandatory,
            "measures_discretionary": c.measures_discretionary,
            "has_penalty": c.has_penalty,
            "request_fingerprint": c.fingerprint,
        }
        for r in records
        if (c := r.check) is not None
    ]
    feedback = [
        {
            "feedback_id": f.feedback_id,
            "check_id": f.check_id,
            "digest": f.digest,
            "recorded_at": r.recorded_at,
            "seq": r.seq,
        }
        for r in records
        if (f := r.feedback) is not None
    ]
    outcomes = [
        {
            "feedback_id": f.feedback_id,
            "check_id": f.check_id,
            "measure_id": o.measure_id,
            "subject_id": o.subject_id,
            "outcome": o.outcome,
            "action": o.action,
            "recorded_at": r.recorded_at,
        }
        for r in records
        if (f := r.feedback) is not None
        for o in f.outcomes
    ]
    with database.transaction() as session:
        for table, rows in (
            (LedgerRow, ledger),
            (CheckRow, checks),
            (FeedbackRow, feedback),
            (FeedbackOutcomeRow, outcomes),
        ):
            if rows:
                session.execute(insert(table), rows)


def _dump(database: Database, sqlite: bool) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the ledger's tables with, on SQLite, each value's storage class."""
    dumped = {}
    with database.engine.connect() as connection:
        for table, key in TABLES.items():
            columns = [
                c[0] for c in connection.execute(text(f"SELECT * FROM {table} LIMIT 0")).cursor.description
            ]
            shown = ", ".join(columns + ([f"typeof({c})" for c in columns] if sqlite else []))
            rows = connection.execute(text(f"SELECT {shown} FROM {table} ORDER BY {key}"))
            dumped[table] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]
    return dumped


def _mix_records(count: int) -> list[tuple[RecordKind, str, bytes, Any, Any]]:
    """Check records of the bench mix as the Checker drafts them, and a feedback on every third hit."""
    world = sample_world(NOW)
    catalogue, keyer, population, index = world.catalogue, world.keyer, world.population, world.index
    items: list[tuple[RecordKind, str, bytes, Any, Any]] = []
    hits = 0
    for number, request in enumerate(Mix(population, ROOT / "rules", seed=3).requests(count)):
        if number % 9 == 4:
            request.ClearField("request_id")  # NULL request_id rows
        case = convert.check_case(request, catalogue, keyer, NOW)
        decision = decide(case, index, catalogue, NOW)
        check_id = f"{number:032x}"
        draft = answers.draft_check(
            decision,
            catalogue,
            check_id,
            request.request_id,
            case.as_of,
            0,
            department=case.department,
            matter=case.matter,
            scene=case.scene,
            fingerprint=request_fingerprint(case, False),
        )
        items.append((RecordKind.CHECK, check_id, draft.record, draft.ref, None))
        measures = [(s.query.display_id, m.measure) for s in decision.subjects for m in s.measures]
        if measures:
            hits += 1
            if hits % 3 == 0:
                facts = tuple(
                    OutcomeFact(m.measure_id, shown, "applied", m.action.value) for shown, m in measures
                )
                ref = FeedbackRef(f"f{number:031x}", check_id, f"{number:064x}", facts)
                items.append((RecordKind.FEEDBACK, check_id, b"feedback-%d" % number, None, ref))
    assert hits > 20  # the mix reached checks that pushed measures, so feedback rows were written
    return items


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_stores(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    """Two fresh stores of one backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/new.db", f"sqlite:///{tmp_path}/reference.db"
        return
    first = pg_database()
    second = pg_database()
    yield next(first), next(second)
    for generator in (first, second):
        next(generator, None)


def test_the_writer_stores_the_rows_sqlalchemy_stores(two_stores: tuple[str, str]) -> None:
    """Records of the bench mix through the real writer vs the same records through SQLAlchemy's insert."""
    new_url, reference_url = two_stores
    items = _mix_records(1500)
    new_db = Database(new_url)
    store = Capturing(LedgerRepository(new_db))
    ledger = Ledger(store, lambda: NOW, max_batch=64)  # type: ignore[arg-type]  # a wrapper of the repository
    ledger.start()
    try:
        futures = [
            ledger.submit(kind, ref_id, payload, check=check, feedback=feedback)
            for kind, ref_id, payload, check, feedback in items
        ]
        for future in futures:
            future.result(timeout=60)
    finally:
        ledger.close()
    assert store.batches > 1 and len(store.records) == len(items)
    reference_db = Database(reference_url)
    try:
        _reference_insert(reference_db, store.records)
        sqlite = new_db.is_sqlite
        new, reference = _dump(new_db, sqlite), _dump(reference_db, sqlite)
    finally:
        new_db.close()
        reference_db.close()
    assert [len(new[t]) for t in TABLES] == [len(reference[t]) for t in TABLES]
    assert len(new["feedback_outcomes"]) > 20 and any(row[2] is None for row in new["checks"])
    for table in TABLES:
        assert new[table] == reference[table], table
