"""The closed loop through the real daemon and generated stubs, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.rules.catalogue import load_catalogue
from tests import factories
from tests.daemon import ROOT, RunningDaemon

CATALOGUE = load_catalogue(ROOT / "rules")
DEPT, SCENE = "market_regulation", "administrative_licensing"


def upsert(daemon: RunningDaemon, *rows: dict[str, Any]) -> reg.UpsertEntriesResponse:
    """Send interchange rows through RegistryService.UpsertEntries."""
    entries = [reg.EntryInput(**row) for row in rows]
    response: reg.UpsertEntriesResponse = daemon.registry.UpsertEntries(
        reg.UpsertEntriesRequest(entries=entries), timeout=30
    )
    return response


def check(
    daemon: RunningDaemon, *ids: str, department: str = DEPT, scene: str = SCENE, **fields: Any
) -> pb.CheckResponse:
    """One Check call for the given subject ids."""
    request = pb.CheckRequest(
        department=department, scene=scene, subjects=[pb.Subject(id=i) for i in ids], **fields
    )
    response: pb.CheckResponse = daemon.check.Check(request, timeout=10)
    return response


def expected_measures(
    list_id: str, subject_type: str, role: str = "subject", department: str = DEPT, scene: str = SCENE
) -> set[str]:
    """An independent reading of the catalogue: which measures a hit on list_id should push."""
    return {
        m.measure_id
        for m in CATALOGUE.measures
        if department in m.departments
        and scene in m.scenes
        and not m.matters  # these checks name no matter: a measure narrowed to matters is not pushed
        and any(t.list_id == list_id and not t.severities for t in m.triggers)
        and subject_type in {s.value for s in m.subject_types}
        and role in {r.value for r in m.roles}
    }


def violations(error: grpc.RpcError) -> dict[str, str]:
    """The BadRequest field violations carried by an error status."""
    status = rpc_status.from_call(error)
    assert status is not None, "error carries no google.rpc.Status"
    found: dict[str, str] = {}
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            found.update({v.field: v.description for v in bad.field_violations})
    return found


@pytest.fixture
def listed(daemon: RunningDaemon) -> dict[str, str]:
    """A small data set: serious-dishonesty, red-listed, both, expired; with a legal representative."""
    ids = {
        "serious": factories.uscc(),
        "red": factories.uscc(),
        "both": factories.uscc(),
        "expired": factories.uscc(),
        "clean": factories.uscc(),
        "rep": factories.resident_id(),
    }
    upsert(
        daemon,
        factories.entry_row(
            "E-SER",
            ids["serious"],
            "serious_illegal_dishonest",
            legal_representative_id=ids["rep"],
            legal_representative_name="沈建华",
        ),
        factories.entry_row("E-RED", ids["red"], "red_list", end="2027-12-31"),
        factories.entry_row("E-BOTH-RED", ids["both"], "red_list", end="2027-12-31"),
        factories.entry_row("E-BOTH-SER", ids["both"], "serious_illegal_dishonest"),
        factories.entry_row(
            "E-OLD", ids["expired"], "serious_illegal_dishonest", start="2022-01-01", end="2024-06-30"
        ),
    )
    return ids


def test_listed_enterprise_gets_its_penalty_measures(daemon: RunningDaemon, listed: dict[str, str]) -> None:
    """A serious-dishonesty enterprise gets exactly the catalogue's penalties for this case."""
    response = check(daemon, listed["serious"])
    (subject,) = response.subjects
    assert [e.entry_id for e in subject.entries] == ["E-SER"]
    assert subject.entries[0].polarity == pb.POLARITY_PENALTY
    assert subject.entries[0].matched_by == "uscc"
    pushed = {m.measure_id for m in subject.measures}
    assert pushed == expected_measures("serious_illegal_dishonest", "enterprise")
    assert pushed, "the catalogue has penalties for this case"
    assert all(m.legal_basis and list(m.entry_ids) == ["E-SER"] for m in subject.measures)
    strongest = max(CATALOGUE.measures_by_id[m].action.verdict.strength for m in pushed)
    assert response.verdict == strongest + 1  # proto verdict numbers follow the model's order
    assert response.check_id and response.catalogue_version == CATALOGUE.version
    assert response.data_version.startswith("d")


