"""A store written by release 0.1.0 (its own code, from git) is upgraded and reads back intact."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.store.tables import Base
from tests.conftest import pg_database
from tests.daemon import ROOT, TEST_SECRET, RunningDaemon, run_cli, start_daemon, wait_until_serving

RELEASE_0_1_0 = "035131111c0fcbb79407995d4c0499b1fcff0c48"  # tag v0.1.0
ENTERPRISE = "91330402MA2B8K1C34"  # S0001 of the sample lists: serious dishonesty
RED_LISTED = "91330411MA28A7Q319"  # S0002: red list
BIDDING = {
    "department": "public_resource_trading",
    "scene": "public_resource_trading",
    "matter": "public_resource_trading.construction_bidding",
}


@pytest.fixture(scope="module")
def release_0_1_0(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The source tree of release 0.1.0, unpacked from this repository's history."""
    target = tmp_path_factory.mktemp("checkd-0.1.0")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", RELEASE_0_1_0, "checkd", "rules"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store URL per backend (the old release makes its own schema in it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old' / 'checkd.db'}"
    else:
        yield from pg_database()


def _old_env(old: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(old), "CHECKD_SECRET": TEST_SECRET}


def _old_daemon(old: Path, url: str, workdir: Path) -> RunningDaemon:
    """Release 0.1.0's own `checkd serve` on the store (cwd and PYTHONPATH: its source tree)."""
    port_file, log_path = workdir / "old-port", workdir / "old-daemon.log"
    args = [sys.executable, "-m", "checkd", "serve", "--listen", "127.0.0.1:0", "--db", url]
    args += ["--rules", str(old / "rules"), "--port-file", str(port_file), "--no-sample", "--grace", "5"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, cwd=old, env=_old_env(old), stdout=log, stderr=subprocess.STDOUT)
    while not port_file.exists() or not port_file.read_text():
        assert process.poll() is None, log_path.read_text()
        subprocess.run(["sleep", "0.05"], check=True)
    daemon = RunningDaemon(process, int(port_file.read_text()), log_path)
    wait_until_serving(daemon.health)
    return daemon


