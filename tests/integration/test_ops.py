"""Operations through the real daemon: health, readiness, metrics, logs, staleness, Stats, report, overdue."""

from __future__ import annotations

import datetime as dt
import json
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from tests import factories
from tests.daemon import ROOT, RunningDaemon, run_cli, start_daemon

DEPT, SCENE = "market_regulation", "administrative_licensing"
OTHER_DEPT = "housing_construction"
# Matter-narrowed measures need the matter: a licence by commitment restricts a serious-list
# enterprise (MR-P-002); enterprise registration bars a judgment defaulter (MR-P-021).
COMMITMENT = "market_regulation.licence_by_commitment"
REGISTRATION = "market_regulation.enterprise_registration"
CST = dt.timezone(dt.timedelta(hours=8))
RESTRICTIVE = {"prohibit", "restrict", "revoke_qualification"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class OpsDaemon:
    """A running daemon and the base URL of its ops listener."""

    grpc: RunningDaemon
    base: str


def start_ops(db_url: str, workdir: Path, *extra: str, serving: bool = True) -> OpsDaemon:
    """Start the daemon with the ops listener on a free port and learn that port."""
    port_file = workdir / f"ops-port-{time.monotonic_ns()}"
    daemon = start_daemon(
        db_url,
        workdir,
        "--ops-listen",
        "127.0.0.1:0",
        "--ops-port-file",
        str(port_file),
        *extra,
        serving=serving,
    )
    # The ops port file is written before the gRPC one, which start_daemon waited for.
    return OpsDaemon(daemon, f"http://127.0.0.1:{int(port_file.read_text())}")


@pytest.fixture
def ops(db_url: str, tmp_path: Path) -> Iterator[OpsDaemon]:
    """A daemon with its ops listener, on each backend."""
    running = start_ops(db_url, tmp_path, "--log-format", "json")
    try:
        yield running
    finally:
        assert running.grpc.stop() == 0, running.grpc.log_text()


def http_get(url: str, timeout: float = 10) -> tuple[int, str]:
    """GET a URL; (status, body) whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def scrape(base: str) -> Samples:
    """Every sample of /metrics keyed by (name, labels)."""
    status, text = http_get(f"{base}/metrics")
    assert status == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value, 0 when it is not there yet."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def verdict_name(verdict: int) -> str:
    """'restrict' for VERDICT_RESTRICT: the label the daemon uses."""
    return pb.Verdict.Name(verdict).removeprefix("VERDICT_").lower()


def check(
    daemon: RunningDaemon, subject: str, department: str = DEPT, matter: str = COMMITMENT, **extra: object
) -> pb.CheckResponse:
    """One Check call (in a matter where a serious-list enterprise is restricted)."""
    request = pb.CheckRequest(
        department=department, scene=SCENE, matter=matter, subjects=[pb.Subject(id=subject)]
    )
    response: pb.CheckResponse = daemon.check.Check(request, timeout=10, **extra)
    return response


def feedback(daemon: RunningDaemon, response: pb.CheckResponse, outcome: int) -> int:
    """Report one outcome for every measure the check pushed; return how many outcomes were sent."""
    outcomes = [
        pb.FeedbackOutcome(
            measure_id=m.measure_id,
            subject_id=s.id,
            outcome=outcome,
            reason="" if outcome != pb.OUTCOME_NOT_APPLIED else "licence withdrawn",
        )
        for s in response.subjects
        for m in s.measures
    ]
    daemon.check.SubmitFeedback(pb.FeedbackRequest(check_id=response.check_id, outcomes=outcomes), timeout=10)
    return len(outcomes)


def list_subjects(daemon: RunningDaemon) -> dict[str, str]:
    """Upsert a serious-dishonesty and a red-listed enterprise; return their ids and a clean one."""
    ids = {"serious": factories.uscc(), "red": factories.uscc(), "clean": factories.uscc()}
    rows = [
        factories.entry_row(f"OPS-SER-{ids['serious']}", ids["serious"], "serious_illegal_dishonest"),
        factories.entry_row(
            f"OPS-RED-{ids['red']}", ids["red"], "red_list", end=f"{dt.date.today().year + 1}-12-31"
        ),
    ]
    daemon.registry.UpsertEntries(
        reg.UpsertEntriesRequest(entries=[reg.EntryInput(**r) for r in rows]), timeout=30
    )
    return ids


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    """Poll until predicate() is true (gauges computed from the store refresh every few seconds)."""
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.3)


# ---------------------------------------------------------------- health, metrics, logs


def test_health_readiness_and_metrics_move_with_real_checks(ops: OpsDaemon) -> None:
    """Counters move by exactly what the test did: checks by verdict, batch sizes, feedback, rejections."""
    daemon = ops.grpc
    assert http_get(f"{ops.base}/healthz") == (200, "ok\n")
    status, body = http_get(f"{ops.base}/readyz")
    assert status == 200 and json.loads(body)["ready"] is True
    assert http_get(f"{ops.base}/nothing")[0] == 404
    ids = list_subjects(daemon)
    before = scrape(ops.base)

    answers = [check(daemon, ids["serious"]) for _ in range(3)]
    answers += [check(daemon, ids["clean"]), check(daemon, ids["red"])]
    with pytest.raises(grpc.RpcError) as bad:
        check(daemon, ids["clean"], department="no_such_department")
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    batch = daemon.check.BatchCheck(
        pb.BatchCheckRequest(
            requests=[
                pb.CheckRequest(department=DEPT, scene=SCENE, matter=COMMITMENT, subjects=[pb.Subject(id=i)])
                for i in (ids["serious"], ids["clean"], ids["clean"], ids["red"])
            ]
        ),
        timeout=30,
    )
    answers += [r.response for r in batch.results]
    applied = feedback(daemon, answers[0], pb.OUTCOME_APPLIED)
    not_applied = feedback(daemon, answers[1], pb.OUTCOME_NOT_APPLIED)
    after = scrape(ops.base)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    by_verdict = Counter(verdict_name(a.verdict) for a in answers)
    assert set(by_verdict) == {"restrict", "clear", "reward"}
    for verdict, count in by_verdict.items():
        assert delta("checkd_checks_total", department=DEPT, scene=SCENE, verdict=verdict) == count
    rpc = {"grpc_service": "checkd.v1.CheckService", "grpc_method": "Check", "grpc_type": "unary"}
    assert delta("grpc_server_started_total", **rpc) == 6
    assert delta("grpc_server_handling_seconds_count", **rpc) == 6
    assert delta("grpc_server_handled_total", **rpc, grpc_code="OK") == 5
    assert delta("grpc_server_handled_total", **rpc, grpc_code="InvalidArgument") == 1
    assert delta("checkd_batch_size_count") == 1 and delta("checkd_batch_size_sum") == 4
    assert delta("checkd_feedback_outcomes_total", department=DEPT, outcome="applied") == applied > 0
    assert delta("checkd_feedback_outcomes_total", department=DEPT, outcome="not_applied") == not_applied
    assert delta("checkd_ledger_commit_records_sum") == len(answers) + 2  # checks + two feedbacks
    assert value(after, "checkd_index_entries") == 2
    assert value(after, "checkd_data_version") == int(answers[-1].data_version[1:])
    assert value(after, "checkd_catalogue_info", version=answers[-1].catalogue_version) == 1
    assert value(after, "checkd_ledger_queue_depth") == 0
    # Checks that pushed measures and got no feedback: every penalty/reward answer but the two answered.
    awaiting = sum(1 for a in answers if any(s.measures for s in a.subjects)) - 2
    wait_for(lambda: value(scrape(ops.base), "checkd_checks_awaiting_feedback") == awaiting)
    assert value(scrape(ops.base), "checkd_checks_overdue_feedback") == 0  # none is 30 days old


def test_logs_are_json_events_with_request_id_and_masked_persons(ops: OpsDaemon) -> None:
    """One JSON event per check and per feedback, carrying the caller's request id; persons masked."""
    daemon = ops.grpc
    person = factories.resident_id()
    daemon.registry.UpsertEntries(
        reg.UpsertEntriesRequest(
            entries=[
                reg.EntryInput(
                    **factories.entry_row("OPS-JD", person, "judgment_defaulter", subject_name="沈建华")
                )
            ]
        ),
        timeout=30,
    )
    answer = check(daemon, person, matter=REGISTRATION, metadata=(("x-request-id", "req-ops-1"),))
    assert any(s.measures for s in answer.subjects)
    feedback(daemon, answer, pb.OUTCOME_APPLIED)
    check(daemon, person)  # no caller id: one is generated
    batch = daemon.check.BatchCheck(
        pb.BatchCheckRequest(
            requests=[
                pb.CheckRequest(
                    department=DEPT, scene=SCENE, matter=REGISTRATION, subjects=[pb.Subject(id=subject)]
                )
                for subject in (person, factories.uscc(), person)
            ]
        ),
        timeout=30,
    )
    listed = [r.response.check_id for r in batch.results if any(s.measures for s in r.response.subjects)]

    wait_for(lambda: daemon.log_text().count('"event":"feedback"') == 1, timeout=10)
    events = [json.loads(line) for line in daemon.log_text().splitlines() if line.startswith("{")]
    checks = [e for e in events if e["event"] == "check"]
    assert len(checks) == 2  # the batch logs one summary, not a line per check
    (summary,) = [e for e in events if e["event"] == "checks"]
    assert summary["rpc"] == "CheckService/BatchCheck" and summary["answered"] == 3
    assert summary["pushed"] == listed and len(listed) == 2
    assert summary["departments"] == {DEPT: 3} and sum(summary["verdicts"].values()) == 3
    assert checks[0]["request_id"] == "req-ops-1" and checks[0]["rpc"] == "CheckService/Check"
    assert checks[0]["check_id"] == answer.check_id and checks[0]["verdict"] == verdict_name(answer.verdict)
    assert checks[0]["subjects"] == [person[:6] + "*" * 8 + person[-4:]]
    assert checks[1]["request_id"] and checks[1]["request_id"] != "req-ops-1"
    (fed,) = [e for e in events if e["event"] == "feedback"]
    assert fed["rpc"] == "CheckService/SubmitFeedback" and fed["check_id"] == answer.check_id
    assert person not in daemon.log_text()


def test_a_long_open_stream_counts_its_checks_while_it_is_still_open(ops: OpsDaemon) -> None:
    """A stream's checks reach the metrics and the log within seconds, not only when it ends."""
    daemon = ops.grpc
    clean = factories.uscc()
    labels = {"department": DEPT, "scene": SCENE, "verdict": "clear"}
    before = value(scrape(ops.base), "checkd_checks_total", **labels)
    outgoing: queue.Queue[pb.CheckRequest | None] = queue.Queue()

    def requests() -> Iterator[pb.CheckRequest]:
        while (item := outgoing.get()) is not None:
            yield item

    item = pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=clean)])
    answers = daemon.check.StreamCheck(requests(), timeout=60)
    outgoing.put(item)
    next(answers)
    time.sleep(5.5)  # longer than the stream's tally interval
    outgoing.put(item)
    next(answers)  # this answer finds the tally due and closes it
    wait_for(lambda: value(scrape(ops.base), "checkd_checks_total", **labels) == before + 2, timeout=10)
    assert '"answered":2' in daemon.log_text() and '"rpc":"CheckService/StreamCheck"' in daemon.log_text()
    outgoing.put(item)
    outgoing.put(None)
    assert len(list(answers)) == 1  # the rest of the stream, counted when it ends
    wait_for(lambda: value(scrape(ops.base), "checkd_checks_total", **labels) == before + 3, timeout=10)


