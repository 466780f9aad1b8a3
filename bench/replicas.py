"""Replicas and processes: upsert propagation between replicas, and `serve --processes` against the no-op.

    .venv/bin/python -m bench.replicas propagation --changes 50
    .venv/bin/python -m bench.replicas processes --scale city --processes 1 2

`propagation` starts two daemons on one fresh PostgreSQL database (polling once an hour, so only
the store's announcement moves the data), upserts through the first and times until the second
answers a check that requires the new data version: p50/p99 over the changes.

`processes` runs the no-op baseline and then checkd with each `--processes` value on a copy of the
same store, driving Check, BatchCheck and StreamCheck over several connections (SO_REUSEPORT
spreads connections, not calls, over the processes), and prints each as a ratio to the no-op of
the same run, with the RSS and PSS of every serving process.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import psycopg

from bench import load
from bench.mix import Mix
from bench.run import DEFAULT_DATA, HEADER, _row, phases, prepare_store
from bench.synth import ROOT, SCALES, Population
from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import check_pb2_grpc, registry_pb2_grpc
from checkd.api.v1 import registry_pb2 as reg

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CONNECTIONS = 8  # connections per run: the kernel spreads connections, not calls, over processes


class RoundRobin:
    """A stub over several channels: each call goes out on the next one."""

    def __init__(self, stubs: list[check_pb2_grpc.CheckServiceStub]) -> None:
        self._stubs = itertools.cycle(stubs)

    def __getattr__(self, name: str) -> Any:
        return getattr(next(self._stubs), name)


async def drive(target: str, plan: list[Any]) -> list[load.Result]:
    """Every phase against one server, through CONNECTIONS channels taken in turn."""
    channels = [load.channel(target) for _ in range(CONNECTIONS)]
    try:
        stub = RoundRobin([check_pb2_grpc.CheckServiceStub(c) for c in channels])
        return [await phase(stub, None) for phase in plan]
    finally:
        for channel in channels:
            await channel.close()


def _memory(pid: int) -> tuple[float, float]:
    """RSS and PSS of one process in MB (smaps_rollup: PSS shares each shared page among its users)."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] in ("Rss:", "Pss:"):
            values[parts[0]] = float(parts[1]) / 1024
    return values.get("Rss:", 0.0), values.get("Pss:", 0.0)


