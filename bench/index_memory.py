"""Memory, build/load time and lookup cost of the index alone, from a store or from bench.synth.

    python -m bench.index_memory sqlite:////tmp/checkd-bench/city-s1.db --dict   # the dict index (before)
    python -m bench.index_memory sqlite:////tmp/checkd-bench/city-s1.db --file /tmp/city.index
    python -m bench.index_memory --synth province --file /tmp/province.index      # no store: synth -> file
    python -m bench.index_memory --synth city --copies 100 --file /tmp/national.index  # 50 M entries

With --file the snapshot file is written unless one of that store (or synth scale) is there already,
then mapped; the figures: its size, write and load (start -> answering) time, RSS after load and
after the lookups of the bench mix (CPU per lookup, split into misses and hits, hits decoded once).

--copies N stands in for a scale bench.synth takes hours to produce (national: 50 M entries): the
scale's entries N times, every copy after the first under its own keys and ids (suffixed "~copy"),
and the mix's subjects looked up in every copy.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import json
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bench.mix import Mix
from bench.synth import BENCH_SECRET, SCALES, Population
from checkd.decide.dict_index import DictIndex
from checkd.decide.index import Index
from checkd.decide.snapshot_file import SnapshotRefused, read_header, write_file
from checkd.model import ListEntry, SubjectQuery

ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> int:
    """This process's resident set size in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def synthesized(scale: str, seed: int = 1) -> Iterator[ListEntry]:
    """The scale's entries straight from bench.synth, parsed in chunks (never all in memory)."""
    from checkd.loop.interchange import parse_entries
    from checkd.rules.catalogue import load_catalogue
    from checkd.subjects.keys import SubjectKeyer

    catalogue = load_catalogue(ROOT / "rules")
    keyer = SubjectKeyer(BENCH_SECRET.encode())
    lines = Population(SCALES[scale], seed).entries()
    while chunk := list(itertools.islice(lines, 20_000)):
        yield from parse_entries((("synth", json.loads(line)) for line in chunk), catalogue, keyer)


def copied(entries: list[ListEntry], copies: int) -> Iterator[ListEntry]:
    """The entries, then copies 1..N-1 of them under keys and ids of their own."""
    yield from entries
    for copy in range(1, copies):
        tag = f"~{copy}"
        for e in entries:
            yield dataclasses.replace(
                e,
                entry_id=e.entry_id + tag,
                subject_key=e.subject_key + tag,
                org_code=e.org_code and e.org_code + tag,
                registration_no=e.registration_no and e.registration_no + tag,
                related=tuple(dataclasses.replace(p, subject_key=p.subject_key + tag) for p in e.related),
            )


def in_copies(asked: list[SubjectQuery], copies: int) -> list[SubjectQuery]:
    """The subjects asked again of copies spread over the whole file (the first copy is the original)."""
    if copies == 1:
        return asked
    spread = [
        dataclasses.replace(
            q, key=q.key + (tag := f"~{1 + n % (copies - 1)}"), org_code=q.org_code and q.org_code + tag
        )
        for n, q in enumerate(asked)
    ]
    return asked + spread


def queries(scale: str, count: int) -> list[SubjectQuery]:
    """The subjects of `count` requests of the bench mix at this scale."""
    from checkd.rules.catalogue import load_catalogue
    from checkd.server import convert
    from checkd.subjects.keys import SubjectKeyer

    catalogue = load_catalogue(ROOT / "rules")
    keyer = SubjectKeyer(BENCH_SECRET.encode())
    now = dt.datetime.now(dt.UTC)
    requests = Mix(Population(SCALES[scale], 1), ROOT / "rules", seed=7).requests(count)
    return [q for r in requests for q in convert.check_case(r, catalogue, keyer, now).subjects]


def lookup_cost(index: Any, asked: list[SubjectQuery]) -> str:
    """CPU microseconds per lookup: misses, then hits (first pass decodes, the second is timed)."""
    misses = [q for q in asked if not index.lookup(q)]
    hits = [q for q in asked if index.lookup(q)]
    figures = []
    for name, part in (("miss", misses), ("hit", hits)):
        rounds = max(1, 200_000 // max(1, len(part)))
        started = time.process_time()
        for _ in range(rounds):
            for query in part:
                index.lookup(query)
        spent = time.process_time() - started
        figures.append(f"{name} {spent / (rounds * max(1, len(part))) * 1e6:.2f} us ({len(part):,})")
    return ", ".join(figures)


def main(argv: list[str] | None = None) -> int:
    """Build or map the index and print its figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("db", nargs="?", help="the store (SQLAlchemy URL)")
    parser.add_argument("--synth", choices=sorted(SCALES), help="entries from bench.synth instead of a store")
    parser.add_argument("--scale", default="city", help="the mix's scale for the lookups (default: city)")
    parser.add_argument("--file", type=Path, help="the snapshot file (written if absent or of other data)")
    parser.add_argument("--dict", action="store_true", help="the dict index (the reference, before)")
    parser.add_argument("--requests", type=int, default=20_000, help="requests of the mix to look up")
    parser.add_argument("--copies", type=int, default=1, help="with --synth: the entries this many times")
    args = parser.parse_args(argv)
    if not (args.db or args.synth) or not (args.file or args.dict):
        parser.print_usage(sys.stderr)
        return 2
    scale = args.synth or args.scale
    asked = in_copies(queries(scale, args.requests), args.copies if args.synth else 1)
    database: Any = None
    store, version = f"synth:{scale}" + (f"x{args.copies}" if args.copies > 1 else ""), 0
    if args.db:
        from checkd.store import Database, EntryRepository
        from checkd.wiring import STORE_ID

        database = Database(args.db, create=False)
        # A bench store is never changed here: the file names it by its recorded id, if it has one.
        store, version = database.get_meta(STORE_ID) or args.db, EntryRepository(database).data_version()

    def entries() -> Iterable[ListEntry]:
        if database is not None:
            from checkd.store import EntryRepository

            return EntryRepository(database).iter_all()
        if args.copies > 1:
            return copied(list(synthesized(scale)), args.copies)
        return synthesized(scale)

    before, started = rss_mb(), time.perf_counter()
    index: Any
    if args.dict:
        index = DictIndex(entries(), "bench", dt.datetime.now(dt.UTC))
        print(f"dict index: {index.size:,} entries built in {time.perf_counter() - started:.1f} s")
    else:
        path: Path = args.file
        try:
            header = read_header(path)
            fresh = header.store != store or header.data_version != version
        except SnapshotRefused:
            fresh = True
        if fresh:
            header = write_file(entries(), path, store, version)
            print(
                f"snapshot written: {header.entries:,} entries, {header.size / 1e6:,.0f} MB "
                f"in {time.perf_counter() - started:.1f} s (RSS peak {peak_mb():,} MB)"
            )
        before, started = rss_mb(), time.perf_counter()
        index = Index.open(path, store, version, dt.datetime.now(dt.UTC))
        print(
            f"snapshot mapped: {index.size:,} entries in {time.perf_counter() - started:.2f} s "
            f"(CRC read included), RSS +{rss_mb() - before:,} MB (process {rss_mb():,} MB)"
        )
    if database is not None:
        database.close()
    print(f"RSS after load: +{rss_mb() - before:,} MB (process {rss_mb():,} MB)")
    print(f"lookups ({len(asked):,} subjects of the mix): {lookup_cost(index, asked)}")
    print(f"RSS after lookups: process {rss_mb():,} MB")
    return 0


def peak_mb() -> int:
    """This process's peak resident set size in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
