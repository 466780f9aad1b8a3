"""Entry digests in admin records: large changes split into parts that still account for every entry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from checkd.evidence.entry_audit import ENTRIES_PER_RECORD, change_payloads, entry_digest, entry_problems
from checkd.model import ListEntry, Revocation, SourceLevel, SubjectType


def _entry(n: int) -> ListEntry:
    return ListEntry(
        entry_id=f"E-{n}",
        subject_key=f"K{n}",
        display_id=f"K{n}",
        subject_type=SubjectType.ENTERPRISE,
        subject_name="某公司",
        list_id="red_list",
        authority="局",
        document_no=f"D{n}",
        level=SourceLevel.MUNICIPAL,
        start=dt.date(2025, 1, 1),
        end=None,
        reason="r",
    )


def test_a_large_upsert_is_recorded_in_parts_naming_every_entry_once() -> None:
    """2.5 records' worth of entries: three parts with their own kept-revoked ids, all accounted for."""
    at = dt.datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=dt.UTC)
    entries = [_entry(n) for n in range(ENTRIES_PER_RECORD * 2 + ENTRIES_PER_RECORD // 2)]
    entries[-1] = dataclasses.replace(entries[-1], revocation=Revocation(at, "异议成立", "D", "objection"))
    payloads = [
        json.loads(p)
        for p in change_payloads(
            "import", "cli:test", entries, kept_revoked={entries[-1].entry_id}, data_version=7
        )
    ]
    assert [(p["part"], p["parts"], len(p["entries"])) for p in payloads] == [
        (1, 3, ENTRIES_PER_RECORD),
        (2, 3, ENTRIES_PER_RECORD),
        (3, 3, ENTRIES_PER_RECORD // 2),
    ]
    assert [p["kept_revoked"] for p in payloads] == [[], [], [entries[-1].entry_id]]
    records = list(enumerate(payloads, start=1))
    assert entry_problems(entries, records) == []
    # The same revocation handed back in another zone is the same stored value.
    same = dataclasses.replace(
        entries[-1],
        revocation=Revocation(
            at.astimezone(dt.timezone(dt.timedelta(hours=8))), "异议成立", "D", "objection"
        ),
    )
    assert entry_digest(same) == entry_digest(entries[-1])
    edited = [*entries[:-1], dataclasses.replace(entries[-1], revocation=None)]
    assert entry_problems(edited, records) == [
        f"entry {entries[-1].entry_id}: differs from admin record 3, the last act that changed it"
    ]
