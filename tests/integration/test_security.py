"""Who may ask what, over real TLS and real tokens, and personal data kept out of logs and stores."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pytest

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.server.policy import hash_token
from checkd.store import Database, LedgerRepository
from tests import factories
from tests.daemon import TEST_SECRET, run_cli, start_daemon
from tests.secure_daemon import Client, Issued, Pki, SecureDaemon, start_secure_daemon

MARKET, HOUSING, CREDIT = "market_regulation", "housing_construction", "credit_office"
LICENSING, TRADING = "administrative_licensing", "public_resource_trading"
HOUSING_MATTER = "330400-ZJ-JS-001"


@dataclass
class Pkis:
    """The daemon's CA with its server and client certificates, and a stranger CA."""

    pki: Pki
    server: Issued
    market: Issued
    credit: Issued
    unknown: Issued  # issued by our CA, but named in no policy
    rogue_market: Issued  # claims the market name, issued by another CA


@pytest.fixture
def certs(tmp_path: Path) -> Pkis:
    """Fresh throwaway CAs and certificates for one test."""
    pki = Pki(tmp_path / "pki")
    rogue = Pki(tmp_path / "rogue", name="rogue CA")
    return Pkis(
        pki,
        pki.issue("checkd.test", server=True),
        pki.issue("market-regulation.test"),
        pki.issue("credit-office", dns=("credit-office.test",)),
        pki.issue("stranger.test"),
        rogue.issue("market-regulation.test"),
    )


@dataclass
class Tokens:
    """Bearer tokens handed to the department systems."""

    market: str
    housing: str


@pytest.fixture
def tokens() -> Tokens:
    """Fresh random tokens."""
    return Tokens(secrets.token_urlsafe(32), secrets.token_urlsafe(32))


def write_policy(
    path: Path, tokens: Tokens, *, market_rate: str = "null", market_token_id: str = "mr-1"
) -> Path:
    """The access policy the tests run under (tokens stored only as sha256)."""
    path.write_text(f"""version: 1
departments:
  credit_office:
    certificates: [credit-office.test]
    registry: true
    scenes: ["*"]
    matters: ["*"]
  market_regulation:
    certificates: [market-regulation.test]
    tokens:
      - {{id: {market_token_id}, sha256: "{hash_token(tokens.market)}"}}
    scenes: [{LICENSING}]
    matters: ["{REGISTRATION_MATTER}"]
    rate: {market_rate}
  housing_construction:
    tokens:
      - {{id: hc-1, sha256: "{hash_token(tokens.housing)}"}}
    scenes: [{LICENSING}, {TRADING}]
    matters: ["{HOUSING_MATTER}"]
""")
    return path


def _stopped(daemon: SecureDaemon) -> None:
    code = daemon.stop()
    assert code == 0, daemon.log_text()


@contextlib.contextmanager
def running(
    db_url: str, workdir: Path, *extra: str, probe: Callable[[SecureDaemon], Client], **options: Any
) -> Iterator[SecureDaemon]:
    """A daemon started with `extra` options for the block, then stopped: it must exit cleanly."""
    daemon = start_secure_daemon(db_url, workdir, *extra, probe=probe, **options)
    try:
        yield daemon
    finally:
        _stopped(daemon)


def tls_options(certs: Pkis, *, mutual: bool = True) -> list[str]:
    """The server's certificate and key; with `mutual`, the CA its clients' certificates must chain to."""
    options = ["--tls-cert", str(certs.server.cert), "--tls-key", str(certs.server.key)]
    return [*options, "--tls-client-ca", str(certs.pki.ca)] if mutual else options


def policy_options(workdir: Path, tokens: Tokens, **policy: str) -> list[str]:
    """`--policy` naming the tests' access policy, written into `workdir`."""
    return ["--policy", str(write_policy(workdir / "policy.yaml", tokens, **policy))]


@pytest.fixture
def mtls(db_url: str, tmp_path: Path, certs: Pkis, tokens: Tokens) -> Iterator[SecureDaemon]:
    """A daemon on all interfaces with mutual TLS and the policy (TLS makes the wide bind allowed)."""
    options = [*tls_options(certs), *policy_options(tmp_path, tokens), "--log-format", "json"]
    with running(
        db_url,
        tmp_path,
        *options,
        ca=certs.pki.ca,
        probe=lambda d: d.connect(certs.credit),
        listen="0.0.0.0:0",
    ) as daemon:
        yield daemon