def test_nothing_is_logged_at_import() -> None:
    """Importing every module prints nothing: logging starts only when the daemon is configured."""
    modules = sorted(
        ".".join(p.relative_to(ROOT / "checkd").with_suffix("").parts)
        for p in (ROOT / "checkd").rglob("*.py")
        if p.stem not in ("__main__", "__init__") and "api" not in p.parts
    )
    code = "import importlib\n" + "".join(f"importlib.import_module('checkd.{m}')\n" for m in modules)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")


def test_bad_ops_flags_are_named(tmp_path: Path) -> None:
    """A malformed --ops-listen or --max-data-age stops start-up with the flag's name."""
    for flag, bad in (("--ops-listen", "nowhere"), ("--max-data-age", "-5")):
        result = run_cli(
            "serve",
            "--rules",
            str(ROOT / "rules"),
            "--db",
            f"sqlite:///{tmp_path}/x.db",
            flag,
            bad,
            workdir=tmp_path,
        )
        assert result.returncode == 1 and flag in result.stderr, result.stderr


# ---------------------------------------------------------------- staleness fail-safe


def test_stale_data_answers_review_and_fails_readiness(db_url: str, tmp_path: Path) -> None:
    """Data not confirmed for longer than --max-data-age: clear and reward become review; /readyz 503."""
    running = start_ops(db_url, tmp_path, "--poll", "3600", "--max-data-age", "2")
    daemon = running.grpc
    try:
        ids = list_subjects(daemon)  # the upsert reloads: the data is fresh
        fresh = check(daemon, ids["clean"])
        assert fresh.verdict == pb.VERDICT_CLEAR and not fresh.notes
        assert fresh.data_age_seconds <= 2
        wait_for(lambda: http_get(f"{running.base}/readyz")[0] == 503, timeout=15)
        body = http_get(f"{running.base}/readyz")[1]
        assert "stale" in json.loads(body)["checks"]["data_age"]

        stale = check(daemon, ids["clean"])
        assert stale.verdict == pb.VERDICT_REVIEW
        assert stale.data_age_seconds >= 2
        assert "data is stale" in stale.notes[0] and "data is stale" in stale.subjects[0].notes[0]
        assert check(daemon, ids["red"]).verdict == pb.VERDICT_REVIEW  # no green channel on stale data
        assert check(daemon, ids["serious"]).verdict == pb.VERDICT_RESTRICT  # stronger verdicts stay
        scraped = scrape(running.base)
        assert value(scraped, "checkd_data_age_seconds") > 2

        # A reload re-reads the store but is no word from the source: the data stays stale.
        daemon.registry.Reload(reg.ReloadRequest(), timeout=60)
        assert check(daemon, ids["clean"]).verdict == pb.VERDICT_REVIEW
        list_subjects(daemon)  # the source upserts again: the data is confirmed
        assert check(daemon, ids["clean"]).verdict == pb.VERDICT_CLEAR
        assert http_get(f"{running.base}/readyz")[0] == 200
    finally:
        assert daemon.stop() == 0, daemon.log_text()


