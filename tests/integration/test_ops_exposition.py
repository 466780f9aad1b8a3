"""/metrics as Prometheus scrapes it from the real daemon: HEAD, gzip, OpenMetrics; the shipped dashboard."""

from __future__ import annotations

import gzip
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from checkd.api.v1 import check_pb2 as pb
from tests.daemon import ROOT
from tests.integration.test_ops import OpsDaemon, check, feedback, list_subjects, start_ops

DASHBOARD = ROOT / "etc" / "grafana" / "checkd-dashboard.json"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
# PromQL words that are not metric names: functions are followed by "(" and removed separately.
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool"}


@pytest.fixture
def ops(tmp_path: Path) -> Iterator[OpsDaemon]:
    """A daemon with its ops listener on a SQLite store (the exposition does not depend on the backend)."""
    running = start_ops(f"sqlite:///{tmp_path / 'c.db'}", tmp_path)
    try:
        yield running
    finally:
        assert running.grpc.stop() == 0, running.grpc.log_text()


def fetch(url: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    """One request; (status, headers with lower-case names, raw body)."""
    request = urllib.request.Request(url, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()


def test_head_gzip_and_openmetrics_are_negotiated(ops: OpsDaemon) -> None:
    """HEAD answers like GET without a body; gzip when asked; OpenMetrics when the scraper prefers it."""
    url = f"{ops.base}/metrics"
    status, plain_headers, plain = fetch(url)
    assert status == 200 and plain_headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "content-encoding" not in plain_headers
    assert b"# TYPE grpc_server_handled_total counter" in plain

    status, head_headers, head_body = fetch(url, method="HEAD")
    assert status == 200 and head_body == b""
    assert head_headers["content-type"] == plain_headers["content-type"]
    assert int(head_headers["content-length"]) > 1000  # the length of the body a GET sends
    for probe in ("/healthz", "/readyz"):
        status, headers, body = fetch(f"{ops.base}{probe}", method="HEAD")
        assert status == 200 and body == b"" and int(headers["content-length"]) > 0

    status, gz_headers, packed = fetch(url, **{"Accept-Encoding": "gzip"})
    assert status == 200 and gz_headers["content-encoding"] == "gzip"
    names = {f.name for f in text_string_to_metric_families(gzip.decompress(packed).decode())}
    assert {"checkd_checks", "process_resident_memory_bytes", "python_info"} <= names

    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    status, om_headers, body = fetch(url, Accept=accept)
    assert status == 200 and om_headers["content-type"].startswith(OPENMETRICS)
    text = body.decode()
    assert text.endswith("# EOF\n")
    families = {f.name: f for f in openmetrics_families(text)}  # the strict parser accepts it
    assert families["grpc_server_started"].type == "counter"
    assert families["grpc_server_handling_seconds"].type == "histogram"
    assert families["checkd_data_version"].type == "gauge"


def test_process_collectors_and_the_data_version_as_a_number(ops: OpsDaemon) -> None:
    """Process and platform figures are exported; the data version is one unlabelled gauge that moves."""
    list_subjects(ops.grpc)
    answer = check(ops.grpc, list_subjects(ops.grpc)["serious"])
    families = {f.name: f for f in text_string_to_metric_families(fetch(f"{ops.base}/metrics")[2].decode())}
    assert families["process_resident_memory_bytes"].samples[0].value > 0
    assert families["process_open_fds"].samples[0].value > 0
    assert families["python_info"].samples[0].labels["implementation"] == "CPython"
    (version,) = families["checkd_data_version"].samples
    assert version.labels == {} and version.value == int(answer.data_version[1:]) >= 2


def test_hits_and_measures_pushed_are_counted_by_kind(ops: OpsDaemon) -> None:
    """A check of a serious-list enterprise counts a penalty hit and its mandatory/discretionary measures."""
    ids = list_subjects(ops.grpc)
    answers = [check(ops.grpc, ids["serious"]), check(ops.grpc, ids["red"]), check(ops.grpc, ids["clean"])]
    batch = ops.grpc.check.BatchCheck(
        pb.BatchCheckRequest(
            requests=[
                pb.CheckRequest(
                    department="market_regulation",
                    scene="administrative_licensing",
                    subjects=[pb.Subject(id=ids["serious"])],
                )
            ]
        ),
        timeout=30,
    )
    answers.append(batch.results[0].response)
    measures = [m for a in answers for s in a.subjects for m in s.measures]
    expected = {
        ("checkd_subjects_hit_total", "penalty"): 2,
        ("checkd_subjects_hit_total", "reward"): 1,
        ("checkd_measures_pushed_total", "mandatory"): sum(m.mandatory for m in measures),
        ("checkd_measures_pushed_total", "discretionary"): sum(not m.mandatory for m in measures),
    }
    assert expected[("checkd_measures_pushed_total", "mandatory")] > 0
    text = fetch(f"{ops.base}/metrics")[2].decode()
    seen = {
        (s.name, s.labels.get("polarity") or s.labels.get("kind")): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name in ("checkd_subjects_hit_total", "checkd_measures_pushed_total")
    }
    assert {k: v for k, v in seen.items() if v} == {k: v for k, v in expected.items() if v}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (label matchers, ranges, grouping and functions removed)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"[a-zA-Z_]\w*\s*\(", "(", expr)  # function calls
    words = set(re.findall(r"[a-zA-Z_:][\w:]*", expr))
    return {w for w in words if w not in PROMQL_WORDS and not re.fullmatch(r"e\d*", w)}


def dashboard_queries(dashboard: dict[str, object]) -> list[str]:
    """Every PromQL expression of the dashboard: panel targets and template variable queries."""
    panels = dashboard["panels"]
    assert isinstance(panels, list) and panels
    exprs = [t["expr"] for p in panels for t in p["targets"]]
    templating = dashboard["templating"]
    assert isinstance(templating, dict)
    for variable in templating["list"]:
        if variable["type"] == "query":
            inner = re.fullmatch(r"label_values\((\w+),\s*\w+\)", variable["query"])
            assert inner, variable["query"]
            exprs.append(inner.group(1))
    return exprs


def test_metric_names_are_read_from_promql() -> None:
    """The extraction the dashboard test relies on finds the metric names and nothing else."""
    expr = (
        "histogram_quantile(0.99, sum by (le, grpc_method) (rate(grpc_server_handling_seconds_bucket"
        '{grpc_code!="OK", instance=~"$instance"}[$__rate_interval]))) / ignoring (kind) up * 1e9'
    )
    assert metric_names(expr) == {"grpc_server_handling_seconds_bucket", "up"}


def test_the_dashboard_loads_and_reads_only_exported_metrics(ops: OpsDaemon) -> None:
    """Valid JSON, a uid and panels; every metric its queries name is in a real daemon's /metrics."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] and dashboard["title"]
    ids = list_subjects(ops.grpc)
    answer = check(ops.grpc, ids["serious"])
    check(ops.grpc, ids["red"])
    feedback(ops.grpc, answer, pb.OUTCOME_APPLIED)
    text = fetch(f"{ops.base}/metrics")[2].decode()
    exported = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    named = {name for expr in dashboard_queries(dashboard) for name in metric_names(expr)}
    assert named - exported == set()
    # It covers the loop's figures and the RPC ones.
    for wanted in (
        "checkd_checks_total",
        "checkd_subjects_hit_total",
        "checkd_measures_pushed_total",
        "checkd_feedback_outcomes_total",
        "grpc_server_handled_total",
        "grpc_server_handling_seconds_bucket",
        "checkd_data_age_seconds",
    ):
        assert wanted in named, wanted
