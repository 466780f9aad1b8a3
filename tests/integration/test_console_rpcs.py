"""The registry RPCs the console stands on, and the CLI for the same acts, on a real daemon with a policy."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.store import Database, LedgerRepository
from tests import factories
from tests.daemon import ROOT, run_cli
from tests.integration.console_support import DEPT, SCENE, credit_policy
from tests.secure_daemon import Client, SecureDaemon, start_secure_daemon


@dataclass
class Office:
    """A daemon with a policy, the credit office's and a department's clients and token files."""

    daemon: SecureDaemon
    credit: Client
    market: Client
    credit_file: Path
    market_file: Path
    workdir: Path


@pytest.fixture
def office(db_url: str, tmp_path: Path) -> Iterator[Office]:
    """The daemon on either store, started empty under the test policy."""
    credit, market = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    policy = credit_policy(tmp_path / "policy.yaml", credit, market)
    daemon = start_secure_daemon(
        db_url, tmp_path, "--policy", str(policy), ca=None, probe=lambda d: d.connect(token=credit)
    )
    credit_file, market_file = tmp_path / "credit.token", tmp_path / "market.token"
    credit_file.write_text(credit)
    market_file.write_text(market)
    yield Office(
        daemon, daemon.connect(token=credit), daemon.connect(token=market), credit_file, market_file, tmp_path
    )
    assert daemon.stop() == 0, daemon.log_text()


def _cli(office: Office, *args: str, token: Path | None = None) -> tuple[int, str, str]:
    done = run_cli(
        *args,
        "--target",
        f"127.0.0.1:{office.daemon.port}",
        "--token-file",
        str(token or office.credit_file),
        workdir=office.workdir,
    )
    return done.returncode, done.stdout, done.stderr


def _violations(error: grpc.RpcError) -> list[tuple[str, str]]:
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    status = rpc_status.from_call(error)
    assert status is not None
    found = []
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            found += [(v.field, v.description) for v in bad.field_violations]
    return found


def _admin_records(db_url: str) -> list[dict[str, object]]:
    database = Database(db_url)
    try:
        return [json.loads(r.payload) for r in LedgerRepository(database).iter_records() if r.kind == "admin"]
    finally:
        database.close()


def test_cli_subject_check_record_and_revoke(office: Office) -> None:
    """The CLI reads a subject and a check, revokes an entry (the next check clears); a department may not."""
    company, person = factories.uscc(), factories.resident_id("19790312")
    row = factories.entry_row("R-1", company, "serious_illegal_dishonest", legal_representative_id=person)
    office.credit.registry.UpsertEntries(
        reg.UpsertEntriesRequest(entries=[factories.entry_input(row)]), timeout=30
    )
    hit = office.market.check.Check(
        pb.CheckRequest(request_id="r-1", department=DEPT, scene=SCENE, subjects=[pb.Subject(id=company)]),
        timeout=10,
    )
    assert hit.verdict != pb.VERDICT_CLEAR

    code, out, err = _cli(office, "subject", person)
    assert code == 0, err
    subject = json.loads(out)
    assert person not in out and subject["id"] == person[:6] + "********" + person[-4:]
    assert (
        subject["relations"][0]["role"] == "ROLE_LEGAL_REPRESENTATIVE" and subject["relations"][0]["queried"]
    )
    assert [c["checkId"] for c in subject["recentChecks"]] == [hit.check_id]

    code, out, err = _cli(office, "check-record", "--department", DEPT, "--request-id", "r-1")
    assert code == 0, err
    assert json.loads(out)["checkId"] == hit.check_id  # another department's check, read by the credit office

    code, out, err = _cli(office, "check-record", hit.check_id, token=office.market_file)
    assert code == 2 and "PERMISSION_DENIED" in err  # the registry is the credit office's
    code, out, err = _cli(
        office,
        "revoke",
        "R-1",
        "--kind",
        "objection",
        "--document",
        "D-1",
        "--reason",
        "x",
        token=office.market_file,
    )
    assert code == 2 and "PERMISSION_DENIED" in err

    code, out, err = _cli(
        office, "revoke", "R-1", "--kind", "objection", "--document", "异〔2026〕1号", "--reason", "异议成立"
    )
    assert code == 0, err
    assert out.startswith("revoked R-1 (objection, document 异〔2026〕1号)")
    clear = office.market.check.Check(
        pb.CheckRequest(request_id="r-2", department=DEPT, scene=SCENE, subjects=[pb.Subject(id=company)]),
        timeout=10,
    )
    assert clear.verdict == pb.VERDICT_CLEAR
    total = office.credit.registry.Stats(
        reg.StatsRequest(from_date="2020-01-01", to_date="2029-12-31"), timeout=30
    ).total
    assert (total.checks, total.checks_with_measures, total.checks_missing_feedback) == (2, 1, 1)
    code, out, err = _cli(office, "revoke", "R-1", "--document", "D", "--reason", "again")
    assert code == 2 and "FAILED_PRECONDITION" in err  # already revoked, said so


def test_import_rpc_is_the_import_command(office: Office, db_url: str) -> None:
    """ImportEntries: all or nothing with a violation per bad row, audited as an import under the operator."""
    good = factories.entry_row("I-1", factories.uscc(), "serious_illegal_dishonest")
    bad = factories.entry_row("I-2", "91330402000000000X", "serious_illegal_dishonest")
    header = list(good)
    lines = [",".join(header)] + [",".join(str(r[k]) for k in header) for r in (good, bad)]
    content = ("\n".join(lines) + "\n").encode()
    head_before = office.credit.registry.VerifyLedger(reg.VerifyLedgerRequest(), timeout=60).head_seq

    with pytest.raises(grpc.RpcError) as refused:
        office.credit.registry.ImportEntries(
            reg.ImportEntriesRequest(files=[reg.ImportFile(name="feed.csv", content=content)]), timeout=30
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "1 bad row(s); nothing was imported" in (refused.value.details() or "")
    assert [field for field, _ in _violations(refused.value)] == ["feed.csv:3"]
    assert office.credit.registry.VerifyLedger(reg.VerifyLedgerRequest(), timeout=60).head_seq == head_before
    assert not office.credit.registry.GetSubject(
        reg.GetSubjectRequest(id=good["subject_id"]), timeout=10
    ).entries
    # The command line's own import refuses the same file the same way, naming the same row.
    (office.workdir / "feed.csv").write_bytes(content)
    done = run_cli(
        "import",
        "--db",
        db_url,
        "--rules",
        str(ROOT / "rules"),
        str(office.workdir / "feed.csv"),
        workdir=office.workdir,
    )
    assert done.returncode == 1 and "feed.csv:3: subject_id" in done.stderr

    for name in ("..", ""):
        with pytest.raises(grpc.RpcError) as unnamed:
            office.credit.registry.ImportEntries(
                reg.ImportEntriesRequest(files=[reg.ImportFile(name=name, content=content)]), timeout=30
            )
        assert unnamed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert [field for field, _ in _violations(unnamed.value)] == ["files[0].name"]

    good_only = b"".join(content.splitlines(True)[:2])  # the header and the good row
    done_rpc = office.credit.registry.ImportEntries(
        reg.ImportEntriesRequest(files=[reg.ImportFile(name="feed.csv", content=good_only)]), timeout=30
    )
    assert done_rpc.imported == 1 and dict(done_rpc.per_list) == {"serious_illegal_dishonest": 1}
    (record,) = [r for r in _admin_records(db_url) if r.get("action") == "import"]
    assert record["files"] == ["feed.csv"]
    assert str(record["caller"]).startswith("credit_office (token ops-1;")


def test_verify_ledger_rpc_agrees_with_the_command(office: Office, db_url: str) -> None:
    """VerifyLedger reports what `checkd ledger verify` reports, confirms a receipt, and names a bad one."""
    office.credit.registry.UpsertEntries(
        reg.UpsertEntriesRequest(
            entries=[
                factories.entry_input(
                    factories.entry_row("V-1", factories.uscc(), "serious_illegal_dishonest")
                )
            ]
        ),
        timeout=30,
    )
    answer = office.market.check.Check(
        pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=factories.uscc())]), timeout=10
    )
    receipt = f"{answer.receipt.ledger_seq}:{answer.receipt.ledger_hash}"
    verified = office.credit.registry.VerifyLedger(reg.VerifyLedgerRequest(receipts=[receipt]), timeout=60)
    assert verified.ok and not verified.problems
    assert any(str(answer.receipt.ledger_seq) in note for note in verified.notes)
    done = run_cli("ledger", "verify", "--db", db_url, workdir=office.workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        f"ledger ok: {verified.records} records, head {verified.head_seq} {verified.head_hash}" in done.stdout
    )

    wrong = f"{answer.receipt.ledger_seq}:{'0' * 64}"
    broken = office.credit.registry.VerifyLedger(reg.VerifyLedgerRequest(receipts=[wrong]), timeout=60)
    assert not broken.ok and broken.problems
    with pytest.raises(grpc.RpcError) as refused:
        office.credit.registry.VerifyLedger(reg.VerifyLedgerRequest(receipts=["seven"]), timeout=60)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    state = office.credit.registry.GetState(reg.GetStateRequest(), timeout=10)
    assert (state.department, state.via) == ("credit_office", "token ops-1")
    with pytest.raises(grpc.RpcError) as denied:
        office.market.registry.GetState(reg.GetStateRequest(), timeout=10)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_console_refuses_plain_http_beyond_loopback(tmp_path: Path) -> None:
    """`checkd console` on a non-loopback address without TLS stops before serving, saying why."""
    done = run_cli("console", "--listen", "0.0.0.0:0", workdir=tmp_path)
    assert done.returncode == 1
    assert "not a loopback address: give --tls-cert and --tls-key" in done.stderr
    half = run_cli("console", "--tls-cert", str(tmp_path / "c.pem"), workdir=tmp_path)
    assert half.returncode == 1 and "--tls-cert and --tls-key go together" in half.stderr


def test_console_refuses_every_sign_in_to_a_daemon_without_a_policy(tmp_path: Path) -> None:
    """A daemon without an access policy takes any caller, so the console lets nobody sign in to it."""
    import re
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.parse
    import urllib.request

    from tests.daemon import start_daemon

    daemon = start_daemon(f"sqlite:///{tmp_path / 'open.db'}", tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    console = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "checkd",
            "console",
            "--target",
            f"127.0.0.1:{daemon.port}",
            "--listen",
            f"127.0.0.1:{port}",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                form = urllib.request.urlopen(f"http://127.0.0.1:{port}/signin", timeout=5)
                break
            except OSError:
                assert console.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        cookie = form.headers["set-cookie"].split(";")[0]
        match = re.search(r'name="csrf" value="([^"]+)"', form.read().decode())
        assert match is not None
        body = urllib.parse.urlencode({"csrf": match.group(1), "token": "anything"}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/signin", body, {"Cookie": cookie})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403
        assert "未启用访问策略" in refused.value.read().decode()
    finally:
        console.terminate()
        console.wait(30)
        assert daemon.stop() == 0
