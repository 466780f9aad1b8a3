"""Answers assembled from bytes equal the messages the protobuf runtime builds, on the bench mix."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest

from bench.mix import Mix
from checkd.api.v1 import check_pb2 as pb
from checkd.decide.engine import decide
from checkd.decide.index import Index
from checkd.evidence import answers, wire
from checkd.loop.checks import canonical_request, request_fingerprint
from checkd.rules.catalogue import Catalogue
from checkd.server import convert
from checkd.subjects.keys import SubjectKeyer
from tests.daemon import ROOT
from tests.factories import sample_world

NOW = dt.datetime(2026, 11, 30, 9, 15, 30, 123456, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def world() -> tuple[Index, Catalogue, SubjectKeyer, list[pb.CheckRequest]]:
    """The sample population's index, the catalogue and 3,000 requests of the bench mix."""
    world = sample_world(NOW)
    requests = Mix(world.population, ROOT / "rules", seed=7).requests(3000)
    return world.index, world.catalogue, world.keyer, requests


def _variants(requests: list[pb.CheckRequest]) -> Iterator[tuple[pb.CheckRequest, dt.timedelta | None]]:
    """The mix as sent, plus the rarer shapes: a given as_of, names that differ, stale data, no request_id."""
    for i, original in enumerate(requests):
        request = pb.CheckRequest.FromString(original.SerializeToString())
        if i % 5 == 1:
            request.as_of.FromDatetime(NOW - dt.timedelta(days=400, microseconds=7))
        if i % 7 == 2:
            for subject in request.subjects:
                subject.name = "某某另一家有限公司"
        if i % 11 == 3:
            request.ClearField("request_id")
        yield request, (dt.timedelta(hours=3) if i % 13 == 4 else None)


def test_the_assembled_answer_record_and_row_equal_the_runtime_built_ones(
    world: tuple[Index, Catalogue, SubjectKeyer, list[pb.CheckRequest]],
) -> None:
    """Old path (messages) vs new path (bytes) on every request: same bytes, same decoded answer, same row."""
    index, catalogue, keyer, requests = world
    shapes = {"hit": 0, "withheld": 0, "notes": 0, "stale": 0}
    for number, (request, age) in enumerate(_variants(requests)):
        case = convert.check_case(request, catalogue, keyer, NOW)
        decision = decide(case, index, catalogue, NOW, data_age=age, max_data_age=dt.timedelta(hours=1))
        check_id = f"{number:032x}"
        fingerprint = request_fingerprint(case, request.HasField("as_of"))
        reference = canonical_request(case, request.HasField("as_of"))
        assert fingerprint == hashlib.sha256(reference.encode()).hexdigest()
        data_age = int(age.total_seconds()) if age else 0
        old_response = answers.check_response(
            decision, catalogue, check_id, request.request_id, case.as_of, data_age
        )
        old_record = answers.check_record(
            check_id, case.department, case.matter, case.scene, request.request_id, old_response, fingerprint
        )
        draft = answers.draft_check(
            decision,
            catalogue,
            check_id,
            request.request_id,
            case.as_of,
            data_age,
            department=case.department,
            matter=case.matter,
            scene=case.scene,
            fingerprint=fingerprint,
        )
        assert draft.response == old_response.SerializeToString(deterministic=True)
        assert draft.record == old_record.SerializeToString(deterministic=True)
        assert pb.CheckRecord.FromString(draft.record) == old_record
        assert draft.ref == answers.check_ref_of(old_record)
        old_response.receipt.CopyFrom(answers.receipt(number + 1, "ab" * 32, "sha256"))
        answered = draft.answered(number + 1, "ab" * 32, "sha256").payload
        assert answered == old_response.SerializeToString()
        remembered = answers.read_check(draft.remembered(number + 1, "cd" * 32))
        assert (remembered.ledger_seq, remembered.ledger_hash) == (number + 1, "cd" * 32)
        assert remembered.response == pb.CheckRecord.FromString(draft.record).response
        subjects = old_response.subjects
        shapes["hit"] += any(s.measures for s in subjects)
        shapes["withheld"] += any(s.withheld for s in subjects)
        shapes["notes"] += any(s.notes for s in subjects)
        shapes["stale"] += bool(old_response.notes)
    # The mix must have reached every shape of answer, or the comparison proved less than it says.
    assert all(count > 0 for count in shapes.values()), shapes


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**31 - 1, 2**63 - 1, -1, -(2**40)])
def test_wire_numbers_match_the_runtime(value: int) -> None:
    """Varints, including negative int64 seconds (dates before 1970), as the runtime writes them."""
    expected = pb.CheckResponse(data_age_seconds=value).SerializeToString()
    assert wire.number(9, value) == expected


def test_a_batch_assembled_from_bytes_decodes_to_its_slots() -> None:
    """BatchCheckResponse from serialised answers and item errors keeps each slot, in order."""
    first = pb.CheckResponse(check_id="a", verdict=pb.VERDICT_CLEAR)
    error = pb.ItemError(code=3, message="bad")
    built = pb.BatchCheckResponse()
    built.results.add(response=first)
    built.results.add(error=error)
    built.results.add(response=pb.CheckResponse())
    assembled = convert.batch_response([first.SerializeToString(), error, b""])
    assert assembled == built.SerializeToString()


def test_remembered_subjects_read_as_fresh_ones_and_follow_the_keyer(
    world: tuple[Index, Catalogue, SubjectKeyer, list[pb.CheckRequest]],
) -> None:
    """A subject read from the memo equals a fresh reading; another secret reads it afresh."""
    _, _, keyer, requests = world
    other = SubjectKeyer(b"another-secret-0123456789")
    persons = 0
    for request in requests[:500]:
        for i, subject in enumerate(request.subjects):
            first = convert.subject_query(subject, i, keyer)
            assert (
                convert.subject_query(subject, i, keyer) == first == convert._read_subject(subject, i, keyer)
            )
            rekeyed = convert.subject_query(subject, i, other)
            if first.key.startswith("p:"):
                persons += 1
                assert rekeyed.key != first.key
    assert persons > 0
