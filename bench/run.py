"""The bench: checkd against a no-op gRPC baseline, same client, same run, same machine.

    python -m bench.run --scale city

Prints, for Check (50 concurrent callers), BatchCheck (batches of 100) and StreamCheck: checks/s, p50,
p99 and the ratio to the baseline; checkd's cold start and peak RSS at the scale; and the in-process
engine figure (decisions/s on one core, no network).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bench import load
from bench.mix import Mix, pushed
from bench.synth import BENCH_SECRET, ROOT, SCALES, Population, import_file, write_jsonl
from bench.threads import CpuMeter, py_spy
from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import check_pb2_grpc

DEFAULT_DATA = Path(tempfile.gettempdir()) / "checkd-bench"
HEADER = (
    "| phase            | noop ch/s |  p50ms |  p99ms | checkd/s  |  p50ms |  p99ms | ratio | errors |"
    "\n|------------------|-----------|--------|--------|-----------|--------|--------|-------|--------|"
)


def prepare_store(scale: str, seed: int, data_dir: Path, workdir: Path, db_url: str | None) -> str:
    """A store holding the scale's entries: a copy of a cached SQLite file, or the given database."""
    data_dir.mkdir(parents=True, exist_ok=True)
    jsonl = data_dir / f"{scale}-s{seed}.jsonl"
    population = Population(SCALES[scale], seed)
    if db_url:
        from checkd.store import Database, EntryRepository

        database = Database(db_url)
        empty = EntryRepository(database).count() == 0
        database.close()
        if empty:
            _import(population, jsonl, db_url)
        return db_url
    cached = data_dir / f"{scale}-s{seed}.db"
    if not cached.exists():
        partial = cached.with_suffix(".partial.db")
        partial.unlink(missing_ok=True)
        _import(population, jsonl, f"sqlite:///{partial}")
        if Path(f"{partial}.index").exists():  # the file the last import wrote goes with its store
            Path(f"{partial}.index").rename(f"{cached}.index")
        partial.rename(cached)
    target = workdir / "checkd.db"
    shutil.copyfile(cached, target)
    _index_file_along(cached, target)
    return f"sqlite:///{target}"


def _index_file_along(cached: Path, target: Path) -> None:
    """Give the copy of the store its index snapshot file, so the bench's daemon starts from it.

    The cached store is never written: the copy takes the identity the cached file names (it is the
    same store), or, without a usable cached file, gets one written for it and kept beside the cache.
    """
    from checkd.decide.snapshot_file import SnapshotRefused, read_header, write_file
    from checkd.store import Database, EntryRepository
    from checkd.wiring import STORE_ID, store_identity

    kept, copied = Path(f"{cached}.index"), Path(f"{target}.index")
    database = Database(f"sqlite:///{target}", create=False)
    try:
        entries = EntryRepository(database)
        version = entries.data_version()
        try:
            header = read_header(kept)
        except SnapshotRefused:
            header = None
        if (
            header is not None
            and header.data_version == version
            and database.set_meta_if_absent(STORE_ID, header.store) == header.store
        ):
            shutil.copyfile(kept, copied)
            return
        started = time.perf_counter()
        written = write_file(entries.iter_all(), copied, store_identity(database), version)
        print(
            f"index snapshot: {written.entries:,} entries in {time.perf_counter() - started:.1f} s -> {kept}"
        )
    finally:
        database.close()
    partial = kept.with_name(f".{kept.name}.partial")
    shutil.copyfile(copied, partial)
    partial.rename(kept)


def _import(population: Population, jsonl: Path, db_url: str) -> None:
    if not jsonl.exists():
        started = time.perf_counter()
        counts = write_jsonl(population, jsonl)
        print(f"synth: {sum(counts.values()):,} entries in {time.perf_counter() - started:.1f} s -> {jsonl}")
    # One import of the whole file: `checkd import` streams it in bounded memory, and every import
    # rewrites the whole index file, so parts would pay that rewrite once per part.
    seconds, output = import_file(db_url, jsonl)
    print(f"import {jsonl.name}: {seconds:.1f} s: {output}")


Phase = Callable[[check_pb2_grpc.CheckServiceStub, load.OnResponse | None], Coroutine[Any, Any, load.Result]]


