"""China Standard Time calendar days: the one zone every date of the rules is counted in.

Entry start/end, measure validity, time rules, statistics months and overdue days are calendar
days in UTC+8 (no daylight saving), inclusive at both ends. Instants stay aware UTC datetimes;
whenever a date is derived from an instant it goes through `china_day`, never `.date()`.
"""

from __future__ import annotations

import calendar
import datetime as dt

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "UTC+08:00")


def china_day(instant: dt.datetime) -> dt.date:
    """The China Standard Time calendar day of an instant (a naive instant is taken as UTC)."""
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=dt.UTC)
    return aware.astimezone(CHINA_TZ).date()


def china_midnight(day: dt.date) -> dt.datetime:
    """The instant a China Standard Time calendar day begins."""
    return dt.datetime.combine(day, dt.time(), CHINA_TZ)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (clamped to the month's end): the one month arithmetic of checkd."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))
