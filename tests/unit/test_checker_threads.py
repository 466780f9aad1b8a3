"""The checker under many threads: recent answers and candidate measures stay consistent while evicting."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import structlog

from checkd.api.v1 import check_pb2 as pb
from checkd.decide.snapshots import Snapshots
from checkd.evidence.ledger import Ledger
from checkd.loop.checks import Checker
from checkd.loop.recent import RecentAnswers
from checkd.rules.catalogue import load_catalogue
from checkd.server import convert
from checkd.store import Database, EntryRepository, LedgerRepository
from checkd.subjects.keys import SubjectKeyer
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
THREADS, PER_THREAD = 8, 150


@pytest.fixture(autouse=True)
def plain_logging() -> None:
    """structlog's defaults: a CLI test run earlier in this process may have bound it to a closed stream."""
    structlog.reset_defaults()


def utc_now() -> dt.datetime:
    """The wall clock in UTC."""
    return dt.datetime.now(dt.UTC)


def _hammer(work: Callable[[int], None], threads: int = 8) -> list[BaseException]:
    """Run work(worker) on several threads at once; every exception raised (any is a failure)."""
    failures: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            work(worker)
        except BaseException as exc:
            failures.append(exc)

    started = [threading.Thread(target=run, args=(w,)) for w in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(120)
    return failures


def test_concurrent_checks_with_a_small_recent_cache_all_succeed_and_stay_idempotent(tmp_path: Path) -> None:
    """Eight threads overflow a 16-answer cache of recent request_ids: no call fails, retries match."""
    database = Database(f"sqlite:///{tmp_path}/checkd.db")
    records = LedgerRepository(database)
    ledger = Ledger(records, utc_now)
    ledger.start()
    snapshots = Snapshots(ROOT / "rules", EntryRepository(database), utc_now)
    snapshots.reload()
    checker = Checker(snapshots, ledger, records, SubjectKeyer(b"k" * 32), utc_now, recent=16)
    subject = factories.uscc()
    answers: dict[str, str] = {}

    def request(request_id: str) -> pb.CheckRequest:
        return pb.CheckRequest(
            request_id=request_id,
            department="market_regulation",
            scene="administrative_licensing",
            subjects=[pb.Subject(id=subject)],
        )

    def answered_id(given: pb.CheckRequest) -> str:
        return pb.CheckResponse.FromString(checker.check(convert.check_input(given)).payload).check_id

    def work(worker: int) -> None:
        for n in range(PER_THREAD):
            request_id = f"t{worker}-{n}"
            answers[request_id] = answered_id(request(request_id))

    assert _hammer(work, THREADS) == []
    assert len(answers) == len(set(answers.values())) == THREADS * PER_THREAD
    for request_id in ("t0-0", "t3-77", f"t{THREADS - 1}-{PER_THREAD - 1}"):  # evicted: from the store
        assert answered_id(request(request_id)) == answers[request_id]
    ledger.close()
    database.close()


def test_recent_answers_evict_safely_under_eight_threads() -> None:
    """A full memory of recent answers written and read by eight threads at once never raises.

    A bare cachetools cache raised KeyError here when two threads evicted at the same time (seen
    in a replay of 400,000 checks: two batches answered INTERNAL).
    """
    recent = RecentAnswers(maxsize=16)

    def work(worker: int) -> None:
        for n in range(30_000):
            recent.remember("dept", f"{worker}-{n}", b"answer")
            recent.get("dept", f"{worker}-{n - 3}")

    assert _hammer(work) == []
    recent.remember("dept", "last", b"kept")
    assert recent.get("dept", "last") == b"kept" and recent.get("dept", "0-0") is None  # long evicted


def test_candidate_measures_are_looked_up_safely_under_eight_threads() -> None:
    """Eight threads asking for candidate measures over many matters (evicting) get consistent answers."""
    catalogue = load_catalogue(ROOT / "rules")
    expected = catalogue.candidates(
        "market_regulation", "", "administrative_licensing", "serious_illegal_dishonest"
    )
    assert expected  # the catalogue pushes measures for this case

    def work(worker: int) -> None:
        for n in range(12_000):  # 96,000 distinct keys: more than the memo keeps
            found = catalogue.candidates(
                "market_regulation",
                f"matter {worker}-{n}",
                "administrative_licensing",
                "serious_illegal_dishonest",
            )
            assert [m.measure_id for m in found] == [m.measure_id for m in expected]

    assert _hammer(work) == []