@pytest.fixture
def tls_tokens(db_url: str, tmp_path: Path, certs: Pkis, tokens: Tokens) -> Iterator[SecureDaemon]:
    """A daemon with server-only TLS: department systems identify with bearer tokens."""
    options = [*tls_options(certs, mutual=False), *policy_options(tmp_path, tokens)]
    with running(
        db_url, tmp_path, *options, ca=certs.pki.ca, probe=lambda d: d.connect(token=tokens.market)
    ) as daemon:
        yield daemon


# Market regulation's own matter, where a listed firm's legal representative is restricted (MR-P-003).
REGISTRATION_MATTER = "market_regulation.enterprise_registration"


def check_request(
    department: str = MARKET, scene: str = LICENSING, matter: str = "", *ids: str
) -> pb.CheckRequest:
    """A check of one clean enterprise unless ids are given."""
    subjects = [pb.Subject(id=i) for i in (ids or (factories.uscc(),))]
    return pb.CheckRequest(department=department, scene=scene, matter=matter, subjects=subjects)


def refused(call: Callable[[], Any]) -> grpc.StatusCode:
    """The status code a call fails with (it must fail)."""
    with pytest.raises(grpc.RpcError) as caught:
        result = call()
        if hasattr(result, "__iter__") and not isinstance(result, pb.CheckResponse):
            list(result)
    code: grpc.StatusCode = caught.value.code()
    return code


def upsert(client: Client, *rows: dict[str, Any]) -> reg.UpsertEntriesResponse:
    """RegistryService.UpsertEntries as the given client."""
    response: reg.UpsertEntriesResponse = client.registry.UpsertEntries(
        reg.UpsertEntriesRequest(entries=[reg.EntryInput(**r) for r in rows]), timeout=30
    )
    return response


# ---------------------------------------------------------------- mutual TLS


def test_department_with_its_certificate_is_accepted(mtls: SecureDaemon, certs: Pkis) -> None:
    """A department's own certificate checks within its rights and reads its own check back."""
    market = mtls.connect(certs.market)
    response = market.check.Check(check_request(), timeout=10)
    assert response.check_id and response.verdict == pb.VERDICT_CLEAR
    record = market.check.GetCheck(pb.GetCheckRequest(check_id=response.check_id), timeout=10)
    assert record.department == MARKET and record.response.check_id == response.check_id


def test_cli_check_speaks_mutual_tls_and_tokens(mtls: SecureDaemon, certs: Pkis, tmp_path: Path) -> None:
    """`checkd check` reaches a TLS daemon with the department's certificate, and not without it."""
    assert mtls.ca is not None
    args = (
        "check",
        "--target",
        f"127.0.0.1:{mtls.port}",
        "--department",
        MARKET,
        "--scene",
        LICENSING,
        "--subject",
        factories.uscc(),
        "--ca",
        str(mtls.ca),
    )
    accepted = run_cli(
        *args, "--cert", str(certs.market.cert), "--key", str(certs.market.key), workdir=tmp_path
    )
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["verdict"] == "VERDICT_CLEAR"
    anonymous = run_cli(*args, workdir=tmp_path)
    assert anonymous.returncode == 2 and "UNAVAILABLE" in anonymous.stderr


def test_certificate_outside_the_trust_or_policy_is_rejected(mtls: SecureDaemon, certs: Pkis) -> None:
    """Another CA's certificate, no certificate: no handshake; our CA but unknown name: UNAUTHENTICATED."""
    rogue = mtls.connect(certs.rogue_market)
    assert refused(lambda: rogue.check.Check(check_request(), timeout=10)) == grpc.StatusCode.UNAVAILABLE
    anonymous = mtls.connect()
    assert refused(lambda: anonymous.check.Check(check_request(), timeout=10)) == grpc.StatusCode.UNAVAILABLE
    stranger = mtls.connect(certs.unknown)
    assert (
        refused(lambda: stranger.check.Check(check_request(), timeout=10)) == grpc.StatusCode.UNAUTHENTICATED
    )
    assert (
        refused(lambda: stranger.registry.Reload(reg.ReloadRequest(), timeout=10))
        == grpc.StatusCode.UNAUTHENTICATED
    )
    assert "client certificate is not known" in mtls.log_text()


