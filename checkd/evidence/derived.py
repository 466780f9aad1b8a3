"""Lookup rows derived from chained records: one derivation for the writer and the verifier.

The `checks`, `feedback` and `feedback_outcomes` tables are indexes over the ledger: who made a
check (which decides who may read it), its figures for the statistics, what feedback said. They
are written beside each record but are not hashed, so `ledger verify` recomputes each of them from
the record's payload with the same functions the daemon used to write them, and reports any row
without its record, any record without its row, and any field that differs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from checkd.evidence.answers import FeedbackRecord, check_ref_of, feedback_ref_of, read_check, read_feedback
from checkd.evidence.entry_audit import entry_problems
from checkd.model import RecordKind
from checkd.store import CheckRef, EntryRepository, FeedbackRef, LedgerRecord, LedgerRepository

BATCH = 500  # records compared per round trip: well under SQLite's bound parameters


@dataclass(frozen=True, slots=True)
class Problem:
    """One derived row that does not agree with the chained record it came from."""

    seq: int | None  # the record's sequence (None: a row that names no record)
    table: str
    field: str
    detail: str

    def __str__(self) -> str:
        where = f"record {self.seq}" if self.seq is not None else "no record"
        return f"{self.table}.{self.field} ({where}): {self.detail}"


# A derived-row checker walks the ledger and its table(s) and yields what disagrees; verify runs
# a list of them, so another table derived from records plugs in as one more callable.
RowChecker = Callable[[], Iterable[Problem]]


def row_checkers(records: LedgerRepository, entries: EntryRepository) -> list[RowChecker]:
    """The checkers of every table derived from ledger records."""
    return [lambda: check_rows(records), lambda: feedback_rows(records), lambda: entry_rows(records, entries)]


def entry_rows(records: LedgerRepository, entries: EntryRepository) -> Iterator[Problem]:
    """Every stored list entry equals the digest the last admin record that changed it carries."""
    admin = ((r.seq, json.loads(r.payload)) for r in records.iter_records() if r.kind == RecordKind.ADMIN)
    for detail in entry_problems(entries.iter_all(), admin):
        yield Problem(None, "list_entries", "digest", detail)


def _batches(items: Iterable[LedgerRecord], size: int = BATCH) -> Iterator[list[LedgerRecord]]:
    """Records in lists of `size`, so each round trip to the store covers many."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _differences(
    seq: int | None, table: str, expected: Mapping[str, Any], actual: Mapping[str, Any]
) -> Iterator[Problem]:
    """A problem for each expected field the stored row does not hold."""
    for name, value in expected.items():
        if actual.get(name) != value:
            yield Problem(seq, table, name, f"is {actual.get(name)!r}, the record says {value!r}")


def _check_row(record: LedgerRecord, ref: CheckRef) -> dict[str, Any]:
    """The `checks` row a check record must have, column by column."""
    return {
        "check_id": ref.check_id,
        "department": ref.department,
        "request_id": ref.request_id,
        "matter": ref.matter,
        "scene": ref.scene,
        "verdict": ref.verdict,
        "recorded_at": record.recorded_at,
        "seq": record.seq,
        "subjects": ref.subjects,
        "subjects_hit_penalty": ref.subjects_hit_penalty,
        "subjects_hit_reward": ref.subjects_hit_reward,
        "measures_mandatory": ref.measures_mandatory,
        "measures_discretionary": ref.measures_discretionary,
        "has_penalty": ref.has_penalty,
        "request_fingerprint": ref.fingerprint,
    }


def check_rows(records: LedgerRepository) -> Iterator[Problem]:
    """Every check record has its `checks` row, equal to the one derived from its payload, and no more."""
    reported: set[str] = set()
    checks = (r for r in records.iter_records() if r.kind == RecordKind.CHECK)
    for batch in _batches(checks):
        rows = records.check_rows([r.ref_id for r in batch])
        for record in batch:
            try:
                ref = check_ref_of(read_check(record.payload))
            except Exception as exc:  # a payload that no longer parses is evidence too
                yield Problem(record.seq, "checks", "payload", f"does not parse: {exc}")
                continue
            row = rows.get(record.ref_id)
            if row is None:
                reported.add(record.ref_id)
                yield Problem(
                    record.seq, "checks", "check_id", f"check {record.ref_id} has a record but no row"
                )
                continue
            problems = list(_differences(record.seq, "checks", _check_row(record, ref), row))
            if problems:
                reported.add(record.ref_id)
            yield from problems
    for row in records.stray_check_rows():
        if row["check_id"] not in reported:
            yield Problem(
                None,
                "checks",
                "check_id",
                f"row of check {row['check_id']} (seq {row['seq']}) has no check record",
            )


