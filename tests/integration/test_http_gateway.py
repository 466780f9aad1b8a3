"""The HTTP/JSON API against the real daemon: every route, actionable errors, auth, limits, outages."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from checkd.api.v1 import check_pb2 as pb
from checkd.days import china_day
from tests import factories
from tests.daemon import RunningDaemon, start_daemon
from tests.http_call import Http
from tests.integration.test_security import (
    CREDIT,
    LICENSING,
    MARKET,
    REGISTRATION_MATTER,
    Pkis,
    Tokens,
    certs,  # noqa: F401  (fixture)
    tokens,  # noqa: F401  (fixture)
    write_policy,
)
from tests.secure_daemon import SecureDaemon, start_secure_daemon
from tests.tcp_proxy import TcpProxy


def http_options(workdir: Path) -> tuple[str, ...]:
    """The serve options of an HTTP listener on a free loopback port, with its port file."""
    return ("--http-listen", "127.0.0.1:0", "--http-port-file", str(workdir / "http-port"))


def http_port(workdir: Path) -> int:
    """The HTTP listener's bound port (written before the gRPC port file, so present once started)."""
    return int((workdir / "http-port").read_text())


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[RunningDaemon, Http]]:
    """A daemon without an access policy serving HTTP beside gRPC, and its ops listener for /metrics."""
    ops_file = tmp_path / "ops-port"
    daemon = start_daemon(
        db_url,
        tmp_path,
        *http_options(tmp_path),
        "--ops-listen",
        "127.0.0.1:0",
        "--ops-port-file",
        str(ops_file),
    )
    try:
        yield daemon, Http(http_port(tmp_path))
    finally:
        assert daemon.stop() == 0, daemon.log_text()


def _check_body(*ids: str, request_id: str = "", department: str = MARKET) -> dict[str, object]:
    body: dict[str, object] = {
        "department": department,
        "scene": LICENSING,
        "subjects": [{"id": i} for i in (ids or (factories.uscc(),))],
    }
    if request_id:
        body["requestId"] = request_id
    return body


