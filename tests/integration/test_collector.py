"""The serving daemon's garbage collector: young passes are rare under a burst of checks."""

from __future__ import annotations

from pathlib import Path

from checkd.api.v1 import check_pb2 as pb
from tests import factories
from tests.integration.test_ops import COMMITMENT, DEPT, SCENE, check, scrape, start_ops, value

BATCHES, BATCH = 20, 100


def test_a_burst_of_checks_runs_almost_no_young_collector_passes(tmp_path: Path) -> None:
    """2,000 checks allocate far more than CPython's default 700 objects per young pass.

    With the default thresholds this burst runs some hundred young passes (each walking the
    objects of the checks in flight); the daemon set for serving runs a handful at most.
    """
    ops = start_ops(f"sqlite:///{tmp_path / 'c.db'}", tmp_path)
    try:
        check(ops.grpc, factories.uscc())
        before = scrape(ops.base)
        request = pb.BatchCheckRequest(
            requests=[
                pb.CheckRequest(
                    department=DEPT,
                    scene=SCENE,
                    matter=COMMITMENT,
                    subjects=[pb.Subject(id=factories.uscc())],
                )
                for _ in range(BATCH)
            ]
        )
        for _ in range(BATCHES):
            answered = ops.grpc.check.BatchCheck(request, timeout=30)
            assert len(answered.results) == BATCH
            assert all(r.WhichOneof("result") == "response" for r in answered.results)
        after = scrape(ops.base)
    finally:
        assert ops.grpc.stop() == 0, ops.grpc.log_text()
    checks = value(after, "checkd_checks_total", department=DEPT, scene=SCENE, verdict="clear") - value(
        before, "checkd_checks_total", department=DEPT, scene=SCENE, verdict="clear"
    )
    young = value(after, "python_gc_collections_total", generation="0") - value(
        before, "python_gc_collections_total", generation="0"
    )
    assert checks == BATCHES * BATCH
    assert value(after, "python_gc_collections_total", generation="0") > 0  # the figure is exposed
    assert young <= 5, f"{young:.0f} young collector passes for {checks:.0f} checks"
