"""The decision: (case, index snapshot, catalogue snapshot, as_of) -> measures, pure and clock-free."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from checkd.days import china_day
from checkd.decide.index import Index
from checkd.model import (
    CheckCase,
    Decision,
    EntryHit,
    Measure,
    MeasureHit,
    Polarity,
    Role,
    SubjectDecision,
    SubjectQuery,
    SubjectType,
    Verdict,
    WithheldMeasure,
)
from checkd.rules.catalogue import Catalogue
from checkd.subjects.names import names_differ

# Plans remembered per (department, matter, scene, day) of a catalogue: the signatures that occur
# are few (a subject type and a handful of list entries), but related persons can hold many.
_PLANS_KEPT = 4_096
_STRENGTH = {verdict: verdict.strength for verdict in Verdict}
_REVIEW = Verdict.REVIEW.strength
_CLEAR = Verdict.CLEAR
_NO_DAY = dt.date.min  # a case whose subjects are all on no list never needs its CST day


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a listed subject's in-force entries lead to, by their positions among its hits.

    It depends only on the subject type, each entry's (list, severity, role) in hit order, the
    case's department, matter and scene, and the CST day: never on who the subject is. So it is
    computed once per catalogue snapshot and reused for every subject of the same signature.
    """

    pushed: tuple[tuple[Measure, tuple[int, ...]], ...]  # in answer order
    withheld: tuple[tuple[Measure, tuple[int, ...]], ...]
    penalties: tuple[int, ...]  # hits that withhold the rewards (a penalty on the subject itself)
    verdict: Verdict  # the strongest of the pushed measures (CLEAR when none)


def decide(
    case: CheckCase,
    index: Index,
    catalogue: Catalogue,
    evaluated_at: dt.datetime,
    *,
    data_age: dt.timedelta | None = None,
    max_data_age: dt.timedelta | None = None,
) -> Decision:
    """Decide a whole check case against one consistent pair of snapshots.

    Data older than max_data_age (time since it was last confirmed current) cannot vouch for a
    clear or reward answer: such answers become review, with a note saying the data is stale.
    """
    lookup = index.lookup
    plans: dict[tuple[object, ...], _Plan] | None = None
    day = _NO_DAY
    decided: list[SubjectDecision] = []
    verdict, strength = _CLEAR, 0
    for query in case.subjects:
        found = lookup(query)
        if not found:  # most subjects are on no list: nothing to weigh
            decided.append(SubjectDecision(query, (), (), (), _CLEAR, ()))
            continue
        if plans is None:  # once per case, and only when a subject is listed
            day = china_day(case.as_of)  # entries and measures are in force on CST calendar days
            plans = catalogue.plans(case.department, case.matter, case.scene, day)
        subject = _decide_listed(case, query, found, day, plans, catalogue)
        decided.append(subject)
        if subject.verdict is not _CLEAR and _STRENGTH[subject.verdict] > strength:
            verdict = subject.verdict
            strength = _STRENGTH[verdict]
    subjects = tuple(decided)
    notes: tuple[str, ...] = ()
    if data_age is not None and max_data_age is not None and data_age > max_data_age:
        age, limit = data_age.total_seconds(), max_data_age.total_seconds()
        note = (
            f"data is stale: data version {index.version} was last confirmed current "
            f"{age:.1f}s ago, more than the maximum {limit:g}s; review before relying on this answer"
        )
        notes = (note,)
        subjects = tuple(_stale(subject, note) for subject in subjects)
        verdict = max((s.verdict for s in subjects), key=_STRENGTH.__getitem__, default=Verdict.CLEAR)
    return Decision(verdict, subjects, catalogue.version, index.version, evaluated_at, notes)


def _stale(subject: SubjectDecision, note: str) -> SubjectDecision:
    """A subject's result on stale data: at least review, with the staleness note."""
    verdict = subject.verdict if subject.verdict.strength >= Verdict.REVIEW.strength else Verdict.REVIEW
    return replace(subject, verdict=verdict, notes=(*subject.notes, note))


