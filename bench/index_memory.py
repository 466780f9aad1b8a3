"""Memory and build time of the in-memory index alone: python -m bench.index_memory DB_URL."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

from checkd.decide.index import Index
from checkd.store import Database, EntryRepository


def rss_mb() -> int:
    """This process's resident set size in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main(argv: list[str]) -> int:
    """Build the index from a store and print its size, build time and the RSS it added."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    database = Database(argv[0])
    before, started = rss_mb(), time.perf_counter()
    index = Index(EntryRepository(database).iter_all(), "bench", dt.datetime.now(dt.UTC))
    print(
        f"entries {index.size:,} built in {time.perf_counter() - started:.1f} s, "
        f"RSS +{rss_mb() - before:,} MB"
    )
    database.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