def _all_ready(ops_file: Path, timeout: float = 1800) -> None:
    """Wait until /readyz says every serving process is ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ops_file.read_text()}/readyz", timeout=10):
                return
        except OSError:  # not written yet, refused, or 503 while a worker loads
            time.sleep(0.5)
    raise RuntimeError("the serving processes never all became ready")


def _serving_pids(server: load.Server) -> list[int]:
    pid = server.process.pid
    children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return children or [pid]


def processes(args: argparse.Namespace) -> None:
    """Check/BatchCheck/StreamCheck at each --processes value, as ratios to the no-op of this run."""
    with tempfile.TemporaryDirectory(prefix="checkd-bench-") as tmp:
        workdir = Path(tmp)
        db_url = prepare_store(args.scale, args.seed, args.data_dir, workdir, None)
        mix = Mix(Population(SCALES[args.scale], args.seed), ROOT / "rules", args.seed)
        runs = len(args.processes)
        pool = mix.requests((args.unary_checks + 2 * args.bulk_checks) * (runs + 1))
        size = args.unary_checks + 2 * args.bulk_checks
        noop = load.start_server("noop", load.noop_args(), workdir)
        try:
            base = asyncio.run(drive(noop.target, phases(args, pool[:size])))
        finally:
            noop.stop()
        rows = []
        for run, count in enumerate(args.processes, start=1):
            ops_file = workdir / f"ops-{count}.port"
            server = load.start_server(
                f"checkd-p{count}",
                [
                    *load.checkd_args(db_url, args.workers),
                    *(
                        "--processes",
                        str(count),
                        "--ops-listen",
                        "127.0.0.1:0",
                        "--ops-port-file",
                        str(ops_file),
                    ),
                ],
                workdir,
                timeout=1800,
            )
            try:
                _all_ready(ops_file)  # health answered by one worker; the others may still be loading
                memory = [_memory(pid) for pid in _serving_pids(server)]
                ours = asyncio.run(drive(server.target, phases(args, pool[run * size : (run + 1) * size])))
            finally:
                code = server.stop()
            rows.append((count, ours, memory, code))
        print(f"\nscale {args.scale}; baseline: no-op thread-pool server, {CONNECTIONS} connections")
        for count, ours, memory, code in rows:
            print(f"\ncheckd --processes {count} (exit {code})")
            print(HEADER)
            names = [
                f"Check x{args.concurrency}",
                f"BatchCheck x{args.batch}",
                f"StreamCheck x{args.streams}",
            ]
            for name, b, o in zip(names, base, ours, strict=True):
                print(_row(name, b, o))
            each = ", ".join(f"{rss:,.0f}/{pss:,.0f}" for rss, pss in memory)
            total_rss, total_pss = sum(m[0] for m in memory), sum(m[1] for m in memory)
            print(f"memory RSS/PSS MB per serving process: {each}; total {total_rss:,.0f}/{total_pss:,.0f}")


def _pg_database() -> Iterator[str]:
    name = f"checkd_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def propagation(args: argparse.Namespace) -> None:
    """p50/p99 of upsert (acknowledged at one replica) -> in force at another, over `changes` upserts."""
    from tests.factories import entry_input, entry_row, uscc

    for db_url in _pg_database():
        with tempfile.TemporaryDirectory(prefix="checkd-bench-") as tmp:
            workdir = Path(tmp)
            first = load.start_server("first", load.checkd_args(db_url), workdir)
            second = load.start_server("second", load.checkd_args(db_url), workdir)
            seconds = []
            try:
                with (
                    grpc.insecure_channel(first.target) as one,
                    grpc.insecure_channel(second.target) as two,
                ):
                    registry = registry_pb2_grpc.RegistryServiceStub(one)
                    checks = check_pb2_grpc.CheckServiceStub(two)
                    for _ in range(args.changes):
                        enterprise = uscc()
                        row = entry_row(f"P-{enterprise}", enterprise, "serious_illegal_dishonest")
                        done = registry.UpsertEntries(
                            reg.UpsertEntriesRequest(entries=[entry_input(row)]), timeout=30
                        )
                        acknowledged = time.perf_counter()
                        version = int(done.data_version.removeprefix("d"))
                        request = pb.CheckRequest(
                            department="market_regulation",
                            scene="administrative_licensing",
                            subjects=[pb.Subject(id=enterprise)],
                            min_data_version=version,
                        )
                        while True:  # a DATA_STALE answer after its 1 s wait: ask again
                            try:
                                checks.Check(request, timeout=30)
                                break
                            except grpc.RpcError as exc:
                                if exc.code() != grpc.StatusCode.UNAVAILABLE:
                                    raise
                        seconds.append(time.perf_counter() - acknowledged)
            finally:
                first.stop()
                second.stop()
        ordered = sorted(seconds)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        print(
            f"propagation over {len(ordered)} upserts (acknowledged at one replica -> answered at the "
            f"other with that data version): p50 {1000 * statistics.median(ordered):.0f} ms, "
            f"p99 {1000 * p99:.0f} ms, max {1000 * ordered[-1]:.0f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    """Run one of the two replica benches."""
    parser = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__)
    commands = parser.add_subparsers(dest="bench", required=True)
    spread = commands.add_parser("propagation", help="upsert -> in force at another replica")
    spread.add_argument("--changes", type=int, default=50)
    many = commands.add_parser("processes", help="serve --processes N against the no-op")
    many.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    many.add_argument("--scale", choices=sorted(SCALES), default="sample")
    many.add_argument("--seed", type=int, default=1)
    many.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    many.add_argument("--unary-checks", type=int, default=5_000)
    many.add_argument("--bulk-checks", type=int, default=50_000)
    many.add_argument("--seconds", type=float, default=10.0)
    many.add_argument("--concurrency", type=int, default=50)
    many.add_argument("--batch", type=int, default=100)
    many.add_argument("--batch-callers", type=int, default=4)
    many.add_argument("--streams", type=int, default=4)
    many.add_argument("--window", type=int, default=200)
    many.add_argument("--workers", type=int, default=16)
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows live
    if args.bench == "propagation":
        propagation(args)
    else:
        processes(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