# ---------------------------------------------------------------- statistics and overdue


@dataclass
class Activity:
    """What the test did, kept to compute the expected figures independently."""

    answers: list[tuple[str, pb.CheckResponse]]
    outcomes: list[tuple[str, int, str]]  # (check_id, outcome, action) per reported outcome
    answered: set[str]


def generate_activity(daemon: RunningDaemon) -> Activity:
    """A small month of checks over two departments, with feedback of every kind on some."""
    ids = list_subjects(daemon)
    answers: list[tuple[str, pb.CheckResponse]] = []
    plan = [("serious", DEPT)] * 6 + [("red", DEPT)] * 3 + [("clean", DEPT)] * 4 + [("clean", OTHER_DEPT)] * 3
    for subject, department in plan:
        answers.append((department, check(daemon, ids[subject], department=department)))
    two_subjects = pb.CheckRequest(
        department=DEPT, scene=SCENE, subjects=[pb.Subject(id=ids["serious"]), pb.Subject(id=ids["red"])]
    )
    answers.append((DEPT, daemon.check.Check(two_subjects, timeout=10)))
    outcomes: list[tuple[str, int, str]] = []
    answered: set[str] = set()
    kinds = [
        pb.OUTCOME_APPLIED,
        pb.OUTCOME_NOT_APPLIED,
        pb.OUTCOME_PARTIALLY_APPLIED,
        pb.OUTCOME_OBJECTED,
        pb.OUTCOME_APPLIED,
    ]
    with_measures = [a for _, a in answers if any(s.measures for s in a.subjects)]
    for answer, kind in zip(with_measures, kinds, strict=False):
        feedback(daemon, answer, kind)
        answered.add(answer.check_id)
        outcomes += [(answer.check_id, kind, m.action) for s in answer.subjects for m in s.measures]
    return Activity(answers, outcomes, answered)


