"""The twin's statistics: the SQL store's figures, follow-up counts and overdue list, computed in Python."""

from __future__ import annotations

import datetime as dt

from checkd.store.memory.state import MemoryStore, State
from checkd.store.records import CheckRef, LedgerRecord
from checkd.store.stats import APPLIED_OUTCOMES, RESTRICTIVE_ACTIONS, Figures, OverdueCheck


class MemoryStats:
    """Read-only statistics over a MemoryStore's checks and feedback outcomes."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def window(
        self, start: dt.datetime, end: dt.datetime, department: str | None, overdue_before: dt.datetime
    ) -> dict[str, Figures]:
        """Figures per department for checks recorded in [start, end); feedback counted by its check."""
        state = self._store.state
        answered = _answered(state)
        in_window = {
            check.check_id: check
            for check, record in state.checks.values()
            if start <= record.recorded_at < end and (not department or check.department == department)
        }
        result: dict[str, Figures] = {}
        for check_id, check in in_window.items():
            record = state.checks[check_id][1]
            figures = result.setdefault(check.department, Figures())
            figures.checks += 1
            figures.subjects_checked += check.subjects
            figures.subjects_hit_penalty += check.subjects_hit_penalty
            figures.subjects_hit_reward += check.subjects_hit_reward
            figures.measures_mandatory += check.measures_mandatory
            figures.measures_discretionary += check.measures_discretionary
            figures.checks_with_measures += check.measures_mandatory + check.measures_discretionary > 0
            figures.checks_missing_feedback += _awaiting(check, answered)
            figures.penalty_checks_overdue += _overdue(check, record, answered, overdue_before)
        # A later feedback replaces the earlier outcome of the same measure and subject of a check.
        latest = {(ref.check_id, o.measure_id, o.subject_id): (ref, o) for ref, o, _ in state.outcomes}
        for ref, outcome in latest.values():
            check_in_window = in_window.get(ref.check_id)
            if check_in_window is None:
                continue
            figures = result[check_in_window.department]
            attribute = f"feedback_{outcome.outcome}"
            if hasattr(figures, attribute):
                setattr(figures, attribute, getattr(figures, attribute) + 1)
            restrictive = outcome.action in RESTRICTIVE_ACTIONS and outcome.outcome in APPLIED_OUTCOMES
            figures.restrictions_applied += restrictive
        return result

    def follow_up(self, overdue_before: dt.datetime) -> tuple[int, int]:
        """(checks with measures and no feedback, penalty checks overdue for feedback), store-wide."""
        state = self._store.state
        answered = _answered(state)
        checks = state.checks.values()
        return (
            sum(_awaiting(check, answered) for check, _ in checks),
            sum(_overdue(check, record, answered, overdue_before) for check, record in checks),
        )

    def overdue(self, before: dt.datetime, department: str | None, limit: int) -> list[OverdueCheck]:
        """Penalty checks recorded before `before` with no feedback, oldest first."""
        state = self._store.state
        answered = _answered(state)
        late = sorted(
            (
                (record.recorded_at, check.check_id, check, record)
                for check, record in state.checks.values()
                if _overdue(check, record, answered, before)
                and (not department or check.department == department)
            ),
            key=lambda item: (item[0], item[1]),
        )
        return [
            OverdueCheck(
                check.check_id,
                check.department,
                check.matter,
                check.scene,
                record.recorded_at,
                check.measures_mandatory + check.measures_discretionary,
                record.payload,
            )
            for _, _, check, record in late[:limit]
        ]


def _answered(state: State) -> set[str]:
    """The checks that have any feedback."""
    return {ref.check_id for ref, _ in state.feedback.values()}


def _awaiting(check: CheckRef, answered: set[str]) -> int:
    """1 for a check with measures still awaiting feedback."""
    return int(check.measures_mandatory + check.measures_discretionary > 0 and check.check_id not in answered)


def _overdue(check: CheckRef, record: LedgerRecord, answered: set[str], before: dt.datetime) -> int:
    """1 for a penalty check recorded before `before` still without feedback."""
    return int(check.has_penalty and record.recorded_at < before and check.check_id not in answered)