def _decide_listed(
    case: CheckCase,
    query: SubjectQuery,
    found: list[EntryHit],
    day: dt.date,
    plans: dict[tuple[object, ...], _Plan],
    catalogue: Catalogue,
) -> SubjectDecision:
    """A subject the index found entries about: its plan, filled in with its own entries."""
    as_of = case.as_of
    hits: list[EntryHit] = []
    key: tuple[object, ...] = (query.subject_type,)
    for hit in found:
        entry = hit.entry
        if entry.in_force(as_of, day):
            hits.append(hit)
            key += (entry.list_id, entry.severity, hit.role)
    plan = plans.get(key)
    if plan is None:
        plan = _plan(key, case, day, catalogue)
        if len(plans) >= _PLANS_KEPT:
            plans.clear()
        plans[key] = plan
    measures: tuple[MeasureHit, ...] = ()
    withheld: tuple[WithheldMeasure, ...] = ()
    if plan.pushed:
        measures = tuple(
            [MeasureHit(measure, tuple([hits[i].entry.entry_id for i in at])) for measure, at in plan.pushed]
        )
    if plan.withheld:
        # A penalty entry in force on the subject itself suppresses its rewards (过惩相当 both
        # ways: no green channel for a seriously dishonest subject).
        blocking = ", ".join(f"{hits[i].entry.entry_id} ({hits[i].entry.list_id})" for i in plan.penalties)
        reason = f"reward withheld: penalty entry in force {blocking}"
        withheld = tuple(
            [
                WithheldMeasure(measure, tuple([hits[i].entry.entry_id for i in at]), reason)
                for measure, at in plan.withheld
            ]
        )
    notes: tuple[str, ...] = ()
    name = query.name
    if name:
        for hit in hits:  # the usual listed name is the given one: no folding, no list built
            if hit.role is Role.SUBJECT and hit.entry.subject_name != name:
                notes = _name_notes(name, hits)
                break
    verdict = plan.verdict
    if notes and _STRENGTH[verdict] < _REVIEW:
        verdict = Verdict.REVIEW
    return SubjectDecision(query, tuple(hits), measures, withheld, verdict, notes)


def _plan(signature: tuple[object, ...], case: CheckCase, day: dt.date, catalogue: Catalogue) -> _Plan:
    """The measures a signature (subject type, then each hit's list, severity, role) leads to."""
    subject_type = signature[0]
    assert isinstance(subject_type, SubjectType)
    triggered: dict[str, tuple[Measure, list[int]]] = {}
    penalties: list[int] = []
    for position, at in enumerate(range(1, len(signature), 3)):
        list_id, severity, role = signature[at], signature[at + 1], signature[at + 2]
        assert isinstance(list_id, str) and isinstance(severity, str) and isinstance(role, Role)
        for measure in catalogue.candidates(case.department, case.matter, case.scene, list_id):
            if _reaches(measure, list_id, severity, role, subject_type, day):
                triggered.setdefault(measure.measure_id, (measure, []))[1].append(position)
        if role is Role.SUBJECT and catalogue.polarity_of(list_id, severity) is Polarity.PENALTY:
            penalties.append(position)
    pushed: list[tuple[Measure, tuple[int, ...]]] = []
    withheld: list[tuple[Measure, tuple[int, ...]]] = []
    for measure, positions in triggered.values():
        if measure.polarity is Polarity.REWARD and penalties:
            withheld.append((measure, tuple(positions)))
        else:
            pushed.append((measure, tuple(positions)))
    pushed.sort(key=lambda p: (-p[0].action.verdict.strength, p[0].measure_id))
    verdict = max((m.action.verdict for m, _ in pushed), key=_STRENGTH.__getitem__, default=Verdict.CLEAR)
    return _Plan(tuple(pushed), tuple(withheld), tuple(penalties), verdict)


def _reaches(
    measure: Measure, list_id: str, severity: str, role: Role, subject_type: SubjectType, day: dt.date
) -> bool:
    """True when the measure is in effect and targets this subject's type and role."""
    return (
        role in measure.roles
        and subject_type in measure.subject_types
        and any(trigger.fires(list_id, severity) for trigger in measure.triggers)
        and measure.in_effect(day)
    )


def _name_notes(name: str, hits: list[EntryHit]) -> tuple[str, ...]:
    """Flag entries found by identifier whose listed name differs from the name given."""
    return tuple(
        [
            f"name differs from entry {hit.entry.entry_id}: given {name!r}, "
            f"listed {hit.entry.subject_name!r}; review before relying on this entry"
            for hit in hits
            if hit.role is Role.SUBJECT
            and hit.entry.subject_name != name  # the same text never differs: skip the folding
            and names_differ(name, hit.entry.subject_name)
        ]
    )
