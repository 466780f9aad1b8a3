"""The API is no identity oracle: rates count subjects, and distinct unlisted person numbers are bounded."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from pathlib import Path

import grpc
import pytest

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.server.policy import hash_token
from checkd.subjects.ids import mask, resident_check_char
from tests import factories
from tests.integration.test_ops import scrape, value
from tests.secure_daemon import Client, SecureDaemon, start_secure_daemon

MARKET, HOUSING, CREDIT = "market_regulation", "housing_construction", "credit_office"
LICENSING = "administrative_licensing"
PERSON_LIST = "judgment_defaulter"
PROBE_LIMIT = 200  # market_regulation's limit in the test policy; housing keeps the default (1000)


def _policy(path: Path, tokens: dict[str, str], market_rate: str = "null") -> Path:
    """Bearer tokens for three departments; market_regulation with a small person-probe limit."""
    path.write_text(f"""version: 1
departments:
  credit_office:
    tokens: [{{id: co-1, sha256: "{hash_token(tokens[CREDIT])}"}}]
    registry: true
    scenes: ["*"]
    matters: ["*"]
  market_regulation:
    tokens: [{{id: mr-1, sha256: "{hash_token(tokens[MARKET])}"}}]
    scenes: [{LICENSING}]
    rate: {market_rate}
    person_probes: {{limit: {PROBE_LIMIT}, window_seconds: 3600}}
  housing_construction:
    tokens: [{{id: hc-1, sha256: "{hash_token(tokens[HOUSING])}"}}]
    scenes: [{LICENSING}]
    rate: null
