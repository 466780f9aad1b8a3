"""Data age counted from the source's last import, and gRPC health in step with /readyz, via the daemon."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from tests import factories
from tests.daemon import ROOT, TEST_SECRET, RunningDaemon, launch, run_cli, wait_until_serving
from tests.integration.test_ops import check, http_get, scrape, start_ops, value, wait_for

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


def health(daemon: RunningDaemon) -> int:
    """The overall gRPC health status and that of each checkd service, which must agree."""
    statuses = {
        daemon.health.Check(health_pb2.HealthCheckRequest(service=name), timeout=10).status
        for name in ("", "checkd.v1.CheckService", "checkd.v1.RegistryService")
    }
    assert len(statuses) == 1, statuses
    return statuses.pop()


def readyz(base: str) -> tuple[int, dict[str, str]]:
    """/readyz: its status code and its checks."""
    status, body = http_get(f"{base}/readyz")
    checks: dict[str, str] = json.loads(body)["checks"]
    return status, checks


def write_feed(path: Path) -> tuple[Path, dict[str, str]]:
    """A nightly feed of two entries (a serious-dishonesty and a red-listed enterprise) and a clean id."""
    ids = {"serious": factories.uscc(), "red": factories.uscc(), "clean": factories.uscc()}
    rows = [
        factories.entry_row(f"AGE-SER-{ids['serious']}", ids["serious"], "serious_illegal_dishonest"),
        factories.entry_row(
            f"AGE-RED-{ids['red']}", ids["red"], "red_list", end=f"{dt.date.today().year + 1}-12-31"
        ),
    ]
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path, ids


def cli_import(db_url: str, feed: Path, workdir: Path) -> None:
    """`checkd import` of the feed, as the nightly job runs it."""
    done = run_cli("import", "--db", db_url, "--rules", str(ROOT / "rules"), str(feed), workdir=workdir)
    assert done.returncode == 0, done.stderr


def test_a_dead_import_turns_answers_to_review_until_the_next_import(db_url: str, tmp_path: Path) -> None:
    """Polls of an unchanged store and a revocation leave the age running; an import (same file) resets it."""
    running = start_ops(db_url, tmp_path, "--max-data-age", "3")  # polls every 0.5 s
    daemon = running.grpc
    try:
        feed, ids = write_feed(tmp_path / "feed.jsonl")
        cli_import(db_url, feed, tmp_path)
        wait_for(lambda: check(daemon, ids["clean"]).data_version == "d1")
        fresh = check(daemon, ids["clean"])
        assert fresh.verdict == pb.VERDICT_CLEAR and fresh.data_age_seconds < 3

        # The nightly import dies: the daemon keeps polling the same data version every 0.5 s.
        wait_for(lambda: readyz(running.base)[0] == 503, timeout=20)
        assert readyz(running.base)[1]["data_age"].startswith("stale")
        wait_for(lambda: health(daemon) == NOT_SERVING, timeout=10)
        stale = check(daemon, ids["clean"])
        assert stale.verdict == pb.VERDICT_REVIEW and stale.data_age_seconds >= 3
        assert "data is stale" in stale.notes[0]
        assert check(daemon, ids["red"]).verdict == pb.VERDICT_REVIEW
        assert value(scrape(running.base), "checkd_data_age_seconds") >= 3

        # A credit office's revocation changes the data but says nothing about the feed being alive.
        daemon.registry.RevokeEntry(
            reg.RevokeEntryRequest(
                entry_id=f"AGE-SER-{ids['serious']}", reason="credit repair", document_no="嘉信修〔2026〕1号"
            ),
            timeout=30,
        )
        assert check(daemon, ids["clean"]).verdict == pb.VERDICT_REVIEW
        assert readyz(running.base)[0] == 503 and health(daemon) == NOT_SERVING

        # The feed comes back, unchanged: the import confirms the data.
        cli_import(db_url, feed, tmp_path)
        wait_for(lambda: readyz(running.base)[0] == 200, timeout=20)
        wait_for(lambda: health(daemon) == SERVING, timeout=10)
        restored = check(daemon, ids["clean"])
        assert restored.verdict == pb.VERDICT_CLEAR and restored.data_age_seconds < 3
    finally:
        assert daemon.stop() == 0, daemon.log_text()


def test_a_restart_on_data_imported_long_ago_is_stale_at_once(db_url: str, tmp_path: Path) -> None:
    """The age survives a restart: it is read from the store, not counted from the daemon's own start."""
    feed, ids = write_feed(tmp_path / "feed.jsonl")
    cli_import(db_url, feed, tmp_path)
    imported = time.monotonic()
    time.sleep(max(0.0, imported + 2.5 - time.monotonic()))
    running = start_ops(db_url, tmp_path, "--max-data-age", "2", serving=False)
    daemon = running.grpc
    try:
        wait_for(lambda: readyz(running.base)[1].get("snapshots") == "ok", timeout=30)
        status, checks = readyz(running.base)
        assert status == 503 and checks["data_age"].startswith("stale"), checks
        assert health(daemon) == NOT_SERVING
        answer = check(daemon, ids["clean"])
        assert answer.verdict == pb.VERDICT_REVIEW and answer.data_age_seconds >= 2
    finally:
        assert daemon.stop() == 0, daemon.log_text()


def test_health_is_not_serving_while_a_big_store_loads(tmp_path: Path) -> None:
    """The port is bound before the index loads: health NOT_SERVING and checks UNAVAILABLE, then SERVING."""
    from bench.synth import Population, Scale, write_jsonl

    feed = tmp_path / "big.jsonl"
    entries = sum(write_jsonl(Population(Scale("ops-test", 60_000, 300_000), 1), feed).values())
    url = f"sqlite:///{tmp_path / 'big.db'}"
    cli_import(url, feed, tmp_path)
    (tmp_path / "big.db.index").unlink()  # without the import's snapshot file the daemon builds the index
    process, port, log_path = launch(url, tmp_path, "--no-sample", env={"CHECKD_SECRET": TEST_SECRET})
    daemon = RunningDaemon(process, port, log_path)
    try:
        first = daemon.health.Check(
            health_pb2.HealthCheckRequest(service=""), timeout=10, wait_for_ready=True
        )
        assert first.status == NOT_SERVING, f"health {first.status} right after binding, {entries} entries"
        with pytest.raises(grpc.RpcError) as refused:
            check(daemon, factories.uscc())
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "starting" in (refused.value.details() or "")
        wait_until_serving(daemon.health)
        assert health(daemon) == SERVING
        assert check(daemon, factories.uscc()).verdict == pb.VERDICT_CLEAR
    finally:
        assert daemon.stop() == 0, daemon.log_text()
