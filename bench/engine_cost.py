"""CPU per decision of the engine alone: python -m bench.engine_cost [--scale sample] [--fresh].

Builds the scale's Index from a copy of its bench store (as `bench.run`'s engine figure does), reads
cases from the bench mix with `convert.check_case`, and prints decisions/s and CPU microseconds per
decision (`time.process_time`, so other tenants of a shared machine disturb it least), and the CPU
per request read. `--fresh` decides every case once, from one long mix, so the figure cannot come
from repeating the same cases; without it the first `--cases` cases are decided over and over, as
the engine figure of `bench.run` does. `--against module` (e.g. `tests.unit.engine_reference`, run
from the project root) decides the same cases with that module's `decide` too, alternating passes
in the same minutes. `--profile` prints cProfile's top functions of one pass; `--instructions N`
only decides N cases (for instruction counts under callgrind).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import importlib
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.mix import Mix
from bench.run import DEFAULT_DATA, prepare_store
from bench.synth import BENCH_SECRET, ROOT, SCALES, Population
from checkd.decide import engine
from checkd.decide.index import Index
from checkd.model import CheckCase
from checkd.rules.catalogue import Catalogue, load_catalogue
from checkd.server import convert
from checkd.store import Database, EntryRepository
from checkd.subjects.keys import SubjectKeyer

Decide = Callable[..., Any]


def build_index(scale: str, data_dir: Path) -> Index:
    """The scale's Index, built from a copy of its cached bench store."""
    with tempfile.TemporaryDirectory(prefix="checkd-engine-") as tmp:
        db_url = prepare_store(scale, 1, data_dir, Path(tmp), None)
        database = Database(db_url)
        index = Index(EntryRepository(database).iter_all(), "bench", dt.datetime.now(dt.UTC))
        database.close()
    return index


def read_cases(mix: Mix, count: int, catalogue: Catalogue, now: dt.datetime) -> tuple[list[CheckCase], float]:
    """`count` cases of the mix, and the CPU seconds their reading took."""
    requests = mix.requests(count)
    keyer = SubjectKeyer(BENCH_SECRET.encode())
    began = time.process_time()
    cases = [convert.check_case(r, catalogue, keyer, now) for r in requests]
    return cases, time.process_time() - began


def one_pass(
    decide: Decide, cases: Sequence[CheckCase], index: Index, catalogue: Catalogue, now: dt.datetime
) -> float:
    """CPU seconds to decide every case once."""
    began = time.process_time()
    for case in cases:
        decide(case, index, catalogue, now)
    return time.process_time() - began


def main(argv: list[str] | None = None) -> int:
    """Print the engine's decisions/s and CPU per decision (and per request read) at one scale."""
    parser = argparse.ArgumentParser(prog="python -m bench.engine_cost", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="sample")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cases", type=int, default=20_000, help="cases per pass")
    parser.add_argument("--passes", type=int, default=5, help="passes per engine (the best is printed)")
    parser.add_argument("--fresh", action="store_true", help="every pass decides new cases, each once")
    parser.add_argument("--against", help="a module whose `decide` is measured alternately with the engine")
    parser.add_argument("--profile", action="store_true", help="cProfile one pass of the engine")
    parser.add_argument(
        "--instructions",
        type=int,
        metavar="N",
        help="decide N cases once after the warm-up and stop (run under callgrind for N=0 and N>0: "
        "the difference over N is the instructions per decision)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    index = build_index(args.scale, args.data_dir)
    print(f"index: {index.size:,} entries, built in {time.perf_counter() - started:.1f} s", flush=True)
    catalogue = load_catalogue(ROOT / "rules")
    now = dt.datetime.now(dt.UTC)
    mix = Mix(Population(SCALES[args.scale], 1), ROOT / "rules")
    engines: dict[str, Decide] = {"engine": engine.decide}
    if args.against:
        engines = {args.against: importlib.import_module(args.against).decide, **engines}
    cases, read_cpu = read_cases(mix, args.cases, catalogue, now)
    read_us = 1e6 * read_cpu / len(cases)
    for decide in engines.values():  # first-use memos (candidates, names) filled before measuring
        one_pass(decide, cases[:2000], index, catalogue, now)
    if args.instructions is not None:
        measured, _ = read_cases(mix, args.instructions, catalogue, now)
        for decide in engines.values():
            one_pass(decide, measured, index, catalogue, now)
        return 0
    best: dict[str, float] = {}
    for number in range(args.passes):
        if args.fresh and number:
            cases, read_cpu = read_cases(mix, args.cases, catalogue, now)
            read_us = min(read_us, 1e6 * read_cpu / len(cases))
        for name, decide in engines.items():
            seconds = one_pass(decide, cases, index, catalogue, now)
            us = 1e6 * seconds / len(cases)
            best[name] = min(best.get(name, us), us)
            print(f"pass {number + 1} {name}: {us:,.2f} us/decision CPU", flush=True)
    mode = "fresh cases, each decided once" if args.fresh else f"the same {args.cases:,} cases each pass"
    print(f"engine_cost ({args.scale}, {mode}, best of {args.passes} passes of {args.cases:,}):")
    for name, us in best.items():
        print(f"  {name}: {us:,.2f} us/decision CPU, {1e6 / us:,.0f} decisions/s on one core")
    print(f"  request reading (convert.check_case): {read_us:,.2f} us/request CPU")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        one_pass(engine.decide, cases, index, catalogue, now)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
