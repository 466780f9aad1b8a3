"""The year replay: a year's checks of the realistic mix through BatchCheck or StreamCheck, with feedback.

    python -m bench.replay --scale city                 # 1.5 million checks
    python -m bench.replay --scale city --checks 50000  # a shorter run

Feedback goes to 90% of the checks that pushed a measure, while the checks are still flowing. At the
end it confirms from the store that every check and every feedback is in the ledger, and reads a
sample back through GetCheck.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from sqlalchemy import create_engine, text

from bench import load
from bench.mix import Mix, feedback_for, pushed, wants_feedback
from bench.run import DEFAULT_DATA, prepare_store
from bench.synth import ROOT, SCALES, Population
from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import check_pb2_grpc

YEAR = 1_500_000
NOOP_HIT_SHARE = 0.042  # checkd's hit share on the city mix: the baseline's client sends as much feedback


@dataclass
class Tally:
    """What the replay sent and what came back."""

    checks: int = 0
    check_errors: int = 0
    hits: int = 0
    feedback: int = 0
    feedback_errors: int = 0
    check_ids: list[str] = field(default_factory=list)
    departments: dict[str, str] = field(default_factory=dict)  # sampled check_id -> department
    with_feedback: set[str] = field(default_factory=set)
    answered_ids: set[str] = field(default_factory=set)  # request_ids of the acknowledged checks
    error_codes: Counter[str] = field(default_factory=Counter)  # status code -> checks or feedback failed


async def replay(
    target: str, mix: Mix, checks: int, mode: str, batch: int, callers: int, feedback_callers: int
) -> tuple[Tally, float]:
    """Push `checks` checks and their feedback; return the tally and the wall time."""
    tally = Tally()
    queue: asyncio.Queue[pb.FeedbackRequest | None] = asyncio.Queue(maxsize=10_000)
    sampler = random.Random(7)

    def answered(request: pb.CheckRequest, response: pb.CheckResponse) -> None:
        tally.checks += 1
        tally.answered_ids.add(request.request_id)
        if sampler.random() < 0.001 or len(tally.check_ids) < 20:
            tally.check_ids.append(response.check_id)
            tally.departments[response.check_id] = request.department
        if pushed(response):
            tally.hits += 1
            if wants_feedback(response.check_id):
                queue.put_nowait(feedback_for(response, request.department))

    async with load.channel(target) as channel:
        stub = check_pb2_grpc.CheckServiceStub(channel)

        async def give_feedback() -> None:
            while (item := await queue.get()) is not None:
                try:
                    await stub.SubmitFeedback(item, timeout=60)
                    tally.feedback += 1
                    tally.with_feedback.add(item.check_id)
                except grpc.aio.AioRpcError as error:
                    tally.feedback_errors += 1
                    tally.error_codes[f"feedback {error.code().name}"] += 1

        started = time.perf_counter()
        workers = [asyncio.create_task(give_feedback()) for _ in range(feedback_callers)]
        if mode == "batch":
            await _by_batch(stub, mix, checks, batch, callers, answered, tally)
        else:
            await _by_stream(stub, mix, checks, callers, answered, tally)
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)
        return tally, time.perf_counter() - started


async def _by_batch(
    stub: check_pb2_grpc.CheckServiceStub,
    mix: Mix,
    checks: int,
    size: int,
    callers: int,
    answered: load.OnResponse,
    tally: Tally,
) -> None:
    remaining = checks

    async def caller() -> None:
        nonlocal remaining
        while remaining > 0:
            items = mix.requests(min(size, remaining))
            remaining -= len(items)
            try:
                response = await stub.BatchCheck(pb.BatchCheckRequest(requests=items), timeout=120)
            except grpc.aio.AioRpcError as error:
                tally.check_errors += len(items)
                tally.error_codes[f"BatchCheck {error.code().name}: {error.details()}"] += len(items)
                continue
            for request, slot in zip(items, response.results, strict=True):
                if slot.HasField("response"):
                    answered(request, slot.response)
                else:
                    tally.check_errors += 1
                    tally.error_codes[f"item {slot.error.code}: {slot.error.message}"] += 1

    await asyncio.gather(*(caller() for _ in range(callers)))


async def _by_stream(
    stub: check_pb2_grpc.CheckServiceStub,
    mix: Mix,
    checks: int,
    streams: int,
    answered: load.OnResponse,
    tally: Tally,
) -> None:
    share = [checks // streams + (1 if i < checks % streams else 0) for i in range(streams)]

    async def one(count: int) -> None:
        sent: list[pb.CheckRequest] = []
        room = asyncio.Semaphore(500)

        async def produce() -> AsyncIterator[pb.CheckRequest]:
            for _ in range(count):
                await room.acquire()
                request = mix.request()
                sent.append(request)
                yield request

        received = 0
        try:
            async for response in stub.StreamCheck(produce(), timeout=24 * 3600):
                answered(sent[received], response)
                received += 1
                room.release()
        except grpc.aio.AioRpcError as error:
            tally.check_errors += count - received
            tally.error_codes[f"StreamCheck {error.code().name}: {error.details()}"] += count - received

    await asyncio.gather(*(one(n) for n in share if n))


def confirm(db_url: str, target: str, tally: Tally, before: tuple[int, int], prefix: str) -> list[str]:
    """Problems found when reading the replay back from the store and through GetCheck (none: []).

    Every acknowledged check must be stored. A call that failed at the caller (a deadline, say) may
    still have been recorded: its retry with the same request_id gets the original answer, so such
    records are counted, not reported as problems, as long as there are no more of them than failures.
    """
    problems = []
    engine = create_engine(db_url)
    with engine.connect() as connection:
        checks = connection.execute(text("SELECT count(*) FROM checks")).scalar_one() - before[0]
        feedback = connection.execute(text("SELECT count(*) FROM feedback")).scalar_one() - before[1]
        ledger = connection.execute(text("SELECT count(*) FROM ledger")).scalar_one()
        stored = set(
            connection.execute(
                text("SELECT request_id FROM checks WHERE request_id LIKE :prefix"), {"prefix": prefix + "%"}
            ).scalars()
        )
    engine.dispose()
    print(f"store: {checks:,} new checks, {feedback:,} new feedback, {ledger:,} ledger records in all")
    missing = tally.answered_ids - stored
    unacknowledged = len(stored - tally.answered_ids)
    if missing:
        problems.append(f"{len(missing):,} acknowledged checks are not stored, e.g. {sorted(missing)[:3]}")
    if unacknowledged:
        print(
            f"stored though the caller saw a failure: {unacknowledged:,} (of {tally.check_errors:,} failed)"
        )
    if unacknowledged > tally.check_errors:
        problems.append(f"{unacknowledged:,} checks stored that were neither answered nor failed")
    if feedback != tally.feedback:
        problems.append(f"{tally.feedback:,} feedback acknowledged but {feedback:,} stored")
    with grpc.insecure_channel(target, options=load.CHANNEL_OPTIONS) as channel:
        stub = check_pb2_grpc.CheckServiceStub(channel)
        for check_id in tally.check_ids:
            record = stub.GetCheck(pb.GetCheckRequest(check_id=check_id), timeout=30)
            if record.department != tally.departments[check_id] or record.response.check_id != check_id:
                problems.append(f"GetCheck {check_id}: answered record does not match")
            if (check_id in tally.with_feedback) != bool(record.feedback):
                problems.append(f"GetCheck {check_id}: feedback missing or unexpected")
    print(f"GetCheck spot-check: {len(tally.check_ids)} checks read back")
    return problems


def _counts(db_url: str) -> tuple[int, int]:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        found = (
            connection.execute(text("SELECT count(*) FROM checks")).scalar_one(),
            connection.execute(text("SELECT count(*) FROM feedback")).scalar_one(),
        )
    engine.dispose()
    return found


def noop_replay(args: argparse.Namespace, workdir: Path) -> float:
    """The same replay, same client and requests, against the no-op server; its checks/s."""
    noop = load.start_server("noop", load.noop_args(hit_share=NOOP_HIT_SHARE), workdir)
    try:
        mix = Mix(Population(SCALES[args.scale], args.seed), ROOT / "rules", args.seed + 100)
        tally, seconds = asyncio.run(
            replay(noop.target, mix, args.checks, args.mode, args.batch, args.callers, args.feedback_callers)
        )
    finally:
        noop.stop()
    rate = tally.checks / seconds
    print(
        f"no-op replay ({args.mode}): {tally.checks:,} checks in {seconds:.1f} s = {rate:,.0f} checks/s; "
        f"{tally.feedback:,} feedback; errors: {tally.check_errors} checks, {tally.feedback_errors} feedback"
    )
    return rate


def main(argv: list[str] | None = None) -> int:
    """Run the replay against a fresh checkd (or --target with its --db) and confirm the ledger."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.replay",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="city")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--checks", type=int, default=YEAR)
    parser.add_argument("--mode", choices=("batch", "stream"), default="batch")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--callers", type=int, default=4, help="concurrent batch callers / streams")
    parser.add_argument("--feedback-callers", type=int, default=16)
    parser.add_argument("--db", help="store URL (PostgreSQL, or the store of --target)")
    parser.add_argument("--target", help="a running daemon (needs --db for the ledger count)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the no-op replay with the same client"
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows live
    if args.target and not args.db:
        parser.error("--target needs --db to confirm the ledger")

    with tempfile.TemporaryDirectory(prefix="checkd-replay-") as tmp:
        workdir = Path(tmp)
        baseline = None if args.no_baseline else noop_replay(args, workdir)
        server = None
        if args.target:
            db_url, target = args.db, args.target
        else:
            db_url = prepare_store(args.scale, args.seed, args.data_dir, workdir, args.db)
            server = load.start_server("checkd", load.checkd_args(db_url), workdir, timeout=900)
            target = server.target
        mix = Mix(Population(SCALES[args.scale], args.seed), ROOT / "rules", args.seed + 100)
        before = _counts(db_url)
        try:
            tally, seconds = asyncio.run(
                replay(target, mix, args.checks, args.mode, args.batch, args.callers, args.feedback_callers)
            )
            print(
                f"replay ({args.mode}, scale {args.scale}): {tally.checks:,} checks in {seconds:.1f} s = "
                f"{tally.checks / seconds:,.0f} checks/s; {tally.hits:,} hits "
                f"({100 * tally.hits / max(tally.checks, 1):.1f}%), {tally.feedback:,} feedback; errors: "
                f"{tally.check_errors} checks, {tally.feedback_errors} feedback"
            )
            if baseline:
                print(f"ratio to the no-op replay: {tally.checks / seconds / baseline:.2f}")
            for cause, count in tally.error_codes.most_common():
                print(f"  failed: {count:,} x {cause}")
            problems = confirm(db_url, target, tally, before, mix.request_prefix)
        finally:
            if server is not None:
                server.stop()
    for problem in problems:
        print(f"LEDGER MISMATCH: {problem}")
    print("ledger confirmed: every check and feedback is stored" if not problems else "ledger NOT confirmed")
    return 1 if problems or tally.check_errors or tally.feedback_errors else 0


if __name__ == "__main__":
    sys.exit(main())