""")
    return path


def _start(
    db_url: str, tmp_path: Path, market_rate: str = "null"
) -> tuple[SecureDaemon, dict[str, Client], str]:
    """The secure daemon with the test policy and its ops listener; a client per department."""
    tokens = {name: secrets.token_urlsafe(24) for name in (CREDIT, MARKET, HOUSING)}
    policy = _policy(tmp_path / "policy.yaml", tokens, market_rate)
    ops_port = tmp_path / f"ops-port-{time.monotonic_ns()}"
    daemon = start_secure_daemon(
        db_url,
        tmp_path,
        "--policy",
        str(policy),
        "--ops-listen",
        "127.0.0.1:0",
        "--ops-port-file",
        str(ops_port),
        ca=None,
        probe=lambda d: d.connect(token=tokens[CREDIT]),
    )
    clients = {name: daemon.connect(token=token) for name, token in tokens.items()}
    return daemon, clients, f"http://127.0.0.1:{int(ops_port.read_text())}"


def _request(department: str, *ids: str) -> pb.CheckRequest:
    return pb.CheckRequest(department=department, scene=LICENSING, subjects=[pb.Subject(id=i) for i in ids])


def _candidates(masked: str, first: dt.date, last: dt.date) -> list[str]:
    """What a holder of a masked number can compute offline: every birth date with the right check."""
    address, tail = masked[:6], masked[-4:]
    found, day = [], first
    while day <= last:
        first17 = f"{address}{day:%Y%m%d}{tail[:3]}"
        if resident_check_char(first17) == tail[3]:
            found.append(first17 + tail[3])
        day += dt.timedelta(days=1)
    return found


def _stop(daemon: SecureDaemon) -> None:
    if daemon.process.poll() is None:
        assert daemon.stop() == 0, daemon.log_text()[-3000:]


def test_enumerating_a_masked_number_is_cut_off(db_url: str, tmp_path: Path) -> None:
    """A BatchCheck search over a masked number's birth dates stops at the limit, before the target.

    Persons already counted, organisations and other departments are still answered, and the alert
    metrics show the refusals and the count in the window.
    """
    daemon, clients, ops = _start(db_url, tmp_path)
    try:
        target = factories.resident_id(birth="19900615")
        clients[CREDIT].registry.UpsertEntries(
            reg.UpsertEntriesRequest(
                entries=[
                    factories.entry_input(
                        factories.entry_row("PROBE-1", target, PERSON_LIST, subject_type="person")
                    )
                ]
            ),
            timeout=30,
        )
        candidates = _candidates(mask(target), dt.date(1950, 1, 1), dt.date(2005, 12, 31))
        assert target in candidates and candidates.index(target) > PROBE_LIMIT * 2
        market = clients[MARKET]
        answered: list[str] = []
        refusals = 0
        found = False
        for start in range(0, len(candidates), 50):  # batches of 10 checks x 5 subjects
            chunk = candidates[start : start + 50]
            batch = pb.BatchCheckRequest(
                requests=[_request(MARKET, *chunk[i : i + 5]) for i in range(0, len(chunk), 5)]
            )
            try:
                response = market.check.BatchCheck(batch, timeout=30)
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, exc.details()
                assert "distinct person numbers" in (exc.details() or "")
                refusals += 1
                continue
            answered.extend(chunk)
            found = found or any(s.entries for r in response.results for s in r.response.subjects)
        assert len(answered) <= PROBE_LIMIT, f"{len(answered)} candidate numbers were answered"
        assert not found and target not in answered
        assert refusals >= (len(candidates) - PROBE_LIMIT) // 50
        # A single Check with a new person number is refused too; a number already counted is not.
        with pytest.raises(grpc.RpcError) as single:
            market.check.Check(_request(MARKET, candidates[-1]), timeout=10)
        assert single.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert market.check.Check(_request(MARKET, answered[0]), timeout=10).check_id
        assert market.check.Check(_request(MARKET, factories.uscc()), timeout=10).check_id
        assert clients[HOUSING].check.Check(_request(HOUSING, candidates[-1]), timeout=10).check_id
        samples = scrape(ops)
        assert value(samples, "checkd_person_probe_refusals_total", department=MARKET) == refusals + 1
        assert value(samples, "checkd_person_probe_numbers", department=MARKET) == PROBE_LIMIT
        print(f"{len(candidates)} candidates, {len(answered)} answered, {refusals} batches refused")
        assert target[6:14] not in daemon.log_text()  # the log counts numbers, never shows them
    finally:
        _stop(daemon)


def test_normal_person_checks_stay_under_the_limit(db_url: str, tmp_path: Path) -> None:
    """A department checking 120 distinct persons, some twice, and 60 listed ones is answered every time."""
    daemon, clients, ops = _start(db_url, tmp_path)
    try:
        listed = [factories.resident_id(birth="19750301") for _ in range(60)]
        clients[CREDIT].registry.UpsertEntries(
            reg.UpsertEntriesRequest(
                entries=[
                    factories.entry_input(
                        factories.entry_row(f"LISTED-{i}", person, PERSON_LIST, subject_type="person")
                    )
                    for i, person in enumerate(listed)
                ]
            ),
            timeout=30,
        )
        unlisted = [factories.resident_id(birth=f"198{i % 10}0{1 + i % 9}1{i % 10}") for i in range(120)]
        market = clients[MARKET]
        for person in unlisted + unlisted[:50]:
            assert market.check.Check(_request(MARKET, person, factories.uscc()), timeout=10).check_id
        batch = pb.BatchCheckRequest(requests=[_request(MARKET, person) for person in listed])
        results = market.check.BatchCheck(batch, timeout=30).results
        assert all(r.response.subjects[0].entries for r in results)
        # Listed persons are ordinary work: they do not use up the limit.
        assert value(scrape(ops), "checkd_person_probe_numbers", department=MARKET) == len(unlisted)
        assert value(scrape(ops), "checkd_person_probe_refusals_total", department=MARKET) == 0
    finally:
        _stop(daemon)


def test_rate_limit_counts_subjects(db_url: str, tmp_path: Path) -> None:
    """A check of many subjects costs one token per subject: two checks of 5 subjects spend a burst of 10."""
    daemon, clients, _ = _start(db_url, tmp_path, market_rate="{per_second: 0.001, burst: 10}")
    try:
        market = clients[MARKET]
        batch = pb.BatchCheckRequest(
            requests=[_request(MARKET, *(factories.uscc() for _ in range(5))) for _ in range(2)]
        )
        assert len(market.check.BatchCheck(batch, timeout=30).results) == 2
        with pytest.raises(grpc.RpcError) as spent:
            market.check.Check(_request(MARKET, factories.uscc()), timeout=10)
        assert spent.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert clients[HOUSING].check.Check(_request(HOUSING, factories.uscc()), timeout=10).check_id
    finally:
        _stop(daemon)
