"""`checkd report` and `checkd overdue`: closed-loop statistics read from a store."""

from __future__ import annotations

import argparse
from typing import Any

from checkd.cli.options import db_option
from checkd.config import default


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
    from checkd.loop.reports import run_report

    return run_report(args)


def _overdue(args: argparse.Namespace) -> int:
    from checkd.loop.reports import run_overdue

    return run_overdue(args)
