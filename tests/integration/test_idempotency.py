"""An idempotency key belongs to one request: a retry gets its answer, another request is refused."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.protobuf import timestamp_pb2

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from tests import factories
from tests.daemon import RunningDaemon, start_daemon

DEPT, SCENE = "market_regulation", "administrative_licensing"


def _request(request_id: str, *ids: str, matter: str = "", as_of: int = 0) -> pb.CheckRequest:
    request = pb.CheckRequest(
        request_id=request_id,
        department=DEPT,
        scene=SCENE,
        matter=matter,
        subjects=[pb.Subject(id=i) for i in ids],
    )
    if as_of:
        request.as_of.CopyFrom(timestamp_pb2.Timestamp(seconds=as_of))
    return request


def _refused(error: grpc.RpcError | pb.ItemError, request_id: str, original_check_id: str) -> None:
    """The refusal of a reused key: FAILED_PRECONDITION naming request_id and the original check."""
    if isinstance(error, pb.ItemError):
        code, message = error.code, error.message
        assert code == grpc.StatusCode.FAILED_PRECONDITION.value[0], error
    else:
        code, message = error.code(), error.details() or ""
        assert code == grpc.StatusCode.FAILED_PRECONDITION, message
    assert f"request_id {request_id!r}" in message, message
    assert "first used for another request" in message, message
    assert original_check_id in message, message


def test_same_key_same_request_is_answered_once(daemon: RunningDaemon) -> None:
    """A true retry (same subjects, scene, no as_of) gets the original answer, not a new check."""
    enterprise = factories.uscc()
    first = daemon.check.Check(_request("idem-retry", enterprise), timeout=10)
    again = daemon.check.Check(_request("idem-retry", f" {enterprise.lower()} "), timeout=10)
    assert again == first


def test_reused_key_for_another_request_is_refused_on_every_path(db_url: str, tmp_path: Path) -> None:
    """Other subjects, matter or as_of under a used request_id: refused by cache, store, batch and stream."""
    daemon = start_daemon(db_url, tmp_path)
    one, other = factories.uscc(), factories.uscc()
    daemon.registry.UpsertEntries(
        reg.UpsertEntriesRequest(
            entries=[factories.entry_input(factories.entry_row("ID-1", other, "serious_illegal_dishonest"))]
        ),
        timeout=30,
    )
    first = daemon.check.Check(_request("idem-1", one), timeout=10)
    # The recent-answers cache path (the first answer is remembered).
    for changed in (
        _request("idem-1", other),
        _request("idem-1", one, matter="食品经营许可"),
        _request("idem-1", one, as_of=1_767_225_600),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            daemon.check.Check(changed, timeout=10)
        _refused(caught.value, "idem-1", first.check_id)
    # BatchCheck: an item reusing a stored key, and two items sharing a new key within the batch.
    batch = daemon.check.BatchCheck(
        pb.BatchCheckRequest(
            requests=[
                _request("idem-1", other),
                _request("idem-2", one),
                _request("idem-2", other),
                _request("idem-1", one),
            ]
        ),
        timeout=30,
    )
    kinds = [r.WhichOneof("result") for r in batch.results]
    assert kinds == ["error", "response", "error", "response"], batch
    _refused(batch.results[0].error, "idem-1", first.check_id)
    second_id = batch.results[1].response.check_id
    _refused(batch.results[2].error, "idem-2", second_id)
    assert batch.results[3].response == first
    # StreamCheck: the item with a reused key ends the stream with the refusal.
    answers = daemon.check.StreamCheck(iter([_request("idem-3", one), _request("idem-1", other)]), timeout=30)
    assert next(answers).request_id == "idem-3"
    with pytest.raises(grpc.RpcError) as caught:
        next(answers)
    _refused(caught.value, "idem-1", first.check_id)
    # After a restart the cache is empty: the store's unique key path must refuse the same way.
    assert daemon.stop() == 0
    daemon = start_daemon(db_url, tmp_path)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            daemon.check.Check(_request("idem-1", other), timeout=10)
        _refused(caught.value, "idem-1", first.check_id)
        batch = daemon.check.BatchCheck(
            pb.BatchCheckRequest(requests=[_request("idem-2", other)]), timeout=30
        )
        _refused(batch.results[0].error, "idem-2", second_id)
        assert daemon.check.Check(_request("idem-1", one), timeout=10) == first  # a true retry still works
    finally:
        assert daemon.stop() == 0