def phases(args: argparse.Namespace, pool: list[pb.CheckRequest]) -> list[Phase]:
    """The three load phases over disjoint slices of the request pool (no request_id repeats)."""
    unary_part = pool[: args.unary_checks]
    batch_part = pool[args.unary_checks : args.unary_checks + args.bulk_checks]
    stream_part = pool[args.unary_checks + args.bulk_checks :]
    return [
        lambda stub, cb: load.unary(stub, unary_part, args.concurrency, args.seconds, cb),
        lambda stub, cb: load.batch(stub, batch_part, args.batch, args.batch_callers, args.seconds, cb),
        lambda stub, cb: load.stream(stub, stream_part, args.streams, args.window, args.seconds, cb),
    ]


async def drive(
    target: str,
    plan: list[Phase],
    on_response: load.OnResponse | None,
    profile: Callable[[int], subprocess.Popen[bytes] | None] | None = None,
    meter: CpuMeter | None = None,
) -> list[load.Result]:
    """Run every phase against one server, one after the other, through one channel."""
    results = []
    async with load.channel(target) as channel:
        stub = check_pb2_grpc.CheckServiceStub(channel)
        for number, phase in enumerate(plan):
            sampler = profile(number) if profile else None
            if meter is not None:
                meter.start()
            results.append(await phase(stub, on_response))
            if meter is not None:
                meter.stop()
            if sampler is not None:
                sampler.wait(120)
    return results


class HitCounter:
    """Counts answers and the ones that pushed a measure."""

    def __init__(self) -> None:
        self.answers = 0
        self.hits = 0

    def __call__(self, request: pb.CheckRequest, response: pb.CheckResponse) -> None:
        """Count one answer."""
        self.answers += 1
        self.hits += pushed(response)


def engine_figure(db_url: str, mix: Mix, decisions: int, max_seconds: float) -> dict[str, float]:
    """Decisions/s of checkd.engine.decide on one core over the scale's index (no network, no ledger)."""
    from checkd.decide.engine import decide
    from checkd.decide.index import Index
    from checkd.decide.snapshot_file import read_header
    from checkd.ops.collector import set_for_serving
    from checkd.rules.catalogue import load_catalogue
    from checkd.server import convert
    from checkd.store import Database, EntryRepository
    from checkd.subjects.keys import SubjectKeyer

    started = time.perf_counter()
    database = Database(db_url)
    version = EntryRepository(database).data_version()
    mapped = Path(f"{db_url.removeprefix('sqlite:///')}.index")  # the file the daemon served from
    if db_url.startswith("sqlite:///") and mapped.exists():
        header = read_header(mapped)
        index = Index.open(mapped, header.store, version, dt.datetime.now(dt.UTC))
    else:
        index = Index(EntryRepository(database).iter_all(), "bench", dt.datetime.now(dt.UTC))
    database.close()
    built = time.perf_counter() - started
    catalogue = load_catalogue(ROOT / "rules")
    keyer = SubjectKeyer(BENCH_SECRET.encode())
    now = dt.datetime.now(dt.UTC)
    requests = mix.requests(min(decisions, 20_000))
    began = time.perf_counter()
    cases = [convert.check_case(r, catalogue, keyer, now) for r in requests]
    parse_rate = len(cases) / (time.perf_counter() - began)
    set_for_serving()  # the collector as a serving daemon has it (checkd/ops/collector.py)
    done = 0
    began = time.perf_counter()
    deadline = began + max_seconds
    while done < decisions and time.perf_counter() < deadline:
        for case in cases:
            decide(case, index, catalogue, now)
        done += len(cases)
    rate = done / (time.perf_counter() - began)
    return {
        "entries": float(index.size),
        "index_build_s": built,
        "decide_per_s": rate,
        "parse_per_s": parse_rate,
    }