def _fill_with_release_0_1_0(old: Path, url: str, workdir: Path) -> dict[str, bytes]:
    """Import, check, feed back and revoke with 0.1.0; the GetCheck answer of each check, serialised."""
    sample = str(old / "checkd" / "data" / "sample_entries.jsonl")
    imported = subprocess.run(
        [sys.executable, "-m", "checkd", "import", "--db", url, "--rules", str(old / "rules"), sample],
        cwd=old,
        env=_old_env(old),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    daemon = _old_daemon(old, url, workdir)
    try:
        answers = []
        for number, subject in enumerate((ENTERPRISE, RED_LISTED, ENTERPRISE)):
            request = pb.CheckRequest(
                request_id=f"old-{number}", subjects=[pb.Subject(id=subject)], **BIDDING
            )
            answers.append(daemon.check.Check(request, timeout=10))
        penalty = answers[0]
        assert penalty.subjects[0].measures, "the sample's dishonest enterprise gets measures in 0.1.0"
        daemon.check.SubmitFeedback(
            pb.FeedbackRequest(
                check_id=penalty.check_id,
                outcomes=[
                    pb.FeedbackOutcome(
                        measure_id=penalty.subjects[0].measures[0].measure_id,
                        subject_id=ENTERPRISE,
                        outcome=pb.OUTCOME_APPLIED,
                    )
                ],
            ),
            timeout=10,
        )
        daemon.registry.RevokeEntry(
            reg.RevokeEntryRequest(
                entry_id="S0002", reason="异议成立", kind="objection", document_no="嘉信修〔2026〕1号"
            ),
            timeout=10,
        )
        return {
            answer.check_id: daemon.check.GetCheck(
                pb.GetCheckRequest(check_id=answer.check_id), timeout=10
            ).SerializeToString()
            for answer in answers
        }
    finally:
        assert daemon.stop() == 0, daemon.log_text()


def test_a_release_0_1_0_store_is_upgraded_and_reads_back_intact(
    release_0_1_0: Path, store_url: str, tmp_path: Path
) -> None:
    """0.1.0 fills a store; serve refuses it naming the upgrade; after `db upgrade` all of it reads back."""
    recorded = _fill_with_release_0_1_0(release_0_1_0, store_url, tmp_path)

    current = run_cli("db", "current", "--db", store_url, workdir=tmp_path)
    assert current.returncode != 0 and "0001 (release 0.1.0, no version recorded)" in current.stdout

    refused = run_cli("serve", "--db", store_url, "--rules", str(ROOT / "rules"), workdir=tmp_path)
    assert refused.returncode != 0
    assert "checkd db upgrade" in refused.stderr and "store unavailable" not in refused.stderr, refused.stderr
    refused_verify = run_cli("ledger", "verify", "--db", store_url, workdir=tmp_path)
    assert refused_verify.returncode != 0 and "checkd db upgrade" in refused_verify.stderr

    upgraded = run_cli("db", "upgrade", "--db", store_url, workdir=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "upgraded from 0001 (release 0.1.0, no version recorded) to 0002 (head)" in upgraded.stdout
    assert "recorded the 300 list entries in the ledger" in upgraded.stdout, upgraded.stdout
    again = run_cli("db", "upgrade", "--db", store_url, workdir=tmp_path)
    assert again.returncode == 0 and "already at 0002 (head)" in again.stdout, again.stdout

    daemon = start_daemon(store_url, tmp_path)
    try:
        for check_id, answer in recorded.items():
            now = daemon.check.GetCheck(pb.GetCheckRequest(check_id=check_id), timeout=10)
            # 0.2.0 adds the receipt (ledger position and hash) to each answer; the rest is 0.1.0's bytes.
            receipt = now.response.receipt
            assert (receipt.ledger_seq, receipt.ledger_hash) == (now.ledger_seq, now.ledger_hash)
            now.response.ClearField("receipt")
            assert now.SerializeToString() == answer, check_id
        first = next(iter(recorded))
        assert len(pb.CheckRecord.FromString(recorded[first]).feedback) == 1
        # A check recorded before request fingerprints answers a retry of its request_id as before.
        retry = pb.CheckRequest(request_id="old-0", subjects=[pb.Subject(id=ENTERPRISE)], **BIDDING)
        assert daemon.check.Check(retry, timeout=10).check_id == first
        revoked = daemon.registry.GetSubject(reg.GetSubjectRequest(id=RED_LISTED), timeout=10)
        assert ("S0002", "嘉信修〔2026〕1号") in [(e.entry_id, e.revoke_document_no) for e in revoked.entries]
        listed = daemon.registry.GetSubject(reg.GetSubjectRequest(id=ENTERPRISE), timeout=10)
        assert "S0001" in [e.entry_id for e in listed.entries]
        # The upgraded store takes new work: a reinstatement (a 0.2.0 column) and a new check.
        daemon.registry.ReinstateEntry(
            reg.ReinstateEntryRequest(entry_id="S0002", reason="复核撤销", document_no="嘉信复〔2026〕2号"),
            timeout=10,
        )
        fresh = pb.CheckRequest(request_id="new-0", subjects=[pb.Subject(id=RED_LISTED)], **BIDDING)
        assert daemon.check.Check(fresh, timeout=10).check_id not in recorded
    finally:
        assert daemon.stop() == 0, daemon.log_text()

    verified = run_cli("ledger", "verify", "--db", store_url, workdir=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "ledger ok" in verified.stdout


def test_a_store_newer_than_this_release_is_refused(db_url: str, tmp_path: Path) -> None:
    """A store stamped by a later release: serve and verify refuse it, naming the command and the revision."""
    created = run_cli("db", "upgrade", "--db", db_url, workdir=tmp_path)
    assert created.returncode == 0 and "upgraded from empty" in created.stdout, created.stdout
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    for command in (("serve", "--rules", str(ROOT / "rules")), ("ledger", "verify")):
        refused = run_cli(*command, "--db", db_url, workdir=tmp_path)
        assert refused.returncode != 0, command
        assert "revision 0099, newer than this checkd" in refused.stderr, refused.stderr
        assert "checkd db upgrade" in refused.stderr and "store unavailable" not in refused.stderr
    assert "0099" in run_cli("db", "current", "--db", db_url, workdir=tmp_path).stdout


def test_the_revisions_build_the_schema_of_the_tables(db_url: str, tmp_path: Path) -> None:
    """Replaying every revision from nothing gives exactly the tables a new store is created with."""
    engine = create_engine(db_url)
    with engine.begin() as connection:  # a 0.1.0-shaped store: the first revision's tables, no version
        from checkd.store.migrations import versioning

        config = versioning._alembic(connection)
        from alembic import command

        command.upgrade(config, versioning.FIRST_REVISION)
        connection.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    upgraded = run_cli("db", "upgrade", "--db", db_url, workdir=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    engine = create_engine(db_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_serve_creates_an_empty_store_at_the_head(db_url: str, tmp_path: Path) -> None:
    """The README's first command on nothing: the store is made at the newest revision and serves."""
    daemon = start_daemon(db_url, tmp_path)
    try:
        with pytest.raises(grpc.RpcError) as missing:
            daemon.check.GetCheck(pb.GetCheckRequest(check_id="nothing-here"), timeout=10)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        assert daemon.stop() == 0, daemon.log_text()
    current = run_cli("db", "current", "--db", db_url, workdir=tmp_path)
    assert current.returncode == 0 and "0002 (head)" in current.stdout, current.stdout


def test_the_head_constant_is_the_newest_revision_file() -> None:
    """versioning.HEAD (compared at every open without loading alembic) names the newest revision file."""
    from checkd.store.migrations import versioning

    assert versioning.newest_script_revision() == versioning.HEAD
