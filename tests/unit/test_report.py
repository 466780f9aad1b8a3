"""Report formatting and the statistics' date handling, without a store or a network."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from checkd.errors import InvalidArgument
from checkd.loop.reports import COLUMNS, figure_names, render_overdue, render_report
from checkd.loop.statistics import CST, OverdueItem, Report, Row, month_windows, parse_as_of, parse_range
from checkd.store.stats import Figures


def sample_report() -> Report:
    """Two departments over two months, with a total that adds them up."""
    rows = [
        Row(
            "market_regulation",
            "2026-01",
            Figures(checks=120, subjects_checked=130, feedback_applied=3, restrictions_applied=2),
        ),
        Row("housing_construction", "2026-01", Figures(checks=7, subjects_checked=7)),
        Row(
            "market_regulation", "2026-02", Figures(checks=30, subjects_checked=31, penalty_checks_overdue=1)
        ),
    ]
    total = Figures()
    for row in rows:
        total.add(row.figures)
    return Report(
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 28),
        "",
        30,
        dt.datetime(2026, 3, 1, tzinfo=CST),
        rows,
        total,
        checks_by_year={"2026": 157},
    )


def test_month_windows_cover_the_range_in_china_time() -> None:
    """Windows split at CST month starts and clip to the requested days, so no check is counted twice."""
    windows = month_windows(dt.date(2026, 1, 15), dt.date(2026, 3, 3))
    assert [w[0] for w in windows] == ["2026-01", "2026-02", "2026-03"]
    assert windows[0][1] == dt.datetime(2026, 1, 15, tzinfo=CST)
    assert windows[0][2] == windows[1][1] == dt.datetime(2026, 2, 1, tzinfo=CST)
    assert windows[-1][2] == dt.datetime(2026, 3, 4, tzinfo=CST)
    # 16:00 UTC on 31 January is already 1 February in Jiaxing.
    assert windows[1][1] == dt.datetime(2026, 1, 31, 16, tzinfo=dt.UTC)


def test_year_end_window_rolls_over() -> None:
    """December's window ends at the first of January of the next year."""
    (window,) = month_windows(dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert window == ("2025-12", dt.datetime(2025, 12, 1, tzinfo=CST), dt.datetime(2026, 1, 1, tzinfo=CST))


@pytest.mark.parametrize(
    ("start", "end", "field", "words"),
    [
        ("", "2026-01-31", "from_date", "required"),
        ("2026-02-30", "2026-03-01", "from_date", "not an ISO date"),
        ("2026-03-01", "2026-02-01", "to_date", "before"),
        ("2010-01-01", "2026-01-01", "to_date", "more than 120 months"),
    ],
)
def test_bad_ranges_name_the_field(start: str, end: str, field: str, words: str) -> None:
    """Bad dates are refused with the field (or CLI flag) that carried them."""
    with pytest.raises(InvalidArgument) as error:
        parse_range(start, end)
    assert [(v.field, words in v.description) for v in error.value.violations] == [(field, True)]


def test_cli_flags_are_named_instead_of_fields() -> None:
    """The CLI passes its flag names so the message points at --from / --to."""
    with pytest.raises(InvalidArgument) as error:
        parse_range("x", "y", from_field="--from", to_field="--to")
    assert [v.field for v in error.value.violations] == ["--from", "--to"]


def test_as_of_date_means_the_end_of_that_day() -> None:
    """--as-of 2026-03-01 counts everything recorded that day; a timestamp is taken as given."""
    assert parse_as_of("2026-03-01") == dt.datetime(2026, 3, 2, tzinfo=CST)
    assert parse_as_of("2026-03-01T10:00:00+00:00") == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    assert parse_as_of("  ") is None
    with pytest.raises(InvalidArgument) as error:
        parse_as_of("tomorrow", "--as-of")
    assert error.value.violations[0].field == "--as-of"


def test_csv_has_every_row_and_a_total() -> None:
    """The CSV holds one line per row plus TOTAL, with the column names the table uses."""
    parsed = list(csv.reader(io.StringIO(render_report(sample_report(), "csv"))))
    assert parsed[0] == ["department", "month", *COLUMNS]
    assert [r[:3] for r in parsed[1:]] == [
        ["market_regulation", "2026-01", "120"],
        ["housing_construction", "2026-01", "7"],
        ["market_regulation", "2026-02", "30"],
        ["TOTAL", "", "157"],
    ]


def test_json_carries_full_names_and_the_plan_share() -> None:
    """JSON rows use the Stats RPC field names; the year's checks are set against 1.5 million."""
    data = json.loads(render_report(sample_report(), "json"))
    assert set(data["rows"][0]) == {"department", "month", *figure_names()}
    assert data["total"]["checks"] == 157 and data["total"]["restrictions_applied"] == 2
    assert data["plan"] == {
        "checks_per_year": 1_500_000,
        "years": {"2026": {"checks": 157, "share_of_plan": round(157 / 1_500_000, 6)}},
    }


def test_table_is_aligned_and_states_the_scope() -> None:
    """The table says the range, time zone and overdue rule, aligns numbers right, ends with the plan line."""
    lines = render_report(sample_report(), "table").splitlines()
    assert lines[0].startswith("checks 2026-01-01 .. 2026-02-28 (UTC+08:00), all departments")
    header, *body = lines[1:6]
    assert header.index("checks") + len("checks") == body[0].index("120") + 3  # right-aligned column
    assert body[-1].startswith("TOTAL")
    assert lines[-1] == "2026: 157 checks in range = 0.01% of the plan's 1,500,000 a year"


def test_overdue_list_formats() -> None:
    """The overdue list shows CST times and the penalty measures to chase, in every format."""
    item = OverdueItem(
        "c1",
        "market_regulation",
        "开办",
        "administrative_licensing",
        dt.datetime(2026, 1, 31, 17, tzinfo=dt.UTC),
        2,
        ("MR-P-001", "MR-P-002"),
    )
    (row,) = json.loads(render_overdue([item], "json"))
    assert row["recorded_at"] == "2026-02-01T01:00:00+08:00"
    assert row["penalty_measures"] == "MR-P-001 MR-P-002"
    assert render_overdue([item], "table").splitlines()[-1] == "1 overdue check(s)"
    assert render_overdue([], "csv").strip() == ",".join(
        ["check_id", "department", "matter", "scene", "recorded_at", "measures", "penalty_measures"]
    )
    with pytest.raises(ValueError, match="unknown format"):
        render_overdue([item], "xml")
