"""CPU per check of the check use case in-process: python -m bench.check_cost [--scale sample] [--profile].

Runs the bench mix through the real Checker (real snapshots, real ledger with group commit on a
SQLite copy of the scale's store), in batches of 100 as BatchCheck queues them, and prints the
process CPU time per check (every thread: the ledger writer included, and its own share) beside
the wall time. CPU time is what the other tenants of a shared machine disturb least; no gRPC, so
this is the cost checkd adds to what the no-op server pays. `--profile` prints cProfile's top functions.
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

from bench.mix import Mix
from bench.run import DEFAULT_DATA, prepare_store
from bench.synth import BENCH_SECRET, ROOT, SCALES, Population
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
        _run(checker, measured, args.batch)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        written = time.clock_gettime(writer) - written
        ledger.close()
        database.close()
    count = len(measured)
    print(
        f"check_cost ({args.scale}, batches of {args.batch}): {count:,} checks, "
        f"CPU {1e6 * cpu / count:,.1f} us/check (all threads; "
        f"the ledger writer {1e6 * written / count:,.1f}), "
        f"wall {1e6 * wall / count:,.1f} us/check"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


def _run(checker: Checker, requests: list, size: int) -> None:  # type: ignore[type-arg]  # pb requests
    for start in range(0, len(requests), size):
        tally = checker.tally()
        held: list[Pending] = []  # as BatchCheck does: decided first, queued together
        pending = [
            checker.check_async(convert.check_input(r), tally, held) for r in requests[start : start + size]
        ]
        checker.submit_held(held)
        for finish in pending:
            finish()
        tally.close()


if __name__ == "__main__":
    sys.exit(main())
