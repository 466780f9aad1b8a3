"""Statistics reports and overdue lists as a text table, CSV or JSON for the `checkd` command."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, fields
from typing import Any

from checkd.days import CHINA_TZ
from checkd.loop.statistics import OverdueItem, Report
from checkd.store.stats import Figures

FORMATS = ("table", "csv", "json")
# Column name -> Figures attribute, in the order the credit office reads them.
COLUMNS = {
    "checks": "checks",
    "subjects": "subjects_checked",
    "hit_penalty": "subjects_hit_penalty",
    "hit_reward": "subjects_hit_reward",
    "mandatory": "measures_mandatory",
    "discretionary": "measures_discretionary",
    "fb_applied": "feedback_applied",
    "fb_not_applied": "feedback_not_applied",
    "fb_partial": "feedback_partially_applied",
    "fb_objected": "feedback_objected",
    "fb_missing": "checks_missing_feedback",
    "overdue": "penalty_checks_overdue",
    "restrictions": "restrictions_applied",
}


def render_report(report: Report, fmt: str) -> str:
    """The report in the chosen format (table, csv or json)."""
    if fmt == "json":
        return json.dumps(report_dict(report), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return _csv(
            ["department", "month", *COLUMNS],
            [
                *([r.department, r.month, *_numbers(r.figures)] for r in report.rows),
                ["TOTAL", "", *_numbers(report.total)],
            ],
        )
    if fmt == "table":
        return _table(report)
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def report_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data (full field names)."""
    return {
        "from": report.from_date.isoformat(),
        "to": report.to_date.isoformat(),
        "timezone": str(CHINA_TZ),
        "department": report.department or None,
        "overdue_days": report.overdue_days,
        "as_of": report.as_of.isoformat(),
        "rows": [{"department": r.department, "month": r.month, **asdict(r.figures)} for r in report.rows],
        "total": asdict(report.total),
        "plan": {
            "checks_per_year": report.plan_checks_per_year,
            "years": {
                year: {"checks": n, "share_of_plan": round(n / report.plan_checks_per_year, 6)}
                for year, n in sorted(report.checks_by_year.items())
            },
        },
    }


def render_overdue(items: list[OverdueItem], fmt: str) -> str:
    """The overdue follow-up list in the chosen format."""
    header = ["check_id", "department", "matter", "scene", "recorded_at", "measures", "penalty_measures"]
    rows = [
        [
            i.check_id,
            i.department,
            i.matter,
            i.scene,
            i.recorded_at.astimezone(CHINA_TZ).isoformat(),
            i.measures,
            " ".join(i.penalty_measures),
        ]
        for i in items
    ]
    if fmt == "json":
        return (
            json.dumps([dict(zip(header, row, strict=True)) for row in rows], ensure_ascii=False, indent=2)
            + "\n"
        )
    if fmt == "csv":
        return _csv(header, rows)
    if fmt == "table":
        return _align(header, rows) + f"{len(items)} overdue check(s)\n"
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def _numbers(figures: Figures) -> list[int]:
    return [getattr(figures, attribute) for attribute in COLUMNS.values()]


def _table(report: Report) -> str:
    scope = report.department or "all departments"
    as_of = report.as_of.astimezone(CHINA_TZ)
    lines = [
        f"checks {report.from_date} .. {report.to_date} ({CHINA_TZ}), {scope}; "
        f"overdue after {report.overdue_days} days as of {as_of:%Y-%m-%d %H:%M}\n"
    ]
    rows: list[list[Any]] = [[r.department, r.month, *_numbers(r.figures)] for r in report.rows]
    rows.append(["TOTAL", "", *_numbers(report.total)])
    lines.append(_align(["department", "month", *COLUMNS], rows))
    for year, checks in sorted(report.checks_by_year.items()):
        share = 100 * checks / report.plan_checks_per_year
        lines.append(
            f"{year}: {checks:,} checks in range = {share:.2f}% of the plan's "
            f"{report.plan_checks_per_year:,} a year\n"
        )
    return "".join(lines)


def _align(header: list[str], rows: list[list[Any]]) -> str:
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [all(isinstance(row[i], int) for row in rows) and bool(rows) for i in range(len(header))]
    out = io.StringIO()
    for row in cells:
        out.write(
            "  ".join(
                c.rjust(w) if n else c.ljust(w) for c, w, n in zip(row, widths, numeric, strict=True)
            ).rstrip()
            + "\n"
        )
    return out.getvalue()


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def figure_names() -> list[str]:
    """The names of every figure of a row, as JSON and the Stats RPC carry them."""
    return [item.name for item in fields(Figures)]