def test_red_listed_enterprise_gets_rewards(daemon: RunningDaemon, listed: dict[str, str]) -> None:
    """A red-listed enterprise gets the green channel and other rewards, verdict reward."""
    response = check(daemon, listed["red"])
    pushed = {m.measure_id for m in response.subjects[0].measures}
    assert pushed == expected_measures("red_list", "enterprise")
    assert response.verdict == pb.VERDICT_REWARD
    assert all(m.polarity == pb.POLARITY_REWARD for m in response.subjects[0].measures)


def test_penalty_in_force_withholds_rewards(daemon: RunningDaemon, listed: dict[str, str]) -> None:
    """On both lists: rewards are withheld, saying which penalty entry suppressed them."""
    subject = check(daemon, listed["both"]).subjects[0]
    assert {m.measure_id for m in subject.measures} == expected_measures(
        "serious_illegal_dishonest", "enterprise"
    )
    withheld = {w.measure.measure_id: w.reason for w in subject.withheld}
    assert set(withheld) == expected_measures("red_list", "enterprise")
    assert all("E-BOTH-SER" in reason for reason in withheld.values())


def test_expired_entry_applies_only_inside_its_window(daemon: RunningDaemon, listed: dict[str, str]) -> None:
    """An expired entry pushes nothing now, but a check as of a past instant sees it."""
    now = check(daemon, listed["expired"])
    assert now.verdict == pb.VERDICT_CLEAR and not now.subjects[0].entries
    past = Timestamp()
    past.FromDatetime(dt.datetime(2023, 6, 1, tzinfo=dt.UTC))
    # In the matter of a licence by commitment, where the restricting MR-P-002 also applies.
    then = check(daemon, listed["expired"], as_of=past, matter="market_regulation.licence_by_commitment")
    assert [e.entry_id for e in then.subjects[0].entries] == ["E-OLD"]
    assert then.verdict in (pb.VERDICT_RESTRICT, pb.VERDICT_PROHIBIT)


def test_revoked_entry_stops_applying_and_is_kept(daemon: RunningDaemon, listed: dict[str, str]) -> None:
    """Credit repair: the entry stops applying at once; GetSubject still shows it with why."""
    revoked = daemon.registry.RevokeEntry(
        reg.RevokeEntryRequest(entry_id="E-SER", reason="信用修复完成", document_no="嘉信修〔2026〕1号"),
        timeout=10,
    )
    assert revoked.data_version
    after = check(daemon, listed["serious"])
    assert after.verdict == pb.VERDICT_CLEAR and not after.subjects[0].measures
    subject = daemon.registry.GetSubject(reg.GetSubjectRequest(id=listed["serious"]), timeout=10)
    (entry,) = subject.entries
    assert entry.revoke_reason == "信用修复完成" and entry.revoke_document_no == "嘉信修〔2026〕1号"
    assert entry.revoke_kind == "repair" and entry.revoked_at.seconds > 0


def test_legal_representative_reached_only_through_role_measures(
    daemon: RunningDaemon, listed: dict[str, str]
) -> None:
    """The listed organisation's legal representative gets the role measures, citing its entry."""
    subject = check(daemon, listed["rep"]).subjects[0]
    assert [(e.entry_id, e.matched_by) for e in subject.entries] == [
        ("E-SER", "related:legal_representative")
    ]
    assert {m.measure_id for m in subject.measures} == expected_measures(
        "serious_illegal_dishonest", "person", role="legal_representative"
    )
    assert subject.id.count("*") == 8 and listed["rep"] not in subject.id
    assert listed["rep"] not in daemon.log_text()


def test_bad_identifier_is_invalid_argument_naming_the_subject(
    daemon: RunningDaemon, listed: dict[str, str]
) -> None:
    """A bad check character is INVALID_ARGUMENT with a field violation for that subject."""
    good = listed["clean"]
    broken = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(grpc.RpcError) as caught:
        check(daemon, good, broken)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    found = violations(caught.value)
    assert list(found) == ["subjects[1].id"]
    assert "check character" in found["subjects[1].id"]


def test_unknown_scene_and_department_are_named(daemon: RunningDaemon, listed: dict[str, str]) -> None:
    """Unknown department and scene are each reported by field."""
    with pytest.raises(grpc.RpcError) as caught:
        check(daemon, listed["clean"], department="nobody", scene="bakery")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations(caught.value)) == {"department", "scene"}