def expected_figures(activity: Activity, department: str, overdue_too: bool) -> dict[str, int]:
    """The StatsRow figures of one department, computed from the answers and feedback the test saw."""
    answers = [a for d, a in activity.answers if d == department]
    ids = {a.check_id for a in answers}
    outcomes = [(c, k, act) for c, k, act in activity.outcomes if c in ids]

    def hit(subject: pb.SubjectResult, polarity: int) -> bool:
        return any(e.polarity == polarity for e in subject.entries)

    def pushed(a: pb.CheckResponse) -> list[pb.Measure]:
        return [m for s in a.subjects for m in s.measures]

    return {
        "checks": len(answers),
        "subjects_checked": sum(len(a.subjects) for a in answers),
        "subjects_hit_penalty": sum(hit(s, pb.POLARITY_PENALTY) for a in answers for s in a.subjects),
        "subjects_hit_reward": sum(hit(s, pb.POLARITY_REWARD) for a in answers for s in a.subjects),
        "measures_mandatory": sum(m.mandatory for a in answers for m in pushed(a)),
        "measures_discretionary": sum(not m.mandatory for a in answers for m in pushed(a)),
        "feedback_applied": sum(k == pb.OUTCOME_APPLIED for _, k, _ in outcomes),
        "feedback_not_applied": sum(k == pb.OUTCOME_NOT_APPLIED for _, k, _ in outcomes),
        "feedback_partially_applied": sum(k == pb.OUTCOME_PARTIALLY_APPLIED for _, k, _ in outcomes),
        "feedback_objected": sum(k == pb.OUTCOME_OBJECTED for _, k, _ in outcomes),
        "checks_with_measures": sum(1 for a in answers if pushed(a)),
        "checks_missing_feedback": sum(
            1 for a in answers if pushed(a) and a.check_id not in activity.answered
        ),
        "penalty_checks_overdue": sum(
            1
            for a in answers
            if overdue_too
            and a.check_id not in activity.answered
            and any(m.polarity == pb.POLARITY_PENALTY for m in pushed(a))
        ),
        "restrictions_applied": sum(
            1
            for _, k, act in outcomes
            if act in RESTRICTIVE and k in (pb.OUTCOME_APPLIED, pb.OUTCOME_PARTIALLY_APPLIED)
        ),
    }


