"""Calendar days are China Standard Time days (UTC+8), through the real daemon on both backends.

Entry periods, measure validity, statistics months and overdue days must not be a day off during
the eight hours each day when the UTC date and the Beijing date differ.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.model import Role, SubjectType
from checkd.rules.catalogue import load_catalogue
from tests import factories
from tests.daemon import ROOT, RunningDaemon, run_cli, start_daemon

DEPT, SCENE, LIST = "market_regulation", "administrative_licensing", "serious_illegal_dishonest"
SUPERVISION = "supervision"
BEIJING = dt.timezone(dt.timedelta(hours=8))  # written out here, not taken from checkd
# 07:00 Beijing time on 16 June is 23:00 UTC on 15 June.
EARLY_16TH = dt.datetime(2026, 6, 16, 7, 0, tzinfo=BEIJING)
LATE_15TH = dt.datetime(2026, 6, 15, 23, 30, tzinfo=BEIJING)  # 15:30 UTC, the same date in both zones
LIBFAKETIME = next(
    (
        p
        for p in (
            Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"),
            Path("/usr/lib/faketime/libfaketimeMT.so.1"),
        )
        if p.exists()
    ),
    None,
)


def _stamp(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(dt.UTC))
    return stamp


def _upsert(daemon: RunningDaemon, *rows: dict[str, str]) -> None:
    daemon.registry.UpsertEntries(
        reg.UpsertEntriesRequest(entries=[factories.entry_input(r) for r in rows]), timeout=30
    )


def _check(
    daemon: RunningDaemon, as_of: dt.datetime | None, *subject_ids: str, scene: str = SCENE
) -> pb.CheckResponse:
    request = pb.CheckRequest(department=DEPT, scene=scene, subjects=[pb.Subject(id=s) for s in subject_ids])
    if as_of is not None:
        request.as_of.CopyFrom(_stamp(as_of))
    response: pb.CheckResponse = daemon.check.Check(request, timeout=30)
    return response


def _entry_ids(response: pb.CheckResponse) -> list[list[str]]:
    return [sorted(e.entry_id for e in s.entries) for s in sorted(response.subjects, key=lambda s: s.index)]


def test_entries_start_and_end_on_china_standard_time_days(daemon: RunningDaemon) -> None:
    """At 07:00 Beijing time on 16 June an entry ended on 15 June is gone; one starting that day applies."""
    ended, starting = factories.uscc(), factories.uscc()
    _upsert(
        daemon,
        factories.entry_row("CST-END", ended, LIST, start="2025-06-16", end="2026-06-15"),
        factories.entry_row("CST-START", starting, LIST, start="2026-06-16", end="2027-06-15"),
    )
    early = _check(daemon, EARLY_16TH, ended, starting)
    assert _entry_ids(early) == [[], ["CST-START"]]
    assert early.subjects[0].verdict == pb.VERDICT_CLEAR and early.subjects[1].measures
    late = _check(daemon, LATE_15TH, ended, starting)  # the last minutes of 15 June: the end is inclusive
    assert _entry_ids(late) == [["CST-END"], []]


def _in_scope_measures() -> list[str]:
    """Open-ended market regulation supervision measures an enterprise on the serious list gets."""
    catalogue = load_catalogue(ROOT / "rules")
    return sorted(
        m.measure_id
        for m in catalogue.measures
        if DEPT in m.departments
        and SUPERVISION in m.scenes
        and not m.matters
        and any(t.list_id == LIST for t in m.triggers)
        and Role.SUBJECT in m.roles
        and SubjectType.ENTERPRISE in m.subject_types
        and m.effective_to is None
    )


def _set_validity(rules: Path, measure_id: str, field: str, day: str) -> None:
    """Rewrite one measure's effective_from / effective_to in a copy of rules/."""
    for path in (rules / "measures").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        block = re.search(rf"- id: {measure_id}\n.*?(?=\n  - id: |\Z)", text, re.S)
        if block:
            changed = re.sub(rf"{field}: \S+", f"{field}: {day}", block.group(0), count=1)
            assert changed != block.group(0), (measure_id, field)
            path.write_text(text[: block.start()] + changed + text[block.end() :], encoding="utf-8")
            return
    raise AssertionError(f"{measure_id} not found")


