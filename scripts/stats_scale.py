"""Time the closed-loop statistics over a year of synthetic checks (1.5 million by default).

    python scripts/stats_scale.py --db sqlite:////tmp/stats-scale.db [--checks 1500000]

Rows go straight into `checks`, `feedback` and `feedback_outcomes` through the database driver
(the daemon's ledger is not involved): the point is the report queries, not the write path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

from checkd.loop.statistics import CST, Statistics
from checkd.store import Database
from checkd.store.stats import StatsRepository

DEPARTMENTS = [f"dept_{i:02d}" for i in range(31)]
YEAR = 2025


def synthetic_checks(count: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """Check rows spread over the year: ~2% penalty hits, ~1% reward hits, the rest clear."""
    rng = random.Random(seed)
    start = dt.datetime(YEAR, 1, 1, tzinfo=CST).astimezone(dt.UTC)
    seconds = 365 * 86400
    for i in range(count):
        at = start + dt.timedelta(seconds=rng.random() * seconds)
        draw = rng.random()
        penalty, reward = draw < 0.02, 0.02 <= draw < 0.03
        yield (
            f"c{i:010d}",
            rng.choice(DEPARTMENTS),
            None,
            "matter",
            "administrative_licensing",
            "restrict" if penalty else "reward" if reward else "clear",
            at,
            i + 1,
            1,
            int(penalty),
            int(reward),
            2 if penalty else 0,
            2 if reward else 0,
            penalty,
        )


def fill(url: str, count: int, seed: int) -> None:
    """Create the schema with the daemon's own code, then bulk-insert through the driver."""
    Database(url).close()
    rows = list(synthetic_checks(count, seed))
    hits = [r for r in rows if r[9] or r[10]]
    answered = [r for r in hits if hash(r[0]) % 5]  # ~80% of checks with measures get feedback
    feedback = [(f"f{r[0]}", r[0], "d" * 64, r[6], r[7]) for r in answered]
    outcomes = [
        (
            f"f{r[0]}",
            r[0],
            f"M-{k}",
            "91330000MA0000000X",
            "applied" if k else "not_applied",
            "restrict",
            r[6],
        )
        for r in answered
        for k in range(2)
    ]
    insert_checks = (
        "INSERT INTO checks (check_id, department, request_id, matter, scene, verdict, "
        "recorded_at, seq, subjects, subjects_hit_penalty, subjects_hit_reward, "
        "measures_mandatory, measures_discretionary, has_penalty) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    insert_feedback = (
        "INSERT INTO feedback (feedback_id, check_id, digest, recorded_at, seq) VALUES (?, ?, ?, ?, ?)"
    )
    insert_outcomes = (
        "INSERT INTO feedback_outcomes (feedback_id, check_id, measure_id, subject_id, "
        "outcome, action, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    if url.startswith("sqlite"):

        def text(row: tuple[Any, ...]) -> tuple[Any, ...]:
            # SQLite keeps instants as naive UTC text, as the daemon's store writes them.
            return tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, dt.datetime) else v for v in row)

        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            conn.executemany(insert_checks, map(text, rows))
            conn.executemany(insert_feedback, map(text, feedback))
            conn.executemany(insert_outcomes, map(text, outcomes))
        return
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn, conn.cursor() as cursor:
        for statement, data in (
            (insert_checks, rows),
            (insert_feedback, feedback),
            (insert_outcomes, outcomes),
        ):
            table = statement.split(" (", 1)[0].split()[-1]
            columns = statement.split("(", 1)[1].split(")")[0]
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(
                        [
                            bool(v) if c == "has_penalty" else v
                            for c, v in zip(columns.split(", "), row, strict=True)
                        ]
                    )
        conn.execute("ANALYZE")


def main() -> None:
    """Fill (unless --no-fill) and time the year report, the follow-up counts and the overdue list."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--checks", type=int, default=1_500_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-fill", action="store_true")
    args = parser.parse_args()
    if not args.no_fill:
        started = time.perf_counter()
        fill(args.db, args.checks, args.seed)
        print(f"filled {args.checks:,} checks in {time.perf_counter() - started:.1f} s")
    repository = StatsRepository(Database(args.db))
    repository.ensure_indexes()
    as_of = dt.datetime(YEAR + 1, 1, 15, tzinfo=CST)
    statistics = Statistics(repository, lambda: as_of)
    for label, run in (
        (
            "report, year, all departments",
            lambda: statistics.report(dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)),
        ),
        (
            "report, year, one department",
            lambda: statistics.report(dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31), DEPARTMENTS[3]),
        ),
        (
            "report, one month, all departments",
            lambda: statistics.report(dt.date(YEAR, 6, 1), dt.date(YEAR, 6, 30)),
        ),
        ("follow-up gauges (store-wide)", statistics.follow_up),
    ):
        started = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - started
        checks = getattr(getattr(result, "total", None), "checks", result)
        print(f"{label}: {elapsed * 1000:.0f} ms ({checks})")


if __name__ == "__main__":
    main()
