"""CPU per check of the check use case in-process: python -m bench.check_cost [--scale sample] [--profile].

Runs the bench mix through the real Checker (real snapshots, real ledger with group commit on a
SQLite copy of the scale's store), in batches of 100 as BatchCheck queues them, and prints the
process CPU time per check (every thread: the ledger writer included, and its own share) beside
the wall time. CPU time is what the other tenants of a shared machine disturb least; no gRPC, so
this is the cost checkd adds to what the no-op server pays. Then it reports, one by one as a lone
caller sends them, the feedback of the checks that pushed a measure (every pushed measure applied,
as the year replay sends it), at the same split. `--profile` prints cProfile's top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from bench.mix import Mix, feedback_for, pushed
from bench.run import DEFAULT_DATA, prepare_store
from bench.synth import BENCH_SECRET, ROOT, SCALES, Population
from checkd.api.v1 import check_pb2 as pb
from checkd.decide.snapshots import Snapshots
from checkd.evidence.ledger import Ledger, Pending
from checkd.loop.checks import Checker
from checkd.ops.collector import set_for_serving
from checkd.server import convert
from checkd.store import Database, EntryRepository, LedgerRepository
from checkd.subjects.keys import SubjectKeyer
from checkd.typing import utc_now


def main(argv: list[str] | None = None) -> int:
    """Run the mix through the Checker and print CPU and wall time per check."""
    parser = argparse.ArgumentParser(prog="python -m bench.check_cost", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="sample")
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--profile", action="store_true", help="cProfile the measured loop, print the top")
    args = parser.parse_args(argv)
    # The log lines of the checks are not what is measured here (the daemon writes them to a file).
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory(prefix="checkd-cost-") as tmp:
        db_url = prepare_store(args.scale, 1, args.data_dir, Path(tmp), None)
        database = Database(db_url)
        records = LedgerRepository(database)
        ledger = Ledger(records, utc_now)
        ledger.start()
        snapshots = Snapshots(ROOT / "rules", EntryRepository(database), utc_now)
        snapshots.reload()
        checker = Checker(snapshots, ledger, records, SubjectKeyer(BENCH_SECRET.encode()), utc_now)
        requests = Mix(Population(SCALES[args.scale], 1), ROOT / "rules", 5).requests(args.checks + 2000)
        warm, measured = requests[:2000], requests[2000:]
        _run(checker, warm, args.batch)  # first-use caches (identifiers, measures) filled
        set_for_serving()  # as the daemon is set before it serves
        profiler = cProfile.Profile() if args.profile else None
        clock = _Clock(time.pthread_getcpuclockid(ledger._thread.ident or 0))  # the writer's own CPU
        if profiler:
            profiler.enable()
        answered = _run(checker, measured, args.batch)
        if profiler:
            profiler.disable()
        checks = clock.lap()
        parsed = (pb.CheckResponse.FromString(answer) for answer in answered)
        reports = [
            feedback_for(answer, request.department)
            for request, answer in zip(measured, parsed, strict=True)
            if pushed(answer)
        ]
        clock.lap()  # the answers' parsing is the client's, not the feedback's
        for report in reports:
            checker.feedback(convert.feedback_input(report))
        feedback = clock.lap()
        ledger.close()
        database.close()
    batches = f"batches of {args.batch}"
    print(checks.line(f"check_cost ({args.scale}, {batches})", len(measured), "checks", "check"))
    print(feedback.line(f"feedback_cost ({args.scale}, one by one)", len(reports), "feedback", "feedback"))
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


@dataclass(frozen=True)
class _Spent:
    """CPU of every thread, of the ledger writer alone, and wall time, in seconds."""

    cpu: float
    written: float
    wall: float

    def line(self, label: str, count: int, items: str, unit: str) -> str:
        """The figures per item, as the bench prints them."""
        per = 1e6 / max(count, 1)
        return (
            f"{label}: {count:,} {items}, CPU {self.cpu * per:,.1f} us/{unit} (all threads; "
            f"the ledger writer {self.written * per:,.1f}), wall {self.wall * per:,.1f} us/{unit}"
        )


class _Clock:
    """Laps of the process CPU, the ledger writer's CPU and the wall clock."""

    def __init__(self, writer: int) -> None:
        self._writer = writer
        self._last = self._now()

    def _now(self) -> _Spent:
        return _Spent(time.process_time(), time.clock_gettime(self._writer), time.perf_counter())

    def lap(self) -> _Spent:
        """What was spent since the last lap (or since the clock was made)."""
        now, last = self._now(), self._last
        self._last = now
        return _Spent(now.cpu - last.cpu, now.written - last.written, now.wall - last.wall)


def _run(checker: Checker, requests: list[pb.CheckRequest], size: int) -> list[bytes]:
    """The requests checked in batches as BatchCheck does; their serialised answers, in order."""
    answers = []
    for start in range(0, len(requests), size):
        part = requests[start : start + size]
        tally = checker.tally()
        held: list[Pending] = []  # as BatchCheck does: decided first, queued together
        pending = [checker.check_async(convert.check_input(r), tally, held) for r in part]
        checker.submit_held(held)
        answers.extend(finish().payload for finish in pending)
        tally.close()
    return answers


if __name__ == "__main__":
    sys.exit(main())
