"""The frozen value types' quick constructors take the same arguments and build the same frozen values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import pickle

import pytest

from checkd import model
from checkd.decide.snapshot_file import Resolved
from checkd.evidence.answers import Answer, DraftCheck
from checkd.evidence.ledger import Pending
from checkd.loop.checks import CheckInput
from checkd.store import CheckRef, LedgerRecord
from checkd.subjects.ids import Identifier
from checkd.typing import CheckFigures

QUICK = (
    model.RelatedPerson,
    model.ListEntry,
    model.SubjectQuery,
    model.CheckCase,
    model.EntryHit,
    model.MeasureHit,
    model.WithheldMeasure,
    model.SubjectDecision,
    model.Decision,
    # Built once or more per check beside the decision: its input, answer, record and row.
    CheckInput,
    Identifier,
    Resolved,
    DraftCheck,
    Answer,
    CheckRef,
    Pending,
    LedgerRecord,
    CheckFigures,
)


@pytest.mark.parametrize("cls", QUICK, ids=lambda c: c.__name__)
def test_the_constructor_takes_the_fields_in_order_with_their_defaults(cls: type) -> None:
    """Every field is a parameter, in field order, with the field's default (as dataclasses makes it)."""
    parameters = list(inspect.signature(cls).parameters.values())
    fields = dataclasses.fields(cls)
    assert [p.name for p in parameters] == [f.name for f in fields]
    for parameter, f in zip(parameters, fields, strict=True):
        want = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert parameter.default == want and parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD


@pytest.mark.parametrize("cls", QUICK, ids=lambda c: c.__name__)
def test_the_constructor_stores_through_the_slots(cls: type) -> None:
    """Not through `object.__setattr__` per field, as the dataclass's own frozen constructor does."""
    assert "__setattr__" not in cls.__init__.__code__.co_names


def test_values_stay_frozen_equal_hashable_replaceable_and_picklable() -> None:
    """Built by position or by keyword, the value is the same; it cannot be changed in place."""
    at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    by_position = model.Decision(model.Verdict.CLEAR, (), "c1", "d1", at)
    by_keyword = model.Decision(
        verdict=model.Verdict.CLEAR, subjects=(), catalogue_version="c1", data_version="d1", evaluated_at=at
    )
    assert by_position == by_keyword and hash(by_position) == hash(by_keyword) and by_position.notes == ()
    assert repr(by_position).startswith("Decision(verdict=<Verdict.CLEAR")
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_position.verdict = model.Verdict.REVIEW  # type: ignore[misc]
    changed = dataclasses.replace(by_position, notes=("n",))
    assert changed.notes == ("n",) and changed.subjects == ()
    assert pickle.loads(pickle.dumps(changed)) == changed
    with pytest.raises(TypeError):
        model.Decision(model.Verdict.CLEAR, (), "c1")  # type: ignore[call-arg]