def _row(name: str, base: load.Result, ours: load.Result) -> str:
    ratio = ours.rate / base.rate if base.rate else 0.0
    return (
        f"| {name:16} | {base.rate:>9,.0f} | {base.percentile(0.5):6.1f} | {base.percentile(0.99):6.1f} "
        f"| {ours.rate:>9,.0f} | {ours.percentile(0.5):6.1f} | {ours.percentile(0.99):6.1f} "
        f"| {ratio:5.2f} | {ours.errors} |"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the whole bench once and print its figures."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="sample")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", help="a PostgreSQL store to use instead of a SQLite copy (imported if empty)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="generated stores (cache)")
    parser.add_argument("--unary-checks", type=int, default=10_000)
    parser.add_argument("--bulk-checks", type=int, default=100_000, help="per batch / stream phase")
    parser.add_argument("--seconds", type=float, default=15.0, help="time cap of each phase")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent Check callers")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batch-callers", type=int, default=4)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--window", type=int, default=200, help="in-flight items per stream")
    parser.add_argument("--engine-decisions", type=int, default=200_000)
    parser.add_argument("--aio-baseline", action="store_true", help="baseline on grpc.aio, not a thread pool")
    parser.add_argument("--workers", type=int, default=16, help="checkd --workers")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy (GIL holder only: CPU, not waits) each checkd phase into this directory",
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows live

    with tempfile.TemporaryDirectory(prefix="checkd-bench-") as tmp:
        workdir = Path(tmp)
        db_url = prepare_store(args.scale, args.seed, args.data_dir, workdir, args.db)
        population = Population(SCALES[args.scale], args.seed)
        mix = Mix(population, ROOT / "rules", args.seed)
        started = time.perf_counter()
        pool = mix.requests(args.unary_checks + 2 * args.bulk_checks)
        print(
            f"scale {args.scale}: {population.scale.orgs:,} organisations, {population.scale.persons:,} "
            f"persons; {len(pool):,} requests of the mix built in {time.perf_counter() - started:.1f} s"
        )
        plan = phases(args, pool)

        noop = load.start_server("noop", load.noop_args(args.aio_baseline), workdir)
        noop_meter = CpuMeter(noop.process.pid)
        try:
            base = asyncio.run(drive(noop.target, plan, None, meter=noop_meter))
            noop_cpu = noop_meter.named()
        finally:
            noop.stop()

        checkd = load.start_server("checkd", load.checkd_args(db_url, args.workers), workdir, timeout=900)
        hits = HitCounter()
        profile = _profiler(args.profile, checkd.process.pid, args.seconds) if args.profile else None
        checkd_meter = CpuMeter(checkd.process.pid)
        try:
            ours = asyncio.run(drive(checkd.target, plan, hits, profile, checkd_meter))
            peak = checkd.peak_rss_mb()
            checkd_cpu = checkd_meter.named()
        finally:
            code = checkd.stop()
        if code != 0:
            print(f"checkd exited with {code}:\n{checkd.log_path.read_text(errors='replace')[-3000:]}")

        print(
            f"\nbaseline: no-op {'grpc.aio' if args.aio_baseline else 'thread-pool'} server; "
            f"checkd store: {'PostgreSQL' if args.db else 'SQLite'} (ledger on, durable)"
        )
        print(HEADER)
        names = [f"Check x{args.concurrency}", f"BatchCheck x{args.batch}", f"StreamCheck x{args.streams}"]
        for name, b, o in zip(names, base, ours, strict=True):
            print(_row(name, b, o))
        print("\nCPU per check: the server's threads by role (client: this driver's own)")
        for name, b, o, b_cpu, o_cpu in zip(names, base, ours, noop_cpu, checkd_cpu, strict=True):
            print(f"  {name}: no-op {b_cpu.per_check(b.checks)}; checkd {o_cpu.per_check(o.checks)}")
        share = hits.hits / hits.answers if hits.answers else 0.0
        print(
            f"\nhits (answers that pushed a measure): {hits.hits:,} of {hits.answers:,} ({100 * share:.1f}%)"
        )
        print(
            f"checkd cold start (process start -> health SERVING): {checkd.cold_start:.2f} s "
            f"(no-op: {noop.cold_start:.2f} s)"
        )
        print(f"checkd RSS: {checkd.rss_at_start_mb:,.0f} MB when serving, peak {peak:,.0f} MB")
        engine = engine_figure(db_url, mix, args.engine_decisions, args.seconds)
        print(
            f"engine (in-process, one core): {engine['decide_per_s']:,.0f} decisions/s over "
            f"{engine['entries']:,.0f} entries (index ready in {engine['index_build_s']:.1f} s; "
            f"request validation + keying {engine['parse_per_s']:,.0f}/s)"
        )
    return 0


def _profiler(directory: Path, pid: int, seconds: float) -> Callable[[int], subprocess.Popen[bytes] | None]:
    directory.mkdir(parents=True, exist_ok=True)
    names = ("check", "batch", "stream")

    def start(number: int) -> subprocess.Popen[bytes] | None:
        out = directory / f"{names[number]}.collapsed"
        return subprocess.Popen(
            [
                py_spy(),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(seconds)),
                "--format",
                "raw",
                "--nonblocking",
                "--gil",
                "-o",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    return start


if __name__ == "__main__":
    sys.exit(main())
