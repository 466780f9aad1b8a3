"""Time and memory of the snapshot writer's key table alone, at any number of entries (national too).

    python -m bench.table_cost --entries 5000000      # province-sized: ~14.5 M (hash, posting) pairs
    python -m bench.table_cost --entries 50000000     # national-sized

Synthesising and validating 50 million entries takes hours here; the key table is the part of the
writer whose memory grows with the whole file, so it is measured on pairs shaped like the bench
population's (2.9 keys per entry, 68% of them distinct: `entry_keys` over the sample scale).
"""

from __future__ import annotations

import argparse
import time
import zlib
from array import array

from bench.index_memory import peak_mb, rss_mb
from checkd.decide import snapshot_file

KEYS_PER_ENTRY = 2.9
DISTINCT_SHARE = 0.68


def pairs(entries: int) -> tuple[array[int], array[int]]:
    """(hash, posting) arrays for `entries` entries: consecutive postings share a key, as an entry's do."""
    count = int(entries * KEYS_PER_ENTRY)
    keys = (int(i * DISTINCT_SHARE).to_bytes(8, "little") for i in range(count))
    hashes = array("I", (zlib.crc32(key) or 1 for key in keys))
    postings = array("I", range(count))
    return hashes, postings


def main(argv: list[str] | None = None) -> int:
    """Print the table build's seconds, its peak RSS over the pairs, and the table's shape."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    hashes, postings = pairs(args.entries)
    before = rss_mb()
    began, cpu = time.perf_counter(), time.process_time()
    table, _, ordered = snapshot_file._table(hashes, postings)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(
        f"{args.entries:,} entries, {len(hashes):,} pairs: table built in {seconds:.1f} s ({cpu:.1f} s CPU), "
        f"RSS {before:,} MB with the pairs, peak {peak_mb():,} MB "
        f"(+{peak_mb() - before:,} MB); {len(table):,} slots, {len(ordered):,} postings "
        f"({snapshot_file.__file__})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
