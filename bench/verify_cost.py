"""What the derived-row checks add to `ledger verify`: python -m bench.verify_cost [CHECKS] [DB_URL].

Records CHECKS checks (default 10,000) through the real Checker into a fresh store (a temporary
SQLite file unless DB_URL names an empty one), then times verify over the chain alone and over the
chain plus every derived-row checker, in the same run; the ratio is the figure to compare.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from checkd.api.v1 import check_pb2 as pb
from checkd.decide.snapshots import Snapshots
from checkd.evidence.derived import row_checkers
from checkd.evidence.ledger import Ledger, verify
from checkd.loop.checks import Checker
from checkd.server import convert
from checkd.store import Database, EntryRepository, LedgerRepository
from checkd.subjects.keys import SubjectKeyer
from checkd.typing import utc_now

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    """Fill a store with checks, then print both verify times and their ratio."""
    count = int(argv[0]) if argv else 10_000
    url = argv[1] if len(argv) > 1 else f"sqlite:///{tempfile.mkdtemp()}/verify-cost.db"
    database = Database(url)
    records = LedgerRepository(database)
    ledger = Ledger(records, utc_now)
    ledger.start()
    snapshots = Snapshots(ROOT / "rules", EntryRepository(database), utc_now)
    snapshots.reload()
    checker = Checker(snapshots, ledger, records, SubjectKeyer(b"bench" * 8), utc_now)
    request = pb.CheckRequest(
        department="market_regulation",
        scene="administrative_licensing",
        subjects=[pb.Subject(id="91350100M000100Y43")],
    )
    for answer in [checker.check_async(convert.check_input(request)) for _ in range(count)]:
        answer()
    ledger.close()
    timings = {}
    for label, derived in (("chain", ()), ("chain+rows", row_checkers(records, EntryRepository(database)))):
        started = time.perf_counter()
        report = verify(records.iter_records(), derived=derived)
        timings[label] = time.perf_counter() - started
        assert report.ok, report.all_problems()
        print(f"{label:<11} {report.records:>9,} records  {timings[label]:7.2f} s")
    print(f"ratio chain+rows / chain: {timings['chain+rows'] / timings['chain']:.1f}")
    database.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
