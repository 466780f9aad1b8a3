"""The engine before its per-snapshot plans, kept as the reference the differential test holds it to."""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import replace

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
    Verdict,
    WithheldMeasure,
)
from checkd.rules.catalogue import Catalogue
from checkd.subjects.names import names_differ


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
    day = china_day(case.as_of)  # entries and measures are in force on CST calendar days
    subjects = tuple([_decide_subject(case, query, index, catalogue, day) for query in case.subjects])
    notes: tuple[str, ...] = ()
    if data_age is not None and max_data_age is not None and data_age > max_data_age:
        age, limit = data_age.total_seconds(), max_data_age.total_seconds()
        note = (
            f"data is stale: data version {index.version} was last confirmed current "
            f"{age:.1f}s ago, more than the maximum {limit:g}s; review before relying on this answer"
        )
        notes = (note,)
        subjects = tuple(_stale(subject, note) for subject in subjects)
    verdict = max((s.verdict for s in subjects), key=_strength, default=Verdict.CLEAR)
    return Decision(
        verdict=verdict,
        subjects=subjects,
        catalogue_version=catalogue.version,
        data_version=index.version,
        evaluated_at=evaluated_at,
        notes=notes,
    )


_strength = operator.attrgetter("strength")


def _stale(subject: SubjectDecision, note: str) -> SubjectDecision:
    """A subject's result on stale data: at least review, with the staleness note."""
    verdict = subject.verdict if subject.verdict.strength >= Verdict.REVIEW.strength else Verdict.REVIEW
    return replace(subject, verdict=verdict, notes=(*subject.notes, note))


def _decide_subject(
    case: CheckCase, query: SubjectQuery, index: Index, catalogue: Catalogue, day: dt.date
) -> SubjectDecision:
    found = index.lookup(query)
    if not found:  # most subjects are on no list: nothing to weigh
        return SubjectDecision(query, (), (), (), Verdict.CLEAR, ())
    as_of = case.as_of
    hits = tuple([hit for hit in found if hit.entry.in_force(as_of, day)])
    triggered: dict[str, tuple[Measure, list[str]]] = {}
    for hit in hits:
        entry = hit.entry
        for measure in catalogue.candidates(case.department, case.matter, case.scene, entry.list_id):
            if not _reaches(measure, hit, query, day):
                continue
            slot = triggered.setdefault(measure.measure_id, (measure, []))
            slot[1].append(entry.entry_id)

    # A penalty entry in force on the subject itself suppresses its rewards (过惩相当 both ways:
    # no green channel for a seriously dishonest subject).
    penalties = [
        hit.entry
        for hit in hits
        if hit.role is Role.SUBJECT
        and catalogue.polarity_of(hit.entry.list_id, hit.entry.severity) is Polarity.PENALTY
    ]
    measures: list[MeasureHit] = []
    withheld: list[WithheldMeasure] = []
    for measure, entry_ids in triggered.values():
        if measure.polarity is Polarity.REWARD and penalties:
            blocking = ", ".join(f"{e.entry_id} ({e.list_id})" for e in penalties)
            reason = f"reward withheld: penalty entry in force {blocking}"
            withheld.append(WithheldMeasure(measure, tuple(entry_ids), reason))
        else:
            measures.append(MeasureHit(measure, tuple(entry_ids)))
    measures.sort(key=lambda m: (-m.measure.action.verdict.strength, m.measure.measure_id))

    notes = _name_notes(query, hits)
    verdict = max((m.measure.action.verdict for m in measures), key=_strength, default=Verdict.CLEAR)
    if notes and verdict.strength < Verdict.REVIEW.strength:
        verdict = Verdict.REVIEW
    return SubjectDecision(
        query=query,
        hits=hits,
        measures=tuple(measures),
        withheld=tuple(withheld),
        verdict=verdict,
        notes=notes,
    )


def _reaches(measure: Measure, hit: EntryHit, query: SubjectQuery, day: dt.date) -> bool:
    """True when the measure is in effect and targets this subject's type and role."""
    return (
        hit.role in measure.roles
        and query.subject_type in measure.subject_types
        and any(trigger.matches(hit.entry) for trigger in measure.triggers)
        and measure.in_effect(day)
    )


def _name_notes(query: SubjectQuery, hits: tuple[EntryHit, ...]) -> tuple[str, ...]:
    """Flag entries found by identifier whose listed name differs from the name given."""
    if not query.name or not hits:
        return ()
    return tuple(
        f"name differs from entry {hit.entry.entry_id}: given {query.name!r}, "
        f"listed {hit.entry.subject_name!r}; review before relying on this entry"
        for hit in hits
        if hit.role is Role.SUBJECT and names_differ(query.name, hit.entry.subject_name)
    )