def test_measure_validity_follows_china_standard_time_days(db_url: str, tmp_path: Path) -> None:
    """A measure retired after 15 June is not pushed at 07:00 Beijing time on the 16th; one starting is."""
    retired, new, *_ = _in_scope_measures()
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    _set_validity(rules, retired, "effective_to", "2026-06-15")
    _set_validity(rules, new, "effective_from", "2026-06-16")
    daemon = start_daemon(db_url, tmp_path, "--rules", str(rules))
    try:
        subject = factories.uscc()
        _upsert(daemon, factories.entry_row("CST-M", subject, LIST, start="2025-06-16"))
        early = {
            m.measure_id for m in _check(daemon, EARLY_16TH, subject, scene=SUPERVISION).subjects[0].measures
        }
        assert new in early and retired not in early
        late = {
            m.measure_id for m in _check(daemon, LATE_15TH, subject, scene=SUPERVISION).subjects[0].measures
        }
        assert retired in late and new not in late
    finally:
        assert daemon.stop() == 0, daemon.log_text()


@pytest.mark.skipif(LIBFAKETIME is None, reason="libfaketime (apt package faketime) is not installed")
def test_statistics_months_and_overdue_days_are_china_standard_time(db_url: str, tmp_path: Path) -> None:
    """At 03:00 Beijing time on 1 July a check counts in July, overdue days run to midnight, repair opens."""
    # The daemon's wall clock starts at 2026-06-30 19:00 UTC = 2026-07-01 03:00 Beijing time. The
    # monotonic clock stays real: libfaketime's faked one hangs timed waits (Event.wait(0.5) never returns).
    clock = {
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME": "@2026-06-30 19:00:00",
        "TZ": "UTC",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }
    daemon = start_daemon(db_url, tmp_path, env=clock)
    try:
        subject = factories.uscc()
        _upsert(daemon, factories.entry_row("CST-S", subject, LIST, start="2025-07-01"))
        answer = _check(daemon, None, subject)
        assert any(m.polarity == pb.POLARITY_PENALTY for m in answer.subjects[0].measures)
        stored = daemon.check.GetCheck(pb.GetCheckRequest(check_id=answer.check_id), timeout=10)
        recorded = stored.recorded_at.ToDatetime(tzinfo=dt.UTC)
        assert recorded.date() == dt.date(2026, 6, 30) and recorded.astimezone(BEIJING).hour == 3
        stats = daemon.registry.Stats(
            reg.StatsRequest(from_date="2026-06-01", to_date="2026-07-31"), timeout=30
        )
        assert [(r.month, r.checks) for r in stats.rows] == [("2026-07", 1)]

        def overdue(as_of: str) -> int:
            request = reg.StatsRequest(
                from_date="2026-07-01", to_date="2026-07-31", overdue_days=1, as_of=as_of
            )
            return daemon.registry.Stats(request, timeout=30).total.penalty_checks_overdue

        # Recorded on 1 July, one day to answer: still in time at 23:00 on 2 July, overdue after it.
        assert overdue("2026-07-02T23:00:00+08:00") == 0
        assert overdue("2026-07-03T00:30:00+08:00") == 1
        # Listed 2025-07-01 with a one-year minimum: credit repair is allowed from 1 July (Beijing time).
        daemon.registry.RevokeEntry(
            reg.RevokeEntryRequest(
                entry_id="CST-S", kind="repair", reason="信用修复", document_no="嘉信修〔2026〕7号"
            ),
            timeout=30,
        )
    finally:
        assert daemon.stop() == 0, daemon.log_text()
    june = run_cli(
        "report",
        "--db",
        db_url,
        "--from",
        "2026-06-30",
        "--to",
        "2026-06-30",
        "--format",
        "json",
        workdir=tmp_path,
    )
    july = run_cli(
        "report",
        "--db",
        db_url,
        "--from",
        "2026-07-01",
        "--to",
        "2026-07-01",
        "--format",
        "json",
        workdir=tmp_path,
    )
    assert june.returncode == 0 and july.returncode == 0, june.stderr + july.stderr
    assert json.loads(june.stdout)["total"]["checks"] == 0 and json.loads(july.stdout)["total"]["checks"] == 1
    for as_of, expected in (
        ("2026-07-02T23:00:00+08:00", []),
        ("2026-07-03T00:30:00+08:00", [answer.check_id]),
    ):
        listed = run_cli(
            "overdue", "--db", db_url, "--days", "1", "--as-of", as_of, "--format", "json", workdir=tmp_path
        )
        assert listed.returncode == 0, listed.stderr
        assert [item["check_id"] for item in json.loads(listed.stdout)] == expected