def test_department_in_the_request_must_be_the_caller(mtls: SecureDaemon, certs: Pkis) -> None:
    """Check, BatchCheck, StreamCheck and feedback naming another department: PERMISSION_DENIED."""
    market = mtls.connect(certs.market)
    denied = grpc.StatusCode.PERMISSION_DENIED
    assert refused(lambda: market.check.Check(check_request(HOUSING), timeout=10)) == denied
    batch = pb.BatchCheckRequest(requests=[check_request(), check_request(HOUSING)])
    with pytest.raises(grpc.RpcError) as caught:
        market.check.BatchCheck(batch, timeout=10)
    assert caught.value.code() == denied and "requests[1].department" in caught.value.details()
    answers: list[pb.CheckResponse] = []
    with pytest.raises(grpc.RpcError) as caught:
        answers.extend(market.check.StreamCheck(iter([check_request(), check_request(HOUSING)]), timeout=10))
    assert caught.value.code() == denied and "stream[1].department" in caught.value.details()
    assert len(answers) == 1
    own = market.check.Check(check_request(), timeout=10)
    feedback = pb.FeedbackRequest(
        check_id=own.check_id,
        department=HOUSING,
        outcomes=[pb.FeedbackOutcome(measure_id="x", subject_id="y", outcome=pb.OUTCOME_APPLIED)],
    )
    assert refused(lambda: market.check.SubmitFeedback(feedback, timeout=10)) == denied


def test_matter_or_scene_outside_the_policy_is_denied(mtls: SecureDaemon, certs: Pkis) -> None:
    """A scene or matter the policy does not give the department: PERMISSION_DENIED, naming it."""
    market = mtls.connect(certs.market)
    with pytest.raises(grpc.RpcError) as caught:
        market.check.Check(check_request(scene=TRADING), timeout=10)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED and TRADING in caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:
        market.check.Check(check_request(matter=HOUSING_MATTER), timeout=10)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert HOUSING_MATTER in caught.value.details()
    assert market.check.Check(check_request(), timeout=10).check_id  # its own scene still works


def test_registry_is_for_the_credit_office_only_and_audited(
    mtls: SecureDaemon, certs: Pkis, db_url: str
) -> None:
    """A department may not touch RegistryService; the credit office may, and the ledger names it."""
    market = mtls.connect(certs.market)
    row = factories.entry_row("E-SEC-1", factories.uscc(), "serious_illegal_dishonest")
    denied = grpc.StatusCode.PERMISSION_DENIED
    assert refused(lambda: upsert(market, row)) == denied
    assert refused(lambda: market.registry.Reload(reg.ReloadRequest(), timeout=30)) == denied
    assert (
        refused(lambda: market.registry.GetSubject(reg.GetSubjectRequest(id=row["subject_id"]), timeout=10))
        == denied
    )
    credit = mtls.connect(certs.credit)
    assert upsert(credit, row).upserted == 1
    credit.registry.Reload(reg.ReloadRequest(), timeout=30)
    database = Database(db_url)
    try:
        records = LedgerRepository(database).iter_records()
        admin = [json.loads(r.payload) for r in records if r.kind == "admin"]
    finally:
        database.close()
    assert [a["action"] for a in admin] == ["upsert", "reload"]
    for act in admin:
        assert act["caller"].startswith("credit_office (certificate credit-office")


def test_get_check_and_feedback_only_on_own_checks(mtls: SecureDaemon, certs: Pkis, tokens: Tokens) -> None:
    """Another department (here by token over mutual TLS) may not read or answer a market check."""
    market = mtls.connect(certs.market)
    made = market.check.Check(check_request(), timeout=10)
    # A caller presenting a certificate must present a known one; the credit office's
    # certificate plus the housing token name two departments and are refused as such.
    mixed = mtls.connect(certs.credit, token=tokens.housing)
    assert (
        refused(lambda: mixed.check.GetCheck(pb.GetCheckRequest(check_id=made.check_id), timeout=10))
        == grpc.StatusCode.UNAUTHENTICATED
    )
    credit = mtls.connect(certs.credit)
    denied = grpc.StatusCode.PERMISSION_DENIED
    assert (
        refused(lambda: credit.check.GetCheck(pb.GetCheckRequest(check_id=made.check_id), timeout=10))
        == denied
    )
    feedback = pb.FeedbackRequest(
        check_id=made.check_id,
        outcomes=[pb.FeedbackOutcome(measure_id="x", subject_id="y", outcome=pb.OUTCOME_APPLIED)],
    )
    assert refused(lambda: credit.check.SubmitFeedback(feedback, timeout=10)) == denied
    assert market.check.GetCheck(pb.GetCheckRequest(check_id=made.check_id), timeout=10).department == MARKET


