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
        writer = time.pthread_getcpuclockid(ledger._thread.ident or 0)  # the ledger writer's own CPU
        cpu, wall, written = time.process_time(), time.perf_counter(), time.clock_gettime(writer)
        if profiler:
            profiler.enable()
        answered = _run(checker, measured, args.batch)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        written = time.clock_gettime(writer) - written
        parsed = (pb.CheckResponse.FromString(answer) for answer in answered)
        reports = [
            feedback_for(answer, request.department)
            for request, answer in zip(measured, parsed, strict=True)
            if pushed(answer)
        ]
        feedback_cpu, feedback_wall = time.process_time(), time.perf_counter()
        feedback_written = time.clock_gettime(writer)
        for report in reports:
            checker.feedback(convert.feedback_input(report))
        feedback_cpu, feedback_wall = time.process_time() - feedback_cpu, time.perf_counter() - feedback_wall
        feedback_written = time.clock_gettime(writer) - feedback_written
        ledger.close()
        database.close()
    count = len(measured)
    print(
        f"check_cost ({args.scale}, batches of {args.batch}): {count:,} checks, "
        f"CPU {1e6 * cpu / count:,.1f} us/check (all threads; "
        f"the ledger writer {1e6 * written / count:,.1f}), "
        f"wall {1e6 * wall / count:,.1f} us/check"
    )
    sent = max(len(reports), 1)
    print(
        f"feedback_cost ({args.scale}, one by one): {len(reports):,} feedback, "
        f"CPU {1e6 * feedback_cpu / sent:,.1f} us/feedback (all threads; "
        f"the ledger writer {1e6 * feedback_written / sent:,.1f}), "
        f"wall {1e6 * feedback_wall / sent:,.1f} us/feedback"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


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
