"""A tiny run of bench/engine_cost.py, so the script cannot rot: its figures are printed (never judged)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.test_bench_smoke import _bench


def test_engine_cost_prints_both_engines_on_fresh_cases(tmp_path: Path) -> None:
    """Fresh cases, the reference engine alongside: one line per pass and engine, then the summary."""
    run = _bench(
        "bench.engine_cost", "--scale", "tiny", "--data-dir", str(tmp_path), "--cases", "300",
        "--passes", "2", "--fresh", "--against", "tests.unit.engine_reference",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "index: 638 entries" in run.stdout
    assert len(re.findall(r"^pass \d ", run.stdout, re.M)) == 4
    assert re.search(r"^  engine: [\d.,]+ us/decision CPU, [\d,]+ decisions/s", run.stdout, re.M)
    assert re.search(r"^  tests\.unit\.engine_reference: [\d.,]+ us/decision", run.stdout, re.M)
    assert "request reading (convert.check_case)" in run.stdout
    counted = _bench(
        "bench.engine_cost", "--scale", "tiny", "--data-dir", str(tmp_path), "--instructions", "50"
    )
    assert counted.returncode == 0 and counted.stdout.startswith("index: 638 entries"), counted.stderr
