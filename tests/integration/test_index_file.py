"""The index snapshot file through the real commands: import writes it, the daemon maps it at start."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from bench.mix import Mix
from bench.synth import SCALES, Population, write_jsonl
from checkd.api.v1 import check_pb2 as pb
from checkd.decide.snapshot_file import read_header
from tests.daemon import ROOT, run_cli, start_daemon

RULES = str(ROOT / "rules")


def _answers(url: str, workdir: Path, requests: list[pb.CheckRequest]) -> tuple[list[bytes], str, int]:
    """What one daemon's start answers to the requests (the subjects' results), its log, its hits."""
    daemon = start_daemon(url, workdir)
    hits = 0
    try:
        answers = []
        for request in requests:
            response = daemon.check.Check(request, timeout=10)
            answers.append(b"".join(s.SerializeToString() for s in response.subjects))
            hits += sum(1 for s in response.subjects if s.entries)
    finally:
        code = daemon.stop()
    assert code == 0, daemon.log_text()
    return answers, daemon.log_text(), hits


def test_the_daemon_starts_from_the_file_import_wrote_and_rebuilds_a_damaged_one(tmp_path: Path) -> None:
    """Import writes the file; each start maps it (no build); a damaged file is rebuilt, never served."""
    population = Population(SCALES["tiny"], 1)
    feed = tmp_path / "tiny.jsonl"
    count = sum(write_jsonl(population, feed).values())
    url = f"sqlite:///{tmp_path / 'checkd.db'}"
    done = run_cli("import", str(feed), "--db", url, "--rules", RULES, workdir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"index snapshot: {count} entries" in done.stdout
    path = tmp_path / "checkd.db.index"
    written = read_header(path)
    assert written.entries == count
    requests = Mix(population, ROOT / "rules", seed=3).requests(300)
    # Listed subjects too: the mix's 5% of hits would leave a tiny store's answers mostly clear.
    requests += [
        pb.CheckRequest(
            department=r.department, scene=r.scene, subjects=[pb.Subject(id=population.org_id(i))]
        )
        for i, r in zip(population.penalised_orgs()[:50], requests, strict=False)
    ]
    first, log, hits = _answers(url, tmp_path, requests)
    assert "index_file_used" in log and "index_file_written" not in log
    assert read_header(path) == written  # mapped, not rewritten
    assert hits > 30  # the listed subjects were found

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x55
    path.write_bytes(bytes(data))
    second, log, _ = _answers(url, tmp_path, requests)
    assert "index_file_refused" in log and "index_file_written" in log
    assert second == first

    third, log, _ = _answers(url, tmp_path, requests)
    assert "index_file_used" in log and "index_file_written" not in log
    assert third == first


def test_a_running_daemon_maps_the_file_a_later_import_wrote(tmp_path: Path) -> None:
    """The nightly path: an import while the daemon runs, then a reload (SIGHUP) maps the import's file.

    The daemon does not poll here: a poll between the import's commit and its file would find no
    file of the new version yet and build one itself (correct, but not the path under test).
    """
    url = f"sqlite:///{tmp_path / 'checkd.db'}"
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(Population(SCALES["tiny"], 1), first)
    write_jsonl(Population(SCALES["tiny"], 2), second)
    assert run_cli("import", str(first), "--db", url, "--rules", RULES, workdir=tmp_path).returncode == 0
    daemon = start_daemon(url, tmp_path, "--poll", "3600")
    try:
        done = run_cli("import", str(second), "--db", url, "--rules", RULES, workdir=tmp_path)
        assert done.returncode == 0, done.stderr
        version = read_header(tmp_path / "checkd.db.index").data_version
        daemon.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while daemon.log_text().count("index_file_used") < 2:
            assert time.monotonic() < deadline, daemon.log_text()
            time.sleep(0.2)
        assert "index_file_written" not in daemon.log_text()
        assert f"data_version=d{version}" in daemon.log_text().split("index_file_used")[-1]
    finally:
        assert daemon.stop() == 0, daemon.log_text()


def test_the_store_file_alone_holds_the_import_once_the_command_exits(tmp_path: Path) -> None:
    """`checkd import` closes its store: a copy of the SQLite file (without -wal) holds every entry.

    Operators back up or move the store by its file; an import left in the write-ahead log would
    be lost by that copy (the index file written beside it would then name entries the copy lacks).
    """
    import shutil
    import sqlite3

    feed = tmp_path / "tiny.jsonl"
    count = sum(write_jsonl(Population(SCALES["tiny"], 1), feed).values())
    store = tmp_path / "checkd.db"
    done = run_cli("import", str(feed), "--db", f"sqlite:///{store}", "--rules", RULES, workdir=tmp_path)
    assert done.returncode == 0, done.stderr
    copy = tmp_path / "copy" / "checkd.db"
    copy.parent.mkdir()
    shutil.copyfile(store, copy)
    with sqlite3.connect(copy) as connection:
        (held,) = connection.execute("SELECT count(*) FROM list_entries").fetchone()
    assert held == count