# ---------------------------------------------------------------- tokens


def test_token_identifies_a_department(tls_tokens: SecureDaemon, tokens: Tokens) -> None:
    """Good token: served; bad, malformed or missing token: UNAUTHENTICATED."""
    housing = tls_tokens.connect(token=tokens.housing)
    answer = housing.check.Check(check_request(HOUSING, TRADING, HOUSING_MATTER), timeout=10)
    assert answer.check_id
    unauthenticated = grpc.StatusCode.UNAUTHENTICATED
    for client in (
        tls_tokens.connect(token=secrets.token_urlsafe(32)),
        tls_tokens.connect(header=f"Basic {tokens.housing}"),
        tls_tokens.connect(header="Bearer"),
        tls_tokens.connect(),
    ):
        assert refused(lambda c=client: c.check.Check(check_request(HOUSING), timeout=10)) == unauthenticated
    # The token names housing; it cannot speak for market regulation.
    assert (
        refused(lambda: housing.check.Check(check_request(MARKET), timeout=10))
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert tokens.housing not in tls_tokens.log_text()


def test_undecodable_request_is_refused_deliberately(tls_tokens: SecureDaemon, tokens: Tokens) -> None:
    """Garbage bytes from an authenticated caller: INVALID_ARGUMENT, never UNKNOWN from the auth layer."""
    client = tls_tokens.connect(token=tokens.market)
    raw = client.channel.unary_unary("/checkd.v1.CheckService/Check")
    with pytest.raises(grpc.RpcError) as caught:
        raw(b"\xff\xff\xff", timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    anonymous = tls_tokens.connect().channel.unary_unary("/checkd.v1.CheckService/Check")
    with pytest.raises(grpc.RpcError) as caught:
        anonymous(b"\xff\xff\xff", timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def _eventually(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.2)


def _works(client: Client) -> bool:
    try:
        client.check.Check(check_request(), timeout=10)
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.UNAUTHENTICATED, exc
        return False
    return True


def test_token_rotated_without_restart(tls_tokens: SecureDaemon, tokens: Tokens, tmp_path: Path) -> None:
    """A changed policy file is picked up on its own; SIGHUP re-reads it even when its stamp is unchanged."""
    old = tls_tokens.connect(token=tokens.market)
    assert _works(old)
    policy = tmp_path / "policy.yaml"
    rotated = Tokens(secrets.token_urlsafe(32), tokens.housing)
    write_policy(policy, rotated, market_token_id="mr-2")
    new = tls_tokens.connect(token=rotated.market)
    _eventually(lambda: _works(new), "the new token accepted after the file changed")
    assert not _works(old)
    pid = tls_tokens.process.pid
    # Same length, same inode, mtime put back: only the signal can reveal the change.
    before = os.stat(policy)
    third = Tokens(secrets.token_urlsafe(32), tokens.housing)
    text = policy.read_text().replace(hash_token(rotated.market), hash_token(third.market))
    with policy.open("r+") as handle:
        handle.write(text)
    os.utime(policy, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(policy).st_ino == before.st_ino and os.stat(policy).st_size == before.st_size
    time.sleep(1.5)  # past the file-stamp look interval: the unchanged stamp must not trigger a reload
    assert _works(new)
    os.kill(pid, signal.SIGHUP)
    newest = tls_tokens.connect(token=third.market)
    _eventually(lambda: _works(newest), "the third token accepted after SIGHUP")
    assert not _works(new)
    assert "policy_reloaded" in tls_tokens.log_text()


def test_policy_is_enforced_on_loopback_plain_text_too(db_url: str, tmp_path: Path, tokens: Tokens) -> None:
    """--policy without TLS on loopback: tokens are still required and checked."""
    policy = policy_options(tmp_path, tokens)
    with running(
        db_url, tmp_path, *policy, ca=None, probe=lambda d: d.connect(token=tokens.market)
    ) as daemon:
        assert daemon.connect(token=tokens.market).check.Check(check_request(), timeout=10).check_id
        assert (
            refused(lambda: daemon.connect().check.Check(check_request(), timeout=10))
            == grpc.StatusCode.UNAUTHENTICATED
        )


# ---------------------------------------------------------------- rate limits


def test_rate_limit_is_per_department(db_url: str, tmp_path: Path, certs: Pkis, tokens: Tokens) -> None:
    """Past its burst a department gets RESOURCE_EXHAUSTED; other departments are still served."""
    policy = policy_options(tmp_path, tokens, market_rate="{per_second: 0.001, burst: 3}")
    with running(
        db_url,
        tmp_path,
        *tls_options(certs),
        *policy,
        ca=certs.pki.ca,
        probe=lambda d: d.connect(certs.credit),
    ) as daemon:
        market = daemon.connect(certs.market)
        for _ in range(3):
            assert market.check.Check(check_request(), timeout=10).check_id
        exhausted = grpc.StatusCode.RESOURCE_EXHAUSTED
        assert refused(lambda: market.check.Check(check_request(), timeout=10)) == exhausted
        batch = pb.BatchCheckRequest(requests=[check_request(), check_request()])
        assert refused(lambda: market.check.BatchCheck(batch, timeout=10)) == exhausted
        credit = daemon.connect(certs.credit)
        for _ in range(5):
            assert credit.check.Check(check_request(CREDIT), timeout=10).check_id


# ---------------------------------------------------------------- plain text


def test_plain_text_off_loopback_is_refused_unless_insecure(db_url: str, tmp_path: Path) -> None:
    """0.0.0.0 without TLS does not start; with --insecure it starts and warns in the log."""
    result = run_cli(
        "serve",
        "--listen",
        "0.0.0.0:0",
        "--db",
        db_url,
        "--rules",
        str(Path(__file__).resolve().parents[2] / "rules"),
        "--no-sample",
        workdir=tmp_path,
    )
    assert result.returncode == 1
    assert "--listen" in result.stderr and "--insecure" in result.stderr
    with running(
        db_url, tmp_path, "--insecure", ca=None, listen="0.0.0.0:0", probe=lambda d: d.connect()
    ) as daemon:
        assert daemon.connect().check.Check(check_request(), timeout=10).check_id  # no policy: open
        assert "plain_text_on_network" in daemon.log_text()


# ---------------------------------------------------------------- personal data


def _forms(number: str) -> list[str]:
    """The clear forms of a number that must never be written: 18 digits, 15 digits, first 17."""
    return [number, number[:6] + number[8:17], number[:17]]


def _database_text(db_url: str) -> bytes:
    """Every byte of a SQLite store (with its WAL), or every value of every PostgreSQL table."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    out: list[bytes] = []
    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        tables = [
            r[0]
            for r in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ]
        assert {"list_entries", "entry_relations", "ledger", "checks", "feedback"} <= set(tables)
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    out.append(bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode())
    return b"\n".join(out)


def test_no_identity_number_in_clear_in_logs_or_store(mtls: SecureDaemon, certs: Pkis, db_url: str) -> None:
    """Persons listed, checked (18 and 15 digits), fed back and looked up: no number in clear anywhere."""
    credit, market = mtls.connect(certs.credit), mtls.connect(certs.market)
    rep, red, clean = factories.resident_id(), factories.resident_id(), factories.resident_id()
    firm = factories.uscc()
    upsert(
        credit,
        factories.entry_row(
            "E-PII-ORG",
            firm,
            "serious_illegal_dishonest",
            legal_representative_id=rep,
            legal_representative_name="沈建华",
        ),
        factories.entry_row("E-PII-RED", red, "red_list", subject_name="王丽", end="2027-12-31"),
    )
    request = check_request(MARKET, LICENSING, REGISTRATION_MATTER, rep, "", clean)
    # The same red-listed person in the legacy 15-digit form (declared: 15 digits are ambiguous).
    request.subjects[1].CopyFrom(pb.Subject(id=red[:6] + red[8:17], id_type=pb.ID_TYPE_RESIDENT_ID))
    answer = market.check.Check(request, timeout=10)
    by_position = list(answer.subjects)
    assert [s.id for s in by_position] == [n[:6] + "*" * 8 + n[-4:] for n in (rep, red, clean)]
    assert by_position[0].measures and by_position[1].entries
    measure = by_position[0].measures[0].measure_id
    market.check.SubmitFeedback(
        pb.FeedbackRequest(
            check_id=answer.check_id,
            outcomes=[pb.FeedbackOutcome(measure_id=measure, subject_id=rep, outcome=pb.OUTCOME_APPLIED)],
        ),
        timeout=10,
    )
    looked_up = credit.registry.GetSubject(reg.GetSubjectRequest(id=rep), timeout=10)
    assert [e.entry_id for e in looked_up.entries] == ["E-PII-ORG"]
    with pytest.raises(grpc.RpcError):  # a wrong check character: refused without echoing the number
        broken = clean[:-1] + ("1" if clean[-1] != "1" else "2")
        market.check.Check(check_request(MARKET, LICENSING, "", broken), timeout=10)
    _stopped(mtls)  # flushes the ledger and closes the store: everything is on disk now
    logs, stored = mtls.log_text(), _database_text(db_url)
    assert '"event":"check"' in logs and b"E-PII-ORG" in stored  # the search looks at the real things
    for number in (rep, red, clean):
        for form in _forms(number):
            assert form not in logs, f"{form} in daemon log"
            assert form.encode() not in stored, f"{form} in the store"
    assert firm.encode() in stored  # enterprise codes are public and stay in clear


# ---------------------------------------------------------------- re-key


def test_rekey_moves_every_person_key_to_the_new_secret(db_url: str, tmp_path: Path) -> None:
    """After `checkd rekey` persons are found under the new secret only, and nothing leaks meanwhile."""
    rep, red = factories.resident_id(birth="19620305"), factories.resident_id(birth="20011231")
    firm = factories.uscc()
    daemon = start_daemon(db_url, tmp_path)
    try:
        daemon.registry.UpsertEntries(
            reg.UpsertEntriesRequest(
                entries=[
                    reg.EntryInput(
                        **factories.entry_row(
                            "E-RK-ORG", firm, "serious_illegal_dishonest", legal_representative_id=rep
                        )
                    ),
                    reg.EntryInput(**factories.entry_row("E-RK-RED", red, "red_list", end="2027-12-31")),
                ]
            ),
            timeout=30,
        )
    finally:
        assert daemon.stop() == 0
    old_file, new_file = tmp_path / "old.secret", tmp_path / "new.secret"
    wrong_file = tmp_path / "wrong.secret"
    old_file.write_text(TEST_SECRET)
    wrong_file.write_text("not-the-secret-0123456789")
    refused_run = run_cli(
        "rekey",
        "--db",
        db_url,
        "--old-secret-file",
        str(wrong_file),
        "--new-secret-file",
        str(new_file),
        workdir=tmp_path,
    )
    assert refused_run.returncode == 2 and "nothing was changed" in refused_run.stderr
    result = run_cli(
        "rekey",
        "--db",
        db_url,
        "--old-secret-file",
        str(old_file),
        "--new-secret-file",
        str(new_file),
        workdir=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"re-keyed 2 persons \(2 entries, 1 relations\)", result.stdout), result.stdout
    new_secret = new_file.read_text().strip()
    with pytest.raises(RuntimeError, match="differs"):
        start_daemon(db_url, tmp_path)  # the old secret no longer opens the store
    daemon = start_daemon(db_url, tmp_path, env={"CHECKD_SECRET": new_secret})
    try:
        answer = daemon.check.Check(
            pb.CheckRequest(
                department=MARKET, scene=LICENSING, subjects=[pb.Subject(id=rep), pb.Subject(id=red)]
            ),
            timeout=10,
        )
        assert [[e.entry_id for e in s.entries] for s in answer.subjects] == [["E-RK-ORG"], ["E-RK-RED"]]
        found = daemon.registry.GetSubject(reg.GetSubjectRequest(id=rep), timeout=10)
        assert [e.entry_id for e in found.entries] == ["E-RK-ORG"]
    finally:
        assert daemon.stop() == 0
    # The re-key is an audited registry act: its admin records carry the re-keyed entries' digests.
    verified = run_cli("ledger", "verify", "--db", db_url, workdir=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    stored = _database_text(db_url)
    for number in (rep, red):
        assert number.encode() not in stored
