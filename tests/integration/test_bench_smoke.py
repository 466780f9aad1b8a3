"""Tiny runs of every bench script so the harness cannot rot: well-formed output, right counts, no timings."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.synth import BENCH_SECRET, SCALES, Population, write_jsonl
from checkd.rules.catalogue import load_catalogue
from checkd.subjects.ids import parse_identifier
from tests.daemon import ROOT, start_daemon

TINY = SCALES["tiny"]


def _bench(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run `python -m bench.<script>` from the project root and capture its output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHECKD_SECRET": BENCH_SECRET}
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_synth_writes_valid_interchange_rows_that_checkd_imports(tmp_path: Path, db_url: str) -> None:
    """Every generated row is valid JSON with a valid identifier on an allowed list, and all rows import."""
    out = tmp_path / "tiny.jsonl"
    counts = write_jsonl(Population(TINY, seed=3), out)
    catalogue = load_catalogue(ROOT / "rules")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == sum(counts.values()) > TINY.orgs
    assert len({row["entry_id"] for row in rows}) == len(rows)
    for row in rows:
        identifier = parse_identifier(row["subject_id"])
        assert identifier.subject_type in catalogue.list_types[row["list"]].subject_types, row
        if row.get("legal_representative_id"):
            assert parse_identifier(row["legal_representative_id"]).is_person
    enterprises = sum(Population(TINY, 3).org_head(i) in {"91", "92", "93"} for i in range(TINY.orgs))
    assert counts["market_credit_level"] == enterprises  # every enterprise carries a credit level
    done = _bench("checkd", "import", "--db", db_url, "--rules", str(ROOT / "rules"), str(out))
    assert done.returncode == 0, done.stderr
    assert f"imported {len(rows)} entries" in done.stdout


def test_bench_run_prints_every_figure_against_the_baseline(tmp_path: Path) -> None:
    """A tiny bench run: three phases with both servers, no errors, every answer counted, all figures."""
    done = _bench(
        "bench.run",
        "--scale",
        "tiny",
        "--data-dir",
        str(tmp_path),
        "--unary-checks",
        "200",
        "--bulk-checks",  # enough for every role to show: the ended threads' CPU is counted in 10 ms ticks
        "2000",
        "--seconds",
        "20",
        "--concurrency",
        "10",
        "--engine-decisions",
        "500",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    phase = re.compile(r"\| (Check|BatchCheck|StreamCheck) ")
    rows = [line for line in done.stdout.splitlines() if phase.match(line)]
    assert len(rows) == 3, done.stdout
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == 9 and cells[-1] == "0", row  # no errors
        assert float(cells[1].replace(",", "")) > 0 and float(cells[4].replace(",", "")) > 0
    split = re.compile(
        r"^  (Check|BatchCheck|StreamCheck) x\d+: no-op [\d,]+ us \(.+\); checkd [\d,]+ us \((.+); "
        r"thread runs ([\d,.]+)\)$"
    )
    splits = [m for m in map(split.match, done.stdout.splitlines()) if m]
    assert [m[1] for m in splits] == ["Check", "BatchCheck", "StreamCheck"], done.stdout
    for m in splits:  # checkd's threads are named by role: its workers and its ledger writer are there
        assert "rpc workers" in m[2] and "ledger writer" in m[2] and "client" in m[2], m[0]
        assert float(m[3].replace(",", "")) > 0, m[0]  # the threads that answered were run
    assert re.search(r"hits \(answers that pushed a measure\): [\d,]+ of 4,200 ", done.stdout), done.stdout
    assert re.search(r"cold start .*: [\d.]+ s", done.stdout)
    assert re.search(r"RSS: [\d,]+ MB when serving, peak [\d,]+ MB", done.stdout)
    assert re.search(r"engine \(in-process, one core\): [\d,]+ decisions/s", done.stdout)


@pytest.mark.parametrize("mode", ["batch", "stream"])
def test_replay_confirms_every_check_and_feedback_in_the_ledger(tmp_path: Path, mode: str) -> None:
    """A tiny replay through each bulk API ends with the ledger holding every check and feedback."""
    done = _bench(
        "bench.replay", "--scale", "tiny", "--data-dir", str(tmp_path), "--checks", "600", "--mode", mode
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "600 checks in" in done.stdout
    assert re.search(r"store: 600 new checks, [\d,]+ new feedback", done.stdout)
    assert "ledger confirmed: every check and feedback is stored" in done.stdout


def test_locustfile_runs_headless_against_a_running_daemon(tmp_path: Path) -> None:
    """Locust drives the real daemon with the mix; Check calls are reported and none fail."""
    data = tmp_path / "tiny.jsonl"
    write_jsonl(Population(TINY, 1), data)
    db_url = f"sqlite:///{tmp_path / 'tiny.db'}"
    imported = _bench("checkd", "import", "--db", db_url, "--rules", str(ROOT / "rules"), str(data))
    assert imported.returncode == 0, imported.stderr
    daemon = start_daemon(db_url, tmp_path, env={"CHECKD_SECRET": BENCH_SECRET})
    try:
        done = _bench(
            "locust",
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            "4",
            "-r",
            "4",
            "-t",
            "4s",
            "--host",
            f"127.0.0.1:{daemon.port}",
            "--scale",
            "tiny",
            "--csv",
            str(tmp_path / "loc"),
            "--only-summary",
        )
    finally:
        assert daemon.stop() == 0, daemon.log_text()
    assert done.returncode == 0, done.stdout + done.stderr
    with (tmp_path / "loc_stats.csv").open() as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    assert int(stats["Check"]["Request Count"]) > 0, stats
    assert all(int(row["Failure Count"]) == 0 for row in stats.values()), stats


@pytest.mark.postgres
def test_replicas_bench_propagation_reports_its_percentiles() -> None:
    """bench.replicas propagation over 3 upserts between two daemons prints p50/p99 of 3 changes."""
    result = _bench("bench.replicas", "propagation", "--changes", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"propagation over 3 upserts .*p50 \d+ ms, p99 \d+ ms", result.stdout), result.stdout


def test_http_path_bench_prints_both_paths_and_their_ratios() -> None:
    """bench.http_path measures gRPC and HTTP, each beside its no-op, without errors (no timings asserted)."""
    done = _bench("bench.http_path", "--seconds", "0.5", "--concurrency", "1", "--batch", "2")
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith(("| Check ", "| BatchCheck "))]
    assert len(rows) == 2, done.stdout
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 9 and cells[-1] == "0", row  # every call answered
        assert all(float(c) > 0 for c in cells[1:8]), row


def test_verify_cost_times_the_chain_alone_and_with_the_derived_rows(tmp_path: Path) -> None:
    """bench.verify_cost fills a store, verifies it both ways and prints the ratio."""
    done = _bench("bench.verify_cost", "200", f"sqlite:///{tmp_path / 'verify.db'}")
    assert done.returncode == 0, done.stderr
    counts = re.findall(r"^(chain(?:\+rows)?) +([\d,]+) records", done.stdout, re.MULTILINE)
    assert counts == [("chain", "200"), ("chain+rows", "200")], done.stdout
    assert re.search(r"^ratio chain\+rows / chain: [\d.]+$", done.stdout, re.MULTILINE), done.stdout


def test_check_cost_prints_the_cost_per_check_and_per_feedback(tmp_path: Path) -> None:
    """bench.check_cost runs the mix through the Checker, then the feedback of its hits, and prints both."""
    done = _bench("bench.check_cost", "--scale", "tiny", "--checks", "600", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    checks = re.search(
        r"^check_cost \(tiny, batches of 100\): 600 checks, CPU [\d,.]+ us/check", done.stdout, re.M
    )
    assert checks, done.stdout
    feedback = re.search(
        r"^feedback_cost \(tiny, one by one\): ([\d,]+) feedback, CPU [\d,.]+ us/feedback", done.stdout, re.M
    )
    assert feedback and int(feedback.group(1).replace(",", "")) > 0, done.stdout  # the mix hits ~4%
