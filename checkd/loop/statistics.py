"""Closed-loop statistics per department and month, and the overdue follow-up list, from the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from checkd.days import CHINA_TZ, china_day, china_midnight
from checkd.errors import InvalidArgument, Violation
from checkd.evidence.answers import penalty_measures
from checkd.loop.storage import StatsReader
from checkd.store.stats import Figures

# The credit office counts in China Standard Time (no daylight saving): months and dates are CST.
CST = CHINA_TZ  # the one zone of checkd/days.py, under the name the reports import
PLAN_CHECKS_PER_YEAR = 1_500_000  # the plan's 2025 indicator (协同核查量)
MAX_MONTHS = 120
DEFAULT_OVERDUE_DAYS = 30
# The dates statistics accept: month windows, UTC+8 conversions and overdue cut-offs computed from
# them stay inside the calendar Python and the stores represent (year 1 minus 8 hours is not).
MIN_DATE, MAX_DATE = dt.date(1900, 1, 1), dt.date(9998, 12, 31)
MAX_OVERDUE_DAYS = 36_500  # a century; more cannot be meant


@dataclass(frozen=True, slots=True)
class FollowUp:
    """Checks with measures still awaiting feedback, and penalty checks overdue for it."""

    awaiting: int
    overdue: int


@dataclass(frozen=True, slots=True)
class Row:
    """One department's figures for one month (YYYY-MM, CST)."""

    department: str
    month: str
    figures: Figures


@dataclass(frozen=True, slots=True)
class Report:
    """A whole statistics answer: rows, total, per-year checks against the plan."""

    from_date: dt.date
    to_date: dt.date
    department: str
    overdue_days: int
    as_of: dt.datetime
    rows: list[Row]
    total: Figures
    plan_checks_per_year: int = PLAN_CHECKS_PER_YEAR
    checks_by_year: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OverdueItem:
    """A check to chase: penalty measures pushed, no feedback after the allowed days."""

    check_id: str
    department: str
    matter: str
    scene: str
    recorded_at: dt.datetime
    measures: int
    penalty_measures: tuple[str, ...]


class Statistics:
    """Computes reports, the overdue list and the follow-up gauges over a StatsReader."""

    def __init__(
        self,
        repository: StatsReader,
        clock: Callable[[], dt.datetime],
        overdue_days: int = DEFAULT_OVERDUE_DAYS,
    ) -> None:
        self._repo = repository
        self._clock = clock
        self.overdue_days = overdue_days

    def report(
        self,
        from_date: dt.date,
        to_date: dt.date,
        department: str = "",
        overdue_days: int | None = None,
        as_of: dt.datetime | None = None,
    ) -> Report:
        """Per department and month over [from_date, to_date] (CST), with totals."""
        days = self.overdue_days if overdue_days is None else overdue_days
        moment = as_of or self._clock()
        windows = month_windows(from_date, to_date)
        cutoff = overdue_before(moment, days)
        rows: list[Row] = []
        total = Figures()
        by_year: dict[str, int] = {}
        for month, start, end in windows:
            for dept, figures in sorted(self._repo.window(start, end, department or None, cutoff).items()):
                rows.append(Row(dept, month, figures))
                total.add(figures)
                by_year[month[:4]] = by_year.get(month[:4], 0) + figures.checks
        return Report(from_date, to_date, department, days, moment, rows, total, checks_by_year=by_year)

    def overdue(
        self,
        days: int | None = None,
        department: str = "",
        as_of: dt.datetime | None = None,
        limit: int = 1000,
    ) -> list[OverdueItem]:
        """Penalty checks with no feedback after `days` days as of `as_of`, oldest first."""
        allowed = self.overdue_days if days is None else days
        cutoff = overdue_before(as_of or self._clock(), allowed)
        return [
            OverdueItem(
                c.check_id,
                c.department,
                c.matter,
                c.scene,
                c.recorded_at,
                c.measures,
                penalty_measures(c.payload),
            )
            for c in self._repo.overdue(cutoff, department or None, limit)
        ]

    def follow_up(self) -> FollowUp:
        """Store-wide checks awaiting feedback and penalty checks overdue (for the gauges)."""
        awaiting, overdue = self._repo.follow_up(overdue_before(self._clock(), self.overdue_days))
        return FollowUp(awaiting, overdue)


def overdue_before(moment: dt.datetime, days: int) -> dt.datetime:
    """The instant before which an unanswered penalty check is overdue at `moment`.

    Days are CST calendar days: a check recorded on day D may be answered until the end of day
    D + days and is overdue from the next day on, whatever the hour it was recorded.
    """
    return china_midnight(china_day(moment) - dt.timedelta(days=days))


def month_windows(from_date: dt.date, to_date: dt.date) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """(YYYY-MM, start, end) per month touched by [from_date, to_date], clipped to the range, in CST."""
    windows = []
    day = from_date
    end_exclusive = to_date + dt.timedelta(days=1)
    while day < end_exclusive:
        next_month = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        stop = min(next_month, end_exclusive)
        windows.append((f"{day:%Y-%m}", china_midnight(day), china_midnight(stop)))
        day = stop
    return windows


def parse_range(
    from_text: str, to_text: str, *, from_field: str = "from_date", to_field: str = "to_date"
) -> tuple[dt.date, dt.date]:
    """Validate an inclusive date range; errors name the field."""
    problems: list[Violation] = []
    start = _date(from_text, from_field, problems)
    end = _date(to_text, to_field, problems)
    if start and end:
        if end < start:
            problems.append(Violation(to_field, f"{end} is before {from_field} {start}"))
        elif (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
            problems.append(Violation(to_field, f"the range spans more than {MAX_MONTHS} months"))
    if problems:
        raise InvalidArgument(problems)
    assert start is not None and end is not None
    return start, end


def parse_as_of(text: str, field_name: str = "as_of") -> dt.datetime | None:
    """An ISO date (meaning the end of that day, CST) or an ISO timestamp; empty: None (now)."""
    text = text.strip()
    if not text:
        return None
    try:
        whole_day = len(text) == 10
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(
            [Violation(field_name, f"{text[:40]!r} is not an ISO date or timestamp")]
        ) from None
    problem = _out_of_range(moment.date())
    if problem:
        raise InvalidArgument([Violation(field_name, problem)])
    if whole_day:
        return china_midnight(moment.date() + dt.timedelta(days=1))
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


def check_overdue_days(days: int, field_name: str = "overdue_days") -> None:
    """Reject a negative or absurdly large number of days, naming the field."""
    if days < 0:
        raise InvalidArgument([Violation(field_name, "must not be negative")])
    if days > MAX_OVERDUE_DAYS:
        raise InvalidArgument([Violation(field_name, f"at most {MAX_OVERDUE_DAYS} days")])


def _out_of_range(day: dt.date) -> str | None:
    """Why a date is outside the supported calendar, or None."""
    if MIN_DATE <= day <= MAX_DATE:
        return None
    return f"{day.isoformat()} is outside the supported dates {MIN_DATE} to {MAX_DATE}"


def _date(text: str, field_name: str, problems: list[Violation]) -> dt.date | None:
    if not text.strip():
        problems.append(Violation(field_name, "required (ISO date YYYY-MM-DD)"))
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        problems.append(Violation(field_name, f"{text[:40]!r} is not an ISO date YYYY-MM-DD"))
        return None
    problem = _out_of_range(day)
    if problem:
        problems.append(Violation(field_name, problem))
        return None
    return day
