"""`checkd report` and `checkd overdue`: closed-loop statistics read from a store."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from checkd.cli.options import db_option
from checkd.config import default

if TYPE_CHECKING:
    from checkd.loop.storage import StatsReader


def register(commands: Any) -> None:
    """The report and overdue commands."""
    report = commands.add_parser("report", help="closed-loop statistics per department and month")
    db_option(report)
    report.add_argument("--from", dest="from_date", required=True, help="first day, YYYY-MM-DD (UTC+8)")
    report.add_argument("--to", dest="to_date", required=True, help="last day, YYYY-MM-DD (UTC+8)")
    report.add_argument("--department", default="")
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")
    report.add_argument("--overdue-days", type=int, default=default("overdue_days"))
    report.add_argument("--as-of", default="", help="count overdue as of this date/timestamp (default now)")
    report.set_defaults(run=_report)

    overdue = commands.add_parser("overdue", help="penalty checks still without feedback after N days")
    db_option(overdue)
    overdue.add_argument("--department", default="")
    overdue.add_argument("--days", type=int, default=default("overdue_days"))
    overdue.add_argument("--as-of", default="", help="as of this date/timestamp (default now)")
    overdue.add_argument("--limit", type=int, default=1000)
    overdue.add_argument("--format", choices=("table", "csv", "json"), default="table")
    overdue.set_defaults(run=_overdue)


def _report(args: argparse.Namespace) -> int:
    """`checkd report`: read the store directly and print the statistics."""
    from checkd.loop.reports import render_report
    from checkd.loop.statistics import Statistics, check_overdue_days, parse_as_of, parse_range
    from checkd.typing import utc_now

    def compute() -> str:
        start, end = parse_range(args.from_date, args.to_date, from_field="--from", to_field="--to")
        check_overdue_days(args.overdue_days, "--overdue-days")
        as_of = parse_as_of(args.as_of, "--as-of")
        statistics = Statistics(_repository(args.db), utc_now, args.overdue_days)
        return render_report(statistics.report(start, end, args.department.strip(), None, as_of), args.format)

    return _run("report", compute)


def _overdue(args: argparse.Namespace) -> int:
    """`checkd overdue`: the penalty checks to chase, oldest first."""
    from checkd.errors import InvalidArgument, Violation
    from checkd.loop.reports import render_overdue
    from checkd.loop.statistics import Statistics, check_overdue_days, parse_as_of
    from checkd.typing import utc_now

    def compute() -> str:
        check_overdue_days(args.days, "--days")
        if args.limit < 1:
            raise InvalidArgument([Violation("--limit", "must be at least 1")])
        as_of = parse_as_of(args.as_of, "--as-of")
        statistics = Statistics(_repository(args.db), utc_now, args.days)
        items = statistics.overdue(args.days, args.department.strip(), as_of, args.limit)
        return render_overdue(items, args.format)

    return _run("overdue", compute)


def _run(command: str, compute: Callable[[], str]) -> int:
    """Print the output, or the problem naming the option; exit 0 / 1 (bad input) / 2 (failed)."""
    from checkd.errors import CheckdError, InvalidArgument

    try:
        sys.stdout.write(compute())
    except InvalidArgument as exc:
        for violation in exc.violations:
            print(f"checkd {command}: {violation.field}: {violation.description}", file=sys.stderr)
        return 1
    except CheckdError as exc:
        print(f"checkd {command}: {exc.message}", file=sys.stderr)
        return 2
    return 0


def _repository(url: str) -> StatsReader:
    """The store's statistics, with the indexes they need on a store made before them."""
    from checkd.store.db import open_existing
    from checkd.store.stats import StatsRepository

    repository = StatsRepository(open_existing(url))
    repository.ensure_indexes()
    return repository
