"""The index snapshot: incremental updates give exactly what a full rebuild gives."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from checkd.decide.index import Index
from checkd.model import ListEntry, RelatedPerson, Role, SourceLevel, SubjectQuery, SubjectType

NOW = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
ORGS = ["91330402MA0000011X", "91330402MA0000021Y", "MA0000031"]
PERSONS = ["p:aaa", "p:bbb"]


@st.composite
def entries(draw: st.DrawFn) -> ListEntry:
    """A small entry over a tiny key space, so updates collide with existing keys often."""
    org = draw(st.sampled_from(ORGS))
    related = tuple(
        RelatedPerson(Role.LEGAL_REPRESENTATIVE, key, "masked", "name")
        for key in draw(st.lists(st.sampled_from(PERSONS), max_size=1))
    )
    return ListEntry(
        entry_id=f"E{draw(st.integers(0, 6))}",
        subject_key=org,
        display_id=org,
        subject_type=SubjectType.ENTERPRISE,
        subject_name="n",
        list_id=draw(st.sampled_from(["a", "b"])),
        authority="x",
        document_no="d",
        level=SourceLevel.COUNTY,
        start=dt.date(2025, 1, 1),
        end=None,
        reason="r",
        org_code=org[8:17] if len(org) == 18 else org,
        registration_no=draw(st.sampled_from(["", "330402000012345"])),
        related=related,
    )


def _answers(index: Index) -> list[list[tuple[str, str]]]:
    queries = [
        SubjectQuery(
            0, key, key, key[8:17] if len(key) == 18 else key, SubjectType.ENTERPRISE, Role.SUBJECT, ""
        )
        for key in [*ORGS, "330402000012345"]
    ]
    queries += [SubjectQuery(0, key, key, "", SubjectType.PERSON, Role.SUBJECT, "") for key in PERSONS]
    return [sorted((h.entry.entry_id, h.label) for h in index.lookup(q)) for q in queries]


@settings(max_examples=300)
@given(initial=st.lists(entries(), max_size=8), changes=st.lists(st.lists(entries(), max_size=4), max_size=4))
def test_incremental_update_equals_full_rebuild(
    initial: list[ListEntry], changes: list[list[ListEntry]]
) -> None:
    """Applying upserts one batch at a time answers every lookup as rebuilding from scratch does."""
    current = {e.entry_id: e for e in initial}
    index = Index(current.values(), "d1", NOW)
    before = _answers(index)
    for batch in changes:
        index = index.updated(batch, "d2", NOW)
        current.update({e.entry_id: e for e in batch})
        assert _answers(index) == _answers(Index(current.values(), "d2", NOW))
        assert index.size == len(current)
    if not changes:
        assert _answers(index) == before