def feedback_rows(records: LedgerRepository) -> Iterator[Problem]:
    """Every feedback record has its `feedback` row and exactly its `feedback_outcomes` rows."""
    feedback = (r for r in records.iter_records() if r.kind == RecordKind.FEEDBACK)
    for batch in _batches(feedback):
        check_ids = sorted({r.ref_id for r in batch})
        checks = records.check_records(check_ids)
        parsed: dict[int, FeedbackRecord] = {}
        for record in batch:
            try:
                parsed[record.seq] = read_feedback(record.payload)
            except Exception as exc:
                yield Problem(record.seq, "feedback", "payload", f"does not parse: {exc}")
        rows = records.feedback_rows([m.feedback_id for m in parsed.values()])
        outcomes = records.outcome_rows(check_ids)
        for record in batch:
            message = parsed.get(record.seq)
            if message is None:
                continue
            check = checks.get(record.ref_id)
            if check is None:
                yield Problem(
                    record.seq,
                    "feedback",
                    "check_id",
                    f"the check {record.ref_id} this feedback is about has no record",
                )
                continue
            ref = feedback_ref_of(read_check(check.payload), message)
            row = rows.get(ref.feedback_id)
            if row is None:
                yield Problem(
                    record.seq,
                    "feedback",
                    "feedback_id",
                    f"feedback {ref.feedback_id} has a record but no row",
                )
            else:
                expected = {
                    "feedback_id": ref.feedback_id,
                    "check_id": ref.check_id,
                    "digest": ref.digest,
                    "recorded_at": record.recorded_at,
                    "seq": record.seq,
                }
                yield from _differences(record.seq, "feedback", expected, row)
            yield from _outcome_problems(record, ref, outcomes.get(ref.feedback_id, []))
    stray = records.stray_feedback_rows()
    for row, payload in records.feedback_rows_sharing_seq():
        # Of rows sharing a seq, only the one whose id the record carries is genuine.
        if _feedback_id(payload) != row["feedback_id"] and row not in stray:
            stray.append(row)
    for row in stray:
        yield Problem(
            None,
            "feedback",
            "feedback_id",
            f"row of feedback {row['feedback_id']} (seq {row['seq']}) has no feedback record",
        )
    for row in records.stray_outcome_rows():
        yield Problem(
            None,
            "feedback_outcomes",
            "feedback_id",
            f"row {row['id']} of feedback {row['feedback_id']} has no feedback row or record",
        )


def _feedback_id(payload: bytes | None) -> str:
    """The feedback id inside a stored feedback record, or empty."""
    try:
        return "" if payload is None else read_feedback(payload).feedback_id
    except Exception:  # an unparsable payload names no feedback
        return ""


_OUTCOME_FIELDS = ("measure_id", "subject_id", "outcome", "action", "recorded_at")


def _outcome_problems(
    record: LedgerRecord, ref: FeedbackRef, rows: Sequence[Mapping[str, Any]]
) -> Iterator[Problem]:
    """The outcome rows of one feedback against its record: missing, extra, or differing fields."""
    expected = [
        {
            "measure_id": o.measure_id,
            "subject_id": o.subject_id,
            "outcome": o.outcome,
            "action": o.action,
            "recorded_at": record.recorded_at,
        }
        for o in ref.outcomes
    ]
    left = [dict(row) for row in rows]
    unmatched: list[dict[str, Any]] = []
    for want in expected:  # exact matches first, so one edited row is reported as one edit
        match = next((row for row in left if all(row.get(k) == want[k] for k in _OUTCOME_FIELDS)), None)
        if match is None:
            unmatched.append(want)
        else:
            left.remove(match)
    for want in unmatched:
        same = next(
            (
                row
                for row in left
                if (row.get("measure_id"), row.get("subject_id")) == (want["measure_id"], want["subject_id"])
            ),
            None,
        )
        if same is None:
            yield Problem(
                record.seq,
                "feedback_outcomes",
                "measure_id",
                f"outcome for {want['measure_id']}/{want['subject_id']} has a record but no row",
            )
            continue
        left.remove(same)
        for name in _OUTCOME_FIELDS:
            if same.get(name) != want[name]:
                yield Problem(
                    record.seq,
                    "feedback_outcomes",
                    name,
                    f"row {same.get('id')} is {same.get(name)!r}, the record says {want[name]!r}",
                )
    for row in left:
        yield Problem(
            record.seq,
            "feedback_outcomes",
            "id",
            f"row {row.get('id')} ({row.get('measure_id')}/{row.get('subject_id')} "
            f"{row.get('outcome')}) is not in the record",
        )


__all__ = ["Problem", "RowChecker", "check_rows", "entry_rows", "feedback_rows", "row_checkers"]
