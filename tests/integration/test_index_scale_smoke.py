"""Tiny runs of bench/table_cost.py and bench/index_memory.py --copies: figures printed, never judged."""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.test_bench_smoke import _bench


def test_table_cost_builds_the_table_of_its_pairs_in_many_buckets() -> None:
    """More pairs than one bucket holds: every pair is in the table, and the figures are printed."""
    run = _bench("bench.table_cost", "--entries", "400000")
    assert run.returncode == 0, run.stderr
    assert re.search(r"^400,000 entries, 1,160,000 pairs: table built in [\d.]+ s", run.stdout)
    assert "1,160,000 postings" in run.stdout


def test_index_memory_finds_the_subjects_in_every_copy(tmp_path: Path) -> None:
    """Three copies of the tiny scale: three times its entries, and the copies' subjects hit too."""
    path = tmp_path / "tiny.index"
    once = _bench(
        "bench.index_memory", "--synth", "tiny", "--scale", "tiny", "--file", str(path), "--requests", "200"
    )
    path.unlink()
    thrice = _bench(
        "bench.index_memory", "--synth", "tiny", "--scale", "tiny", "--copies", "3", "--file", str(path),
        "--requests", "200",
    )  # fmt: skip
    assert once.returncode == 0 and thrice.returncode == 0, once.stderr + thrice.stderr
    entries = [_figure(r"snapshot written: ([\d,]+) entries", r.stdout) for r in (once, thrice)]
    hits = [_figure(r"hit [\d.]+ us \(([\d,]+)\)", r.stdout) for r in (once, thrice)]
    assert entries[1] == 3 * entries[0] and hits[1] == 2 * hits[0] > 0


def _figure(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, text
    return int(found[1].replace(",", ""))