def _metric(port: int, name: str, labels: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and labels in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_every_route_runs_the_check_loop(served: tuple[RunningDaemon, Http], tmp_path: Path) -> None:
    """Registry, check, batch, stream, feedback, read-back over HTTP: the answers are gRPC's, and counted."""
    daemon, http = served
    listed = factories.uscc()
    row = factories.entry_row("E-HTTP-1", listed, "serious_illegal_dishonest")
    upserted = http.post("/v1/entries:upsert", {"entries": [row]})
    assert upserted.status == 200, upserted.text
    assert upserted.json()["upserted"] == 1

    checked = http.post("/v1/checks", _check_body(listed, request_id="http-1"))
    assert checked.status == 200, checked.text
    answer = checked.json()
    assert answer["verdict"] in ("VERDICT_PROHIBIT", "VERDICT_RESTRICT", "VERDICT_REVIEW"), answer
    assert answer["subjects"][0]["entries"][0]["entryId"] == "E-HTTP-1"
    # The same check read back over gRPC is the same answer: one implementation behind both.
    record = daemon.check.GetCheck(pb.GetCheckRequest(check_id=answer["checkId"]), timeout=10)
    assert record.response.check_id == answer["checkId"]
    assert pb.Verdict.Name(record.response.verdict) == answer["verdict"]
    again = http.post("/v1/checks", _check_body(listed, request_id="http-1"))
    assert again.json()["checkId"] == answer["checkId"]  # idempotent by request_id, as over gRPC

    got = http.get(f"/v1/checks/{answer['checkId']}")
    assert got.status == 200, got.text
    assert got.json()["response"]["checkId"] == answer["checkId"]

    measure = answer["subjects"][0]["measures"][0]
    feedback = http.post(
        f"/v1/checks/{answer['checkId']}/feedback",
        {
            "outcomes": [
                {
                    "measureId": measure["measureId"],
                    "subjectId": answer["subjects"][0]["id"],
                    "outcome": "OUTCOME_APPLIED",
                }
            ]
        },
    )
    assert feedback.status == 200, feedback.text
    assert http.get(f"/v1/checks/{answer['checkId']}").json()["feedback"], "feedback was not recorded"

    batch = http.post("/v1/checks:batch", {"requests": [_check_body(), _check_body(listed)]})
    assert batch.status == 200, batch.text
    assert len(batch.json()["results"]) == 2

    lines = "\n".join(json.dumps(_check_body()) for _ in range(3)).encode()
    streamed = http.post("/v1/checks:stream", raw=lines, headers={"Content-Type": "application/x-ndjson"})
    assert streamed.status == 200, streamed.text
    results = [json.loads(line) for line in streamed.text.splitlines()]
    assert len(results) == 3 and all(r["result"]["checkId"] for r in results), streamed.text

    subject = http.post("/v1/subjects:lookup", {"id": listed})
    assert subject.status == 200 and subject.json()["entries"][0]["entryId"] == "E-HTTP-1", subject.text
    catalogue = http.get(f"/v1/catalogue?department={MARKET}")
    assert catalogue.status == 200 and catalogue.json()["measures"], catalogue.text
    today = china_day(dt.datetime.now(dt.UTC)).isoformat()  # the statistics' day is China's
    stats = http.post("/v1/stats:query", {"fromDate": today, "toDate": today})
    assert stats.status == 200 and int(stats.json()["total"]["checks"]) >= 5, stats.text
    revoked = http.post(
        "/v1/entries:revoke",
        {"entryId": "E-HTTP-1", "reason": "objection upheld", "documentNo": "D-1", "kind": "objection"},
    )
    assert revoked.status == 200, revoked.text
    reinstated = http.post(
        "/v1/entries:reinstate", {"entryId": "E-HTTP-1", "reason": "decision quashed", "documentNo": "D-2"}
    )
    assert reinstated.status == 200, reinstated.text
    reloaded = http.post("/v1/registry:reload", {})
    assert reloaded.status == 200, reloaded.text

    ops_port = int((tmp_path / "ops-port").read_text())
    counted = _metric(
        ops_port,
        "grpc_server_handling_seconds_count",
        'grpc_method="Check",grpc_service="checkd.v1.CheckService"',
    )
    assert counted >= 2, "HTTP calls are not counted in the RPC metrics"


def test_errors_carry_reasons_and_http_statuses(served: tuple[RunningDaemon, Http]) -> None:
    """A bad identifier, a reused idempotency key, an unknown check, bad JSON, a wrong verb."""
    _, http = served
    bad = http.post("/v1/checks", _check_body("91330402MA0000000X"))
    assert bad.status == 400, bad.text
    assert bad.reason() == "BAD_IDENTIFIER"
    assert bad.detail("BadRequest")["fieldViolations"][0]["field"] == "subjects[0].id"

    assert http.post("/v1/checks", _check_body(request_id="reuse-1")).status == 200
    reused = http.post("/v1/checks", _check_body(request_id="reuse-1"))  # another subject, same key
    assert reused.status == 400, reused.text
    assert reused.json()["code"] == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert reused.reason() == "IDEMPOTENCY_KEY_REUSED"
    assert reused.detail("PreconditionFailure")["violations"][0]["type"] == "IDEMPOTENCY_KEY_REUSED"

    unknown = http.post("/v1/checks", _check_body(department="no_such_department"))
    assert unknown.status == 400 and unknown.reason() == "UNKNOWN_DEPARTMENT", unknown.text
    catalogue = http.get("/v1/catalogue?department=no_such_department")
    assert catalogue.status == 400 and catalogue.reason() == "UNKNOWN_DEPARTMENT", catalogue.text
    missing = http.get("/v1/checks/0000000000")
    assert missing.status == 404 and missing.reason() == "CHECK_NOT_FOUND", missing.text
    garbled = http.post("/v1/checks", raw=b'{"department": ')
    assert garbled.status == 400 and garbled.reason() == "MALFORMED_REQUEST", garbled.text
    unknown_field = http.post("/v1/checks", {"departmnt": MARKET})
    assert unknown_field.status == 400 and "departmnt" in unknown_field.text, unknown_field.text
    wrong_verb = http.get("/v1/checks:batch")
    assert wrong_verb.status == 405 and wrong_verb.headers["allow"] == "POST", wrong_verb.text
    assert http.get("/v1/nothing").status == 404


def test_spec_and_reference_page_are_served(served: tuple[RunningDaemon, Http]) -> None:
    """/openapi.json is the committed spec; / is the bundled reference page that renders it."""
    _, http = served
    spec = http.get("/openapi.json")
    assert spec.status == 200
    committed = (Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text()
    assert spec.json() == json.loads(committed)
    page = http.get("/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert 'fetch("openapi.json")' in page.text and "http" + "s://" not in page.text  # no external assets


# ---------------------------------------------------------------- the same access policy


@pytest.fixture
def guarded(db_url: str, tmp_path: Path, certs: Pkis, tokens: Tokens) -> Iterator[tuple[SecureDaemon, int]]:  # noqa: F811
    """TLS with client certificates and the policy (market limited to a burst of 3), HTTP beside gRPC."""
    policy = write_policy(tmp_path / "policy.yaml", tokens, market_rate="{per_second: 0.001, burst: 3}")
    daemon = start_secure_daemon(
        db_url,
        tmp_path,
        "--tls-cert",
        str(certs.server.cert),
        "--tls-key",
        str(certs.server.key),
        "--tls-client-ca",
        str(certs.pki.ca),
        "--policy",
        str(policy),
        *http_options(tmp_path),
        ca=certs.pki.ca,
        probe=lambda d: d.connect(certs.credit),
    )
    try:
        yield daemon, http_port(tmp_path)
    finally:
        assert daemon.stop() == 0, daemon.log_text()


def test_auth_policy_and_rate_limits_apply_over_http(
    guarded: tuple[SecureDaemon, int],
    certs: Pkis,  # noqa: F811
    tokens: Tokens,  # noqa: F811
) -> None:
    """Certificates and tokens identify as over gRPC; refusals and the rate limit carry their reasons."""
    daemon, port = guarded
    market = Http(port, ca=certs.pki.ca, cert=(certs.market.cert, certs.market.key))
    credit = Http(port, ca=certs.pki.ca, cert=(certs.credit.cert, certs.credit.key))
    stranger = Http(port, ca=certs.pki.ca, cert=(certs.unknown.cert, certs.unknown.key))

    refused = stranger.post("/v1/checks", _check_body())
    assert refused.status == 401 and refused.reason() == "CERTIFICATE_UNKNOWN", refused.text
    bad_token = Http(port, ca=certs.pki.ca, cert=(certs.credit.cert, certs.credit.key), token="not-a-token")
    assert bad_token.post("/v1/checks", _check_body(department=CREDIT)).reason() == "TOKEN_INVALID"
    registry = market.post("/v1/registry:reload", {})
    assert registry.status == 403 and registry.reason() == "REGISTRY_FORBIDDEN", registry.text
    other = market.post("/v1/checks", _check_body(department=CREDIT))
    assert other.status == 403 and other.reason() == "DEPARTMENT_MISMATCH", other.text
    assert credit.post("/v1/registry:reload", {}).status == 200  # the credit office's certificate
    # The audit names the HTTP caller and the certificate it proved itself with.
    assert "certificate credit-office" in daemon.log_text()

    body = {**_check_body(), "matter": REGISTRATION_MATTER}
    for _ in range(3):  # the burst (a refused call spends nothing)
        ok = market.post("/v1/checks", body)
        assert ok.status == 200, ok.text
    limited = market.post("/v1/checks", body)
    assert limited.status == 429, limited.text
    assert limited.reason() == "RATE_LIMITED"
    delay = limited.detail("RetryInfo")["retryDelay"]
    assert delay.endswith("s") and float(delay[:-1]) > 0, delay
    assert int(limited.headers["retry-after"]) >= 1


def test_forwarded_identity_is_not_accepted_from_callers(
    guarded: tuple[SecureDaemon, int],
    certs: Pkis,  # noqa: F811
) -> None:
    """A gRPC caller naming a certificate in the gateway's metadata keys gains nothing."""
    daemon, port = guarded
    client = daemon.connect(certs.market)
    forged = [
        ("x-checkd-gateway-secret", "guess"),
        ("x-checkd-gateway-cert-name", "credit-office.test"),
    ]
    with pytest.raises(grpc.RpcError) as caught:
        client.check.Check(
            pb.CheckRequest(department=CREDIT, scene=LICENSING, subjects=[pb.Subject(id=factories.uscc())]),
            metadata=forged,
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED  # still market regulation
    # Over HTTP the caller's own copies of those headers are never forwarded either.
    http = Http(port, ca=certs.pki.ca, cert=(certs.market.cert, certs.market.key))
    answer = http.post(
        "/v1/registry:reload", {}, headers={"X-Checkd-Gateway-Cert-Name": "credit-office.test"}
    )
    assert answer.status == 403 and answer.reason() == "REGISTRY_FORBIDDEN", answer.text


def test_http_listener_off_loopback_needs_tls_or_insecure(tmp_path: Path) -> None:
    """--http-listen 0.0.0.0 in plain text is refused at start, naming the flag."""
    from tests.integration.test_ops_listener import serve_briefly

    done = serve_briefly("--http-listen", "0.0.0.0:0", workdir=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "--http-listen" in done.stderr and "--insecure" in done.stderr, done.stderr


# ---------------------------------------------------------------- a store outage


def test_store_outage_is_unavailable_with_retry_info(tmp_path: Path) -> None:
    """An exclusive lock on the SQLite store: 503 with a reason and RetryInfo, then service resumes."""
    path = tmp_path / "c.db"
    daemon = start_daemon(f"sqlite:///{path}", tmp_path, *http_options(tmp_path))
    http = Http(http_port(tmp_path))
    try:
        assert http.post("/v1/checks", _check_body()).status == 200
        locker = sqlite3.connect(path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            during = http.post("/v1/checks", _check_body(request_id="during"))
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert during.status == 503, during.text
        assert during.reason() in ("STORE_UNAVAILABLE", "COMMIT_TIMEOUT"), during.text
        assert during.detail("RetryInfo")["retryDelay"]
        assert int(during.headers["retry-after"]) >= 1
        assert http.post("/v1/checks", _check_body(request_id="after")).status == 200
    finally:
        assert daemon.stop() == 0, daemon.log_text()


@pytest.mark.postgres
def test_postgresql_outage_is_unavailable_over_http(tmp_path: Path) -> None:
    """The PostgreSQL link cut under the daemon: 503 STORE_UNAVAILABLE, and it resumes once restored."""
    from tests.conftest import pg_database

    proxy = TcpProxy(5432)
    for url in pg_database():
        daemon = start_daemon(url.replace(":5432/", f":{proxy.port}/"), tmp_path, *http_options(tmp_path))
        http = Http(http_port(tmp_path))
        try:
            assert http.post("/v1/checks", _check_body()).status == 200
            proxy.cut()
            try:
                during = http.post("/v1/checks", _check_body(request_id="during"))
            finally:
                proxy.restore()
            assert during.status == 503, during.text
            assert during.reason() in ("STORE_UNAVAILABLE", "COMMIT_TIMEOUT"), during.text
            assert during.detail("RetryInfo")["retryDelay"]
            for _ in range(60):
                if http.post("/v1/checks", _check_body(request_id="after")).status == 200:
                    break
                import time

                time.sleep(0.5)
            else:
                raise AssertionError("service did not resume")
        finally:
            assert daemon.stop() == 0, daemon.log_text()
    proxy.cut()
