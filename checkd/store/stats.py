"""The closed-loop statistics queries over `checks` and `feedback_outcomes` (indexed range scans)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import cast

from sqlalchemy import Table, and_, case, exists, func, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from checkd.model import Action, Outcome
from checkd.store.db import Database, utc
from checkd.store.tables import CheckRow, FeedbackOutcomeRow, FeedbackRow, LedgerRow

# Actions that restrict the subject: an applied one counts as a restriction applied. The rows keep
# the values as text, so the sets are their values (named through the enums: a rename cannot drift).
RESTRICTIVE_ACTIONS = tuple(a.value for a in (Action.PROHIBIT, Action.RESTRICT, Action.REVOKE_QUALIFICATION))
APPLIED_OUTCOMES = tuple(o.value for o in (Outcome.APPLIED, Outcome.PARTIALLY_APPLIED))


@dataclass(slots=True)
class Figures:
    """The statistics of one department over one time window (one StatsRow's numbers)."""

    checks: int = 0
    subjects_checked: int = 0
    subjects_hit_penalty: int = 0
    subjects_hit_reward: int = 0
    measures_mandatory: int = 0
    measures_discretionary: int = 0
    feedback_applied: int = 0
    feedback_not_applied: int = 0
    feedback_partially_applied: int = 0
    feedback_objected: int = 0
    checks_missing_feedback: int = 0
    penalty_checks_overdue: int = 0
    restrictions_applied: int = 0
    checks_with_measures: int = 0  # the checks feedback is due on (completeness = 1 - missing / this)

    def add(self, other: Figures) -> None:
        """Accumulate another window's figures into this one (for totals)."""
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


@dataclass(frozen=True, slots=True)
class OverdueCheck:
    """A penalty check still without feedback, with its stored answer for the measure list."""

    check_id: str
    department: str
    matter: str
    scene: str
    recorded_at: dt.datetime
    measures: int
    payload: bytes = field(repr=False)


class StatsRepository:
    """Read-only statistics over the ledger's lookup rows; one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def ensure_indexes(self) -> None:
        """Create the statistics indexes on a store made before they existed (idempotent)."""
        with self._db.schema_change() as connection:
            for table in (CheckRow.__table__, FeedbackOutcomeRow.__table__):
                for index in cast(Table, table).indexes:
                    index.create(connection, checkfirst=True)

    def window(
        self, start: dt.datetime, end: dt.datetime, department: str | None, overdue_before: dt.datetime
    ) -> dict[str, Figures]:
        """Figures per department for checks recorded in [start, end); feedback counted by its check."""
        in_window = [CheckRow.recorded_at >= _bind(start), CheckRow.recorded_at < _bind(end)]
        if department:
            in_window.append(CheckRow.department == department)
        awaiting, overdue = _follow_up_conditions(overdue_before)
        checks = (
            select(
                CheckRow.department,
                func.count(),
                func.sum(CheckRow.subjects),
                func.sum(CheckRow.subjects_hit_penalty),
                func.sum(CheckRow.subjects_hit_reward),
                func.sum(CheckRow.measures_mandatory),
                func.sum(CheckRow.measures_discretionary),
                func.sum(_when(awaiting)),
                func.sum(_when(overdue)),
                func.sum(_when((CheckRow.measures_mandatory + CheckRow.measures_discretionary) > 0)),
            )
            .where(*in_window)
            .group_by(CheckRow.department)
        )
        restrictive = and_(
            FeedbackOutcomeRow.action.in_(RESTRICTIVE_ACTIONS),
            FeedbackOutcomeRow.outcome.in_(APPLIED_OUTCOMES),
        )
        # A later feedback replaces the earlier outcome of the same measure and subject of a check
        # (the ledger keeps both): only the latest row of each counts.
        later = aliased(FeedbackOutcomeRow)
        superseded = exists().where(
            later.check_id == FeedbackOutcomeRow.check_id,
            later.measure_id == FeedbackOutcomeRow.measure_id,
            later.subject_id == FeedbackOutcomeRow.subject_id,
            later.id > FeedbackOutcomeRow.id,
        )
        outcomes = (
            select(
                CheckRow.department, FeedbackOutcomeRow.outcome, func.count(), func.sum(_when(restrictive))
            )
            .join(CheckRow, CheckRow.check_id == FeedbackOutcomeRow.check_id)
            .where(*in_window, ~superseded)
            .group_by(CheckRow.department, FeedbackOutcomeRow.outcome)
        )
        result: dict[str, Figures] = {}
        with self._db.transaction() as session:
            for row in session.execute(checks):
                result[row[0]] = Figures(
                    checks=row[1],
                    subjects_checked=row[2] or 0,
                    subjects_hit_penalty=row[3] or 0,
                    subjects_hit_reward=row[4] or 0,
                    measures_mandatory=row[5] or 0,
                    measures_discretionary=row[6] or 0,
                    checks_missing_feedback=row[7] or 0,
                    penalty_checks_overdue=row[8] or 0,
                    checks_with_measures=row[9] or 0,
                )
            for dept, outcome, count, restrictions in session.execute(outcomes):
                figures = result.setdefault(dept, Figures())
                attribute = f"feedback_{outcome}"
                if hasattr(figures, attribute):
                    setattr(figures, attribute, getattr(figures, attribute) + count)
                figures.restrictions_applied += restrictions or 0
        return result

    def follow_up(self, overdue_before: dt.datetime) -> tuple[int, int]:
        """(checks with measures and no feedback, penalty checks overdue for feedback), store-wide."""
        awaiting, overdue = _follow_up_conditions(overdue_before)
        query = select(func.sum(_when(awaiting)), func.sum(_when(overdue)))
        with self._db.transaction() as session:
            waiting, late = session.execute(query).one()
        return waiting or 0, late or 0

    def overdue(self, before: dt.datetime, department: str | None, limit: int) -> list[OverdueCheck]:
        """Penalty checks recorded before `before` with no feedback, oldest first."""
        query = (
            select(
                CheckRow.check_id,
                CheckRow.department,
                CheckRow.matter,
                CheckRow.scene,
                CheckRow.recorded_at,
                CheckRow.measures_mandatory + CheckRow.measures_discretionary,
                LedgerRow.payload,
            )
            .join(LedgerRow, LedgerRow.seq == CheckRow.seq)
            .where(_follow_up_conditions(before)[1])
            .order_by(CheckRow.recorded_at, CheckRow.check_id)
            .limit(limit)
        )
        if department:
            query = query.where(CheckRow.department == department)
        with self._db.transaction() as session:
            return [
                OverdueCheck(r[0], r[1], r[2], r[3], utc(r[4]), r[5], r[6]) for r in session.execute(query)
            ]


def _follow_up_conditions(overdue_before: dt.datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(a check with measures still awaiting feedback, a penalty check overdue for it)."""
    no_feedback = ~exists().where(FeedbackRow.check_id == CheckRow.check_id)
    with_measures = (CheckRow.measures_mandatory + CheckRow.measures_discretionary) > 0
    late_penalty = and_(CheckRow.has_penalty == true(), CheckRow.recorded_at < _bind(overdue_before))
    return and_(with_measures, no_feedback), and_(late_penalty, no_feedback)


def _when(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where the condition holds, else 0 (a portable conditional count)."""
    return case((condition, 1), else_=0)


def _bind(instant: dt.datetime) -> dt.datetime:
    # Stored instants are UTC (SQLite keeps them as naive UTC text): compare in UTC.
    return instant.astimezone(dt.UTC)