def test_feedback_round_trips_through_get_check(daemon: RunningDaemon, listed: dict[str, str]) -> None:
    """Feedback is validated against what was pushed, stored once, and read back with the check."""
    response = check(daemon, listed["serious"])
    measure = response.subjects[0].measures[0]
    outcome = pb.FeedbackOutcome(
        measure_id=measure.measure_id, subject_id=listed["serious"], outcome=pb.OUTCOME_NOT_APPLIED
    )
    with pytest.raises(grpc.RpcError) as missing_reason:
        daemon.check.SubmitFeedback(pb.FeedbackRequest(check_id=response.check_id, outcomes=[outcome]))
    assert "outcomes[0].reason" in violations(missing_reason.value)

    outcome.reason = "申请人已撤回申请"
    request = pb.FeedbackRequest(check_id=response.check_id, outcomes=[outcome])
    first = daemon.check.SubmitFeedback(request, timeout=10)
    again = daemon.check.SubmitFeedback(request, timeout=10)
    assert not first.duplicate and again.duplicate and again.feedback_id == first.feedback_id

    record = daemon.check.GetCheck(pb.GetCheckRequest(check_id=response.check_id), timeout=10)
    assert record.response == response
    assert record.department == DEPT and record.ledger_seq > 0 and len(record.ledger_hash) == 64
    (stored,) = record.feedback
    assert stored.feedback_id == first.feedback_id
    assert stored.outcomes[0].reason == "申请人已撤回申请"
    assert stored.outcomes[0].outcome == pb.OUTCOME_NOT_APPLIED


def test_feedback_errors(daemon: RunningDaemon, listed: dict[str, str]) -> None:
    """Unknown check: NOT_FOUND; a measure the check did not push: INVALID_ARGUMENT."""
    with pytest.raises(grpc.RpcError) as unknown:
        daemon.check.SubmitFeedback(
            pb.FeedbackRequest(
                check_id="nope",
                outcomes=[pb.FeedbackOutcome(measure_id="MR-P-001", subject_id=listed["red"], outcome=1)],
            )
        )
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    response = check(daemon, listed["red"])
    with pytest.raises(grpc.RpcError) as not_pushed:
        daemon.check.SubmitFeedback(
            pb.FeedbackRequest(
                check_id=response.check_id,
                outcomes=[
                    pb.FeedbackOutcome(
                        measure_id="MR-P-001", subject_id=listed["red"], outcome=pb.OUTCOME_APPLIED
                    )
                ],
            )
        )
    assert not_pushed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "outcomes[0].measure_id" in violations(not_pushed.value)


def test_request_id_is_idempotent(daemon: RunningDaemon, listed: dict[str, str]) -> None:
    """The same department and request_id get the same answer; another department does not."""
    first = check(daemon, listed["serious"], request_id="bid-2026-0001")
    second = check(daemon, listed["serious"], request_id="bid-2026-0001")
    assert second == first
    other = check(
        daemon,
        listed["serious"],
        request_id="bid-2026-0001",
        department="finance",
        scene="government_procurement",
    )
    assert other.check_id != first.check_id


def test_batch_check_answers_each_slot_in_order(daemon: RunningDaemon, listed: dict[str, str]) -> None:
    """A bad item gets its own error in its slot; the others are answered in order."""
    requests = [
        pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=listed["serious"])]),
        pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id="91330402MA00000000")]),
        pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=listed["red"])]),
    ]
    results = daemon.check.BatchCheck(pb.BatchCheckRequest(requests=requests), timeout=30).results
    assert [r.WhichOneof("result") for r in results] == ["response", "error", "response"]
    assert results[0].response.subjects[0].entries[0].entry_id == "E-SER"
    assert results[2].response.verdict == pb.VERDICT_REWARD
    assert results[1].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert results[1].error.field_violations[0].field == "subjects[0].id"


def test_batch_beyond_the_limit_names_it(daemon: RunningDaemon, listed: dict[str, str]) -> None:
    """More items than the configured maximum is INVALID_ARGUMENT naming the limit."""
    item = pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=listed["red"])])
    with pytest.raises(grpc.RpcError) as caught:
        daemon.check.BatchCheck(pb.BatchCheckRequest(requests=[item] * 1001), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "1000" in violations(caught.value)["requests"]


def test_stream_check_answers_in_order(daemon: RunningDaemon, listed: dict[str, str]) -> None:
    """StreamCheck answers every request of a burst in order, each recorded."""
    order = ["serious", "red", "clean", "both"] * 5
    requests = (
        pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=listed[k])]) for k in order
    )
    responses = list(daemon.check.StreamCheck(requests, timeout=30))
    assert [r.subjects[0].id for r in responses] == [listed[k] for k in order]
    stored = daemon.check.GetCheck(pb.GetCheckRequest(check_id=responses[-1].check_id), timeout=10)
    assert stored.response == responses[-1]


