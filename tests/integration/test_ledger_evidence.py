"""Tamper evidence: `checkd ledger verify` catches a modified, deleted, inserted, reordered or cut record."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from checkd.api.v1 import check_pb2 as pb
from tests import factories
from tests.daemon import run_cli, start_daemon

DEPT, SCENE = "market_regulation", "administrative_licensing"


@contextmanager
def raw_connection(db_url: str) -> Iterator[Any]:
    """A DB-API connection to the store behind the daemon's back (the attacker's view)."""
    if db_url.startswith("sqlite"):
        connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        try:
            yield connection
            connection.commit()
        finally:
            connection.close()
    else:
        with psycopg.connect(db_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            yield conn


def _fill_ledger(db_url: str, workdir: Path) -> str:
    """Run a daemon that records 12 checks and a feedback, stop it, return its log."""
    daemon = start_daemon(db_url, workdir)
    enterprise = factories.uscc()
    daemon.registry.UpsertEntries(factories_request(enterprise), timeout=30)
    last = None
    for _ in range(12):
        last = daemon.check.Check(pb.CheckRequest(department=DEPT, scene=SCENE,
                                                  subjects=[pb.Subject(id=enterprise)]), timeout=10)
    assert last is not None
    measure = last.subjects[0].measures[0].measure_id
    daemon.check.SubmitFeedback(pb.FeedbackRequest(check_id=last.check_id, outcomes=[pb.FeedbackOutcome(
        measure_id=measure, subject_id=enterprise, outcome=pb.OUTCOME_APPLIED)]), timeout=10)
    assert daemon.stop() == 0
    return daemon.log_text()


def factories_request(enterprise: str) -> Any:
    """An UpsertEntries request listing one enterprise as seriously dishonest."""
    from checkd.api.v1 import registry_pb2 as reg

    return reg.UpsertEntriesRequest(entries=[factories.entry_input(
        factories.entry_row("T-1", enterprise, "serious_illegal_dishonest"))])


def _verify(db_url: str, workdir: Path, *extra: str) -> tuple[int, str]:
    result = run_cli("ledger", "verify", "--db", db_url, *extra, workdir=workdir)
    return result.returncode, result.stdout + result.stderr


def _modify(conn: Any, ph: str) -> None:
    (payload,) = conn.execute("SELECT payload FROM ledger WHERE seq = 5").fetchone()
    altered = bytes(payload) + b"\x08\x01"  # append one more field to the stored record
    conn.execute(f"UPDATE ledger SET payload = {ph} WHERE seq = 5", (altered,))


def _delete(conn: Any, ph: str) -> None:
    conn.execute("DELETE FROM ledger WHERE seq = 7")


def _insert(conn: Any, ph: str) -> None:
    # Forge a record in the middle: shift the tail up by one and put a fabricated check at 6.
    conn.execute("UPDATE ledger SET seq = seq + 1000 WHERE seq >= 6")
    conn.execute("UPDATE ledger SET seq = seq - 999 WHERE seq >= 1000")
    conn.execute("INSERT INTO ledger (seq, kind, ref_id, recorded_at, payload, prev_hash, hash) "
                 "SELECT 6, kind, ref_id, recorded_at, payload, hash, hash FROM ledger WHERE seq = 5")


def _reorder(conn: Any, ph: str) -> None:
    conn.execute("UPDATE ledger SET seq = -1 WHERE seq = 8")
    conn.execute("UPDATE ledger SET seq = 8 WHERE seq = 9")
    conn.execute("UPDATE ledger SET seq = 9 WHERE seq = -1")


TAMPERING: dict[str, tuple[Callable[[Any, str], None], str]] = {
    "modified": (_modify, r"record 5 .* was modified"),
    "deleted": (_delete, r"record 7 is missing"),
    "inserted": (_insert, r"record 7 does not link to record 6|record 6 .* was modified"),
    "reordered": (_reorder, r"record 8 does not link to record 7"),
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_verify_finds_the_first_tampered_record(db_url: str, tmp_path: Path, kind: str) -> None:
    """Each kind of tampering with the stored chain is reported at the record where it happened."""
    _fill_ledger(db_url, tmp_path)
    code, output = _verify(db_url, tmp_path)
    assert code == 0 and "ledger ok:" in output, output
    tamper, expected = TAMPERING[kind]
    with raw_connection(db_url) as conn:
        tamper(conn, "?" if db_url.startswith("sqlite") else "%s")
    code, output = _verify(db_url, tmp_path)
    assert code == 1, output
    assert re.search(expected, output), output


def test_a_cut_tail_is_caught_by_the_logged_anchor(db_url: str, tmp_path: Path) -> None:
    """Deleting the newest records leaves a valid-looking chain; the anchor in the log exposes it."""
    log = _fill_ledger(db_url, tmp_path)
    anchors = re.findall(r"ledger_anchor\s+at=\S+\s+hash=([0-9a-f]{64})\s+seq=(\d+)", log)
    assert anchors, log
    digest, seq = anchors[-1]
    assert _verify(db_url, tmp_path, "--anchor", f"{seq}:{digest}")[0] == 0
    with raw_connection(db_url) as conn:
        conn.execute(f"DELETE FROM ledger WHERE seq > {int(seq) - 3}")
    code, output = _verify(db_url, tmp_path)
    assert code == 0, "without an anchor the shortened chain still links"
    code, output = _verify(db_url, tmp_path, "--anchor", f"{seq}:{digest}")
    assert code == 1 and "truncated" in output, output
