"""Feedback cannot inflate the statistics: one outcome per measure and subject, the latest one counts."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from tests import factories
from tests.daemon import RunningDaemon
from tests.integration.test_check_loop import violations

DEPT, SCENE = "market_regulation", "administrative_licensing"
MATTER = "market_regulation.licence_by_commitment"  # matter-narrowed measures reach the subject only here
CST = dt.timezone(dt.timedelta(hours=8))


def _stats(daemon: RunningDaemon) -> reg.StatsRow:
    """The department's statistics total around today (CST)."""
    today = dt.datetime.now(CST).date()
    day = dt.timedelta(days=1)
    answer = daemon.registry.Stats(
        reg.StatsRequest(
            from_date=(today - day).isoformat(), to_date=(today + day).isoformat(), department=DEPT
        ),
        timeout=30,
    )
    total: reg.StatsRow = answer.total
    return total


def _outcome(measure: str, subject: str, outcome: int, reason: str = "") -> pb.FeedbackOutcome:
    return pb.FeedbackOutcome(measure_id=measure, subject_id=subject, outcome=outcome, reason=reason)


def test_feedback_counts_one_outcome_per_measure_and_subject(daemon: RunningDaemon) -> None:
    """A later feedback replaces the earlier outcome in Stats, and repeats count nothing.

    Repeated or contradictory outcomes in one feedback are INVALID_ARGUMENT naming outcomes[i].
    """
    subject = factories.uscc()
    daemon.registry.UpsertEntries(
        reg.UpsertEntriesRequest(
            entries=[factories.entry_input(factories.entry_row("FB-1", subject, "serious_illegal_dishonest"))]
        ),
        timeout=30,
    )
    answer = daemon.check.Check(
        pb.CheckRequest(department=DEPT, scene=SCENE, matter=MATTER, subjects=[pb.Subject(id=subject)]),
        timeout=10,
    )
    first, second = (m.measure_id for m in answer.subjects[0].measures[:2])

    daemon.check.SubmitFeedback(
        pb.FeedbackRequest(
            check_id=answer.check_id,
            outcomes=[
                _outcome(first, subject, pb.OUTCOME_APPLIED),
                _outcome(second, subject, pb.OUTCOME_APPLIED),
            ],
        ),
        timeout=10,
    )
    counted = _stats(daemon)
    assert (counted.feedback_applied, counted.feedback_not_applied) == (2, 0)
    # The department corrects one outcome: the correction replaces it in the statistics ...
    daemon.check.SubmitFeedback(
        pb.FeedbackRequest(
            check_id=answer.check_id,
            outcomes=[_outcome(first, subject, pb.OUTCOME_NOT_APPLIED, "申请人已撤回申请")],
        ),
        timeout=10,
    )
    counted = _stats(daemon)
    assert (counted.feedback_applied, counted.feedback_not_applied) == (1, 1), counted
    # ... and the record keeps both feedbacks.
    record = daemon.check.GetCheck(pb.GetCheckRequest(check_id=answer.check_id), timeout=10)
    assert len(record.feedback) == 2

    inflated = [_outcome(first, subject, pb.OUTCOME_APPLIED)] * 1000
    contradictory = [
        _outcome(second, subject, pb.OUTCOME_APPLIED),
        _outcome(second, answer.subjects[0].id, pb.OUTCOME_OBJECTED),
    ]  # the masked form too
    for outcomes, repeated in ((inflated, "outcomes[1]"), (contradictory, "outcomes[1]")):
        with pytest.raises(grpc.RpcError) as refused:
            daemon.check.SubmitFeedback(
                pb.FeedbackRequest(check_id=answer.check_id, outcomes=outcomes), timeout=10
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        found = violations(refused.value)
        assert "repeats outcomes[0]" in found.get(repeated, ""), found
    counted = _stats(daemon)
    assert (counted.feedback_applied, counted.feedback_not_applied, counted.feedback_objected) == (1, 1, 0)
    assert len(daemon.check.GetCheck(pb.GetCheckRequest(check_id=answer.check_id), timeout=10).feedback) == 2