def test_get_check_of_unknown_id_is_not_found(daemon: RunningDaemon) -> None:
    """GetCheck on an id never issued is NOT_FOUND, not an empty record."""
    with pytest.raises(grpc.RpcError) as caught:
        daemon.check.GetCheck(pb.GetCheckRequest(check_id="0" * 32), timeout=10)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_upsert_with_a_bad_row_changes_nothing(
    daemon: RunningDaemon, listed: dict[str, str], tmp_path: Path
) -> None:
    """UpsertEntries is all or nothing: one bad row rejects the batch, naming it."""
    fresh = factories.uscc()
    with pytest.raises(grpc.RpcError) as caught:
        upsert(
            daemon,
            factories.entry_row("E-NEW", fresh, "serious_illegal_dishonest"),
            factories.entry_row("E-BAD", fresh, "no_such_list"),
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "unknown list" in violations(caught.value)["entries[1]"]
    assert check(daemon, fresh).subjects[0].entries == []


def test_stream_check_names_a_bad_item_and_answers_those_before(
    daemon: RunningDaemon, listed: dict[str, str]
) -> None:
    """A bad item ends the stream with INVALID_ARGUMENT naming its position; earlier items are answered."""
    good = pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=listed["red"])])
    bad = pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id="not-an-id")])
    answered = []
    with pytest.raises(grpc.RpcError) as caught:
        for response in daemon.check.StreamCheck(iter([good, good, good, bad, good]), timeout=30):
            answered.append(response)
    assert len(answered) == 3
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "stream[3].subjects[0].id" in violations(caught.value)


def test_getcheck_returns_the_answered_bytes_for_check_batch_and_stream(
    daemon: RunningDaemon, listed: dict[str, str]
) -> None:
    """The raw bytes each check RPC answered are, byte for byte, the response GetCheck reads back."""
    raw = lambda method: daemon.channel.unary_unary(  # noqa: E731  # bytes in and out, no stubs
        f"/checkd.v1.CheckService/{method}", request_serializer=None, response_deserializer=None
    )
    subjects = [
        pb.Subject(id=listed["both"]),
        pb.Subject(id=listed["rep"], role=pb.ROLE_LEGAL_REPRESENTATIVE),
    ]
    request = pb.CheckRequest(request_id="bytes-1", department=DEPT, scene=SCENE, subjects=subjects)
    answered = [raw("Check")(request.SerializeToString(), timeout=10)]
    batch = pb.BatchCheckRequest(
        requests=[
            pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=listed["clean"])]),
            pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id="not an id")]),
            pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=listed["serious"])]),
        ]
    )
    results = pb.BatchCheckResponse.FromString(raw("BatchCheck")(batch.SerializeToString(), timeout=10))
    assert [r.WhichOneof("result") for r in results.results] == ["response", "error", "response"]
    assert "subjects[0].id" in {v.field for v in results.results[1].error.field_violations}
    answered += [r.response.SerializeToString() for r in results.results if r.HasField("response")]
    stream = daemon.channel.stream_stream(
        "/checkd.v1.CheckService/StreamCheck", request_serializer=None, response_deserializer=None
    )
    answered += list(stream(iter([request.SerializeToString().replace(b"bytes-1", b"bytes-2")]), timeout=10))
    assert len(answered) == 4
    hits = 0
    for payload in answered:
        response = pb.CheckResponse.FromString(payload)
        record = daemon.check.GetCheck(pb.GetCheckRequest(check_id=response.check_id), timeout=10)
        assert record.response.SerializeToString() == payload
        assert (record.ledger_seq, record.ledger_hash) == (
            response.receipt.ledger_seq,
            response.receipt.ledger_hash,
        )
        hits += any(s.measures for s in response.subjects)
    assert hits >= 3  # the listed subjects pushed measures: the hit path was compared too
    # A retry gets the original answer back, byte for byte.
    assert raw("Check")(request.SerializeToString(), timeout=10) == answered[0]