def figures_of(row: reg.StatsRow) -> dict[str, int]:
    """The numeric fields of a StatsRow."""
    return {
        f.name: getattr(row, f.name) for f in row.DESCRIPTOR.fields if f.name not in ("department", "month")
    }


def test_stats_report_and_overdue_match_what_the_test_did(
    ops: OpsDaemon, db_url: str, tmp_path: Path
) -> None:
    """Stats RPC, `checkd report` and `checkd overdue` give the figures computed from the test's answers."""
    daemon = ops.grpc
    activity = generate_activity(daemon)
    first = daemon.check.GetCheck(pb.GetCheckRequest(check_id=activity.answers[0][1].check_id), timeout=10)
    recorded = first.recorded_at.ToDatetime(tzinfo=dt.UTC).astimezone(CST)
    month, today = f"{recorded:%Y-%m}", recorded.date()
    start, end = (today - dt.timedelta(days=1)).isoformat(), (today + dt.timedelta(days=1)).isoformat()
    later = (today + dt.timedelta(days=40)).isoformat()

    now = daemon.registry.Stats(reg.StatsRequest(from_date=start, to_date=end, overdue_days=30), timeout=30)
    assert now.plan_checks_per_year == 1_500_000
    rows = {(r.department, r.month): figures_of(r) for r in now.rows}
    assert rows == {
        (DEPT, month): expected_figures(activity, DEPT, overdue_too=False),
        (OTHER_DEPT, month): expected_figures(activity, OTHER_DEPT, overdue_too=False),
    }
    assert figures_of(now.total)["checks"] == len(activity.answers)
    expected_missing = expected_figures(activity, DEPT, overdue_too=True)["penalty_checks_overdue"]
    assert expected_missing > 0

    late = daemon.registry.Stats(
        reg.StatsRequest(from_date=start, to_date=end, overdue_days=30, department=DEPT, as_of=later),
        timeout=30,
    )
    assert [figures_of(r) for r in late.rows] == [expected_figures(activity, DEPT, overdue_too=True)]

    with pytest.raises(grpc.RpcError) as bad:
        daemon.registry.Stats(reg.StatsRequest(from_date="2026-13-01", to_date=end), timeout=10)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    result = run_cli(
        "report",
        "--db",
        db_url,
        "--from",
        start,
        "--to",
        end,
        "--format",
        "json",
        "--as-of",
        later,
        workdir=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    by_department = {
        r["department"]: {k: v for k, v in r.items() if k not in ("department", "month")}
        for r in report["rows"]
    }
    assert by_department == {
        DEPT: expected_figures(activity, DEPT, overdue_too=True),
        OTHER_DEPT: expected_figures(activity, OTHER_DEPT, overdue_too=True),
    }
    assert report["plan"]["years"][month[:4]]["checks"] == len(activity.answers)
    table = run_cli("report", "--db", db_url, "--from", start, "--to", end, workdir=tmp_path)
    assert table.returncode == 0 and "TOTAL" in table.stdout and "1,500,000" in table.stdout
    bad_cli = run_cli("report", "--db", db_url, "--from", "yesterday", "--to", end, workdir=tmp_path)
    assert bad_cli.returncode == 1 and "--from" in bad_cli.stderr

    chased = {
        a.check_id
        for _, a in activity.answers
        if a.check_id not in activity.answered
        and any(m.polarity == pb.POLARITY_PENALTY for s in a.subjects for m in s.measures)
    }
    listed = run_cli(
        "overdue", "--db", db_url, "--days", "30", "--as-of", later, "--format", "json", workdir=tmp_path
    )
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    assert {i["check_id"] for i in items} == chased and len(items) == expected_missing
    assert all(i["department"] == DEPT and i["penalty_measures"] for i in items)
    not_yet = run_cli(
        "overdue",
        "--db",
        db_url,
        "--days",
        "30",
        "--as-of",
        today.isoformat(),
        "--format",
        "json",
        workdir=tmp_path,
    )
    assert json.loads(not_yet.stdout) == []
    elsewhere = run_cli(
        "overdue",
        "--db",
        db_url,
        "--department",
        OTHER_DEPT,
        "--days",
        "0",
        "--format",
        "json",
        workdir=tmp_path,
    )
    assert json.loads(elsewhere.stdout) == []


# ---------------------------------------------------------------- under load


def test_metrics_and_health_answer_while_the_daemon_is_saturated(db_url: str, tmp_path: Path) -> None:
    """Threads flood BatchCheck through two gRPC workers while /metrics, /healthz, /readyz keep answering."""
    running = start_ops(db_url, tmp_path, "--workers", "2")
    daemon = running.grpc
    try:
        ids = list_subjects(daemon)
        batch = pb.BatchCheckRequest(
            requests=[
                pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=ids[k])])
                for k in ("serious", "clean", "red", "clean") * 50
            ]
        )
        flooding = threading.Event()
        flooding.set()
        sent = Counter[str]()
        lock = threading.Lock()

        def flood() -> None:
            while flooding.is_set():
                answer = daemon.check.BatchCheck(batch, timeout=120)
                with lock:
                    sent["items"] += len(answer.results)

        threads = [threading.Thread(target=flood, daemon=True) for _ in range(6)]
        for thread in threads:
            thread.start()
        seen: list[float] = []
        slowest = 0.0
        deadline = time.monotonic() + 60
        while len(seen) < 6 and time.monotonic() < deadline:
            started = time.perf_counter()
            assert http_get(f"{running.base}/healthz", timeout=10)[0] == 200
            assert http_get(f"{running.base}/readyz", timeout=10)[0] == 200
            checks = sum(v for (name, _), v in scrape(running.base).items() if name == "checkd_checks_total")
            slowest = max(slowest, time.perf_counter() - started)
            if not seen or checks > seen[-1]:
                seen.append(checks)
            time.sleep(0.2)
        flooding.clear()
        for thread in threads:
            thread.join(180)
        # The scrapes saw the count climb while the flood ran: they were answered mid-load.
        assert len(seen) >= 6 and seen == sorted(seen)
        final = sum(v for (name, _), v in scrape(running.base).items() if name == "checkd_checks_total")
        assert final == sent["items"]
        print(f"\nslowest probe round under load: {slowest * 1000:.0f} ms; {sent['items']} items checked")
    finally:
        assert daemon.stop() == 0, daemon.log_text()
