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
        last = daemon.check.Check(
            pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=enterprise)]), timeout=10
        )
    assert last is not None
    measure = last.subjects[0].measures[0].measure_id
    daemon.check.SubmitFeedback(
        pb.FeedbackRequest(
            check_id=last.check_id,
            outcomes=[
                pb.FeedbackOutcome(measure_id=measure, subject_id=enterprise, outcome=pb.OUTCOME_APPLIED)
            ],
        ),
        timeout=10,
    )
    assert daemon.stop() == 0
    return daemon.log_text()


def factories_request(enterprise: str) -> Any:
    """An UpsertEntries request listing one enterprise as seriously dishonest."""
    from checkd.api.v1 import registry_pb2 as reg

    return reg.UpsertEntriesRequest(
        entries=[factories.entry_input(factories.entry_row("T-1", enterprise, "serious_illegal_dishonest"))]
    )


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
    conn.execute(
        "INSERT INTO ledger (seq, kind, ref_id, recorded_at, payload, prev_hash, hash) "
        "SELECT 6, kind, ref_id, recorded_at, payload, hash, hash FROM ledger WHERE seq = 5"
    )


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
        cut = int(seq) - 3
        conn.execute(f"DELETE FROM ledger WHERE seq > {cut}")
        # A careful attacker also drops the derived rows of the cut records, or verify sees them.
        conn.execute(
            f"DELETE FROM feedback_outcomes WHERE feedback_id IN "
            f"(SELECT feedback_id FROM feedback WHERE seq > {cut})"
        )
        conn.execute(f"DELETE FROM feedback WHERE seq > {cut}")
        conn.execute(f"DELETE FROM checks WHERE seq > {cut}")
    code, output = _verify(db_url, tmp_path)
    assert code == 0, "without an anchor the shortened chain still links"
    code, output = _verify(db_url, tmp_path, "--anchor", f"{seq}:{digest}")
    assert code == 1 and "truncated" in output, output


# ----------------------------------------------------------------- derived rows


def _checks_department(conn: Any, ph: str) -> None:
    """Reassign a check to another department: that decides who may read it."""
    conn.execute("UPDATE checks SET department = 'housing' WHERE seq = 4")


def _checks_deleted(conn: Any, ph: str) -> None:
    """Drop a check's lookup row (its record stays)."""
    conn.execute("DELETE FROM checks WHERE seq = 6")


def _checks_inserted(conn: Any, ph: str) -> None:
    """Add a lookup row for a check that was never recorded."""
    conn.execute(
        "INSERT INTO checks (check_id, department, request_id, matter, scene, verdict, recorded_at, "
        "seq, subjects, subjects_hit_penalty, subjects_hit_reward, measures_mandatory, "
        "measures_discretionary, has_penalty, request_fingerprint) SELECT 'forged-check', "
        "department, NULL, matter, scene, verdict, recorded_at, seq, subjects, "
        "subjects_hit_penalty, subjects_hit_reward, measures_mandatory, measures_discretionary, "
        "has_penalty, request_fingerprint FROM checks WHERE seq = 5"
    )


def _checks_figures(conn: Any, ph: str) -> None:
    """Lower a check's statistics figure."""
    conn.execute("UPDATE checks SET subjects_hit_penalty = 0 WHERE seq = 9")


def _outcome_changed(conn: Any, ph: str) -> None:
    """Turn a reported APPLIED into NOT_APPLIED."""
    conn.execute("UPDATE feedback_outcomes SET outcome = 'not_applied'")


def _outcome_added(conn: Any, ph: str) -> None:
    """Double every outcome row (inflating the applied count)."""
    conn.execute(
        "INSERT INTO feedback_outcomes (feedback_id, check_id, measure_id, subject_id, outcome, "
        "action, recorded_at) SELECT feedback_id, check_id, measure_id, subject_id, outcome, "
        "action, recorded_at FROM feedback_outcomes"
    )


def _feedback_deleted(conn: Any, ph: str) -> None:
    """Drop the feedback lookup rows."""
    conn.execute("DELETE FROM feedback")


DERIVED: dict[str, tuple[Callable[[Any, str], None], str]] = {
    "checks.department": (
        _checks_department,
        r"checks\.department \(record 4\): is 'housing', the record says "
        r"'market_regulation'",
    ),
    "checks row deleted": (
        _checks_deleted,
        r"checks\.check_id \(record 6\): check \w+ has a record but no row",
    ),
    "checks row inserted": (_checks_inserted, r"row of check forged-check \(seq 5\) has no check record"),
    "checks figures": (
        _checks_figures,
        r"checks\.subjects_hit_penalty \(record 9\): is 0, the record says 1",
    ),
    "outcome changed": (
        _outcome_changed,
        r"feedback_outcomes\.outcome \(record 14\): row \d+ is "
        r"'not_applied', the record says 'applied'",
    ),
    "outcome added": (
        _outcome_added,
        r"feedback_outcomes\.id \(record 14\): row \d+ .* is not in the record",
    ),
    "feedback row deleted": (
        _feedback_deleted,
        r"feedback\.feedback_id \(record 14\): .* has a record but "
        r"no row.*\n.*feedback_outcomes.* has no feedback row or record",
    ),
}


@pytest.mark.parametrize("kind", sorted(DERIVED))
def test_verify_finds_derived_rows_that_disagree_with_their_records(
    db_url: str, tmp_path: Path, kind: str
) -> None:
    """An edit of a lookup row the chain does not hash is reported with the record's seq and the field."""
    _fill_ledger(db_url, tmp_path)  # an admin record, 12 checks (seq 2-13), a feedback (seq 14)
    code, output = _verify(db_url, tmp_path)
    assert code == 0 and "derived rows agree" in output, output
    tamper, expected = DERIVED[kind]
    with raw_connection(db_url) as conn:
        tamper(conn, "?" if db_url.startswith("sqlite") else "%s")
    code, output = _verify(db_url, tmp_path)
    assert code == 1, output
    assert re.search(expected, output), output


# ----------------------------------------------------------------- signed checkpoints


def _new_key(workdir: Path, name: str, algorithm: str = "ed25519") -> Path:
    """A checkpoint key pair made by the CLI: the private key file (its public key is FILE.pub)."""
    out = workdir / "keys" / name
    made = run_cli("ledger", "key", "new", "--out", str(out), "--algorithm", algorithm, workdir=workdir)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "-----BEGIN PUBLIC KEY-----" in made.stdout
    assert (out.stat().st_mode & 0o777) == 0o600
    return out


def _run_checks(db_url: str, workdir: Path, count: int, *extra: str) -> list[Any]:
    """Run a daemon with `extra` options, make `count` checks, stop it; the answers."""
    daemon = start_daemon(db_url, workdir, *extra)
    enterprise = factories.uscc()
    answers = [
        daemon.check.Check(
            pb.CheckRequest(
                department=DEPT,
                scene=SCENE,
                request_id=f"{enterprise}-{n}",
                subjects=[pb.Subject(id=enterprise)],
            ),
            timeout=10,
        )
        for n in range(count)
    ]
    assert daemon.stop() == 0, daemon.log_text()
    return answers


def _forge_check(db_url: str) -> int:
    """Append a check record with a valid hash and consistent rows, as the store's holder can; its seq."""
    import datetime as dt

    from checkd.evidence.answers import check_ref_of
    from checkd.evidence.checkpoints import stored_chain_algorithm
    from checkd.evidence.ledger import chain_hash
    from checkd.store import Database, LedgerRecord, LedgerRepository

    database = Database(db_url)
    try:
        repository = LedgerRepository(database)
        seq, head = repository.head()
        record = pb.CheckRecord(
            check_id="f" * 32,
            department=DEPT,
            scene=SCENE,
            request_id="forged",
            response=pb.CheckResponse(check_id="f" * 32, verdict=pb.VERDICT_CLEAR),
        )
        payload = record.SerializeToString(deterministic=True)
        now = dt.datetime.now(dt.UTC)
        digest = chain_hash(
            head, seq + 1, "check", record.check_id, now, payload, stored_chain_algorithm(database)
        )
        repository.append(
            lambda _held: [
                LedgerRecord(
                    seq + 1, "check", record.check_id, now, payload, head, digest, check=check_ref_of(record)
                )
            ]
        )
        return seq + 1
    finally:
        database.close()


def _rewrite_from(db_url: str, start: int) -> None:
    """Change the record at `start` and recompute every later hash and link (a rewritten tail)."""
    from sqlalchemy import select

    from checkd.evidence.checkpoints import stored_chain_algorithm
    from checkd.evidence.ledger import chain_hash
    from checkd.store import Database
    from checkd.store.db import utc
    from checkd.store.tables import LedgerRow

    database = Database(db_url)
    try:
        algorithm = stored_chain_algorithm(database)
        with database.transaction() as session:
            rows = session.scalars(
                select(LedgerRow).where(LedgerRow.seq >= start - 1).order_by(LedgerRow.seq)
            ).all()
            prev = rows[0].hash
            for row in rows[1:]:
                if row.seq == start:
                    row.payload = bytes(row.payload) + b"\x08\x01"
                row.prev_hash = prev
                row.hash = prev = chain_hash(
                    prev, row.seq, row.kind, row.ref_id, utc(row.recorded_at), row.payload, algorithm
                )
    finally:
        database.close()


def test_a_forged_record_after_the_last_checkpoint_is_reported_uncovered(db_url: str, tmp_path: Path) -> None:
    """A record appended with a valid hash and rows passes chain, rows and anchor; not the checkpoints."""
    key = _new_key(tmp_path, "cp-1")
    _run_checks(db_url, tmp_path, 5, "--checkpoint-key", str(key))
    pubkeys = ("--checkpoint-pubkeys", f"{key}.pub")
    code, output = _verify(db_url, tmp_path, *pubkeys)
    assert code == 0 and "checkpoints: 1 verified of 1, last at seq 5" in output, output
    head = re.search(r"head (\d+) ([0-9a-f]{64})", output)
    assert head is not None, output
    forged = _forge_check(db_url)
    code, output = _verify(db_url, tmp_path, "--anchor", f"{head[1]}:{head[2]}")
    assert code == 0, f"chain, derived rows and an anchor cannot tell a well-forged record: {output}"
    code, output = _verify(db_url, tmp_path, *pubkeys)
    assert code == 1, output
    assert f"1 records after the last checkpoint at seq {forged - 1}, not yet covered" in output, output
    code, output = _verify(db_url, tmp_path, *pubkeys, "--allow-uncovered")
    assert code == 0 and "not yet covered" in output, output


def _checkpointed_seqs(db_url: str) -> list[int]:
    """The seqs of the stored checkpoints, oldest first."""
    from checkd.store import CheckpointRepository, Database

    database = Database(db_url)
    try:
        return [point.seq for point in CheckpointRepository(database).all()]
    finally:
        database.close()


def test_a_running_daemon_checkpoints_every_m_records_and_verify_reports_its_uncovered_tail(
    db_url: str, tmp_path: Path
) -> None:
    """A live daemon (key from CHECKD_CHECKPOINT_KEY) signs every 3 records; later records are uncovered."""
    import time

    key = _new_key(tmp_path, "cp-env")
    code, output = _launch_refused(db_url, tmp_path, "--checkpoint-key", f"{key}.pub")
    assert code == 2 and "holds no Ed25519 or SM2 private key" in output, output
    daemon = start_daemon(
        db_url,
        tmp_path,
        "--checkpoint-records",
        "3",
        "--checkpoint-seconds",
        "3600",
        env={"CHECKD_CHECKPOINT_KEY": str(key)},
    )
    enterprise = factories.uscc()

    def check() -> Any:
        return daemon.check.Check(
            pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=enterprise)]), timeout=10
        )

    for _ in range(3):
        check()
    deadline = time.monotonic() + 30
    while not _checkpointed_seqs(db_url) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _checkpointed_seqs(db_url) == [3], daemon.log_text()  # signed while running, not at stop
    pubkeys = ("--checkpoint-pubkeys", f"{key}.pub")
    assert _verify(db_url, tmp_path, *pubkeys)[0] == 0
    check()
    code, output = _verify(db_url, tmp_path, *pubkeys)
    assert code == 1 and "1 records after the last checkpoint at seq 3, not yet covered" in output, output
    assert daemon.stop() == 0, daemon.log_text()
    assert _checkpointed_seqs(db_url) == [3, 4]  # the final checkpoint after the last commit
    code, output = _verify(db_url, tmp_path, *pubkeys)
    assert code == 0 and "checkpoints: 2 verified of 2, last at seq 4" in output, output
    assert re.search(
        r"ledger_checkpoint\s+at=\S+\s+hash=[0-9a-f]{64}\s+key_id=[0-9a-f]{16}\s+seq=4", daemon.log_text()
    ), daemon.log_text()


def test_a_tail_rewritten_before_a_checkpoint_fails(db_url: str, tmp_path: Path) -> None:
    """Rewriting a covered record and recomputing every later hash no longer reaches the signed head."""
    key = _new_key(tmp_path, "cp-1")
    _run_checks(db_url, tmp_path, 6, "--checkpoint-key", str(key))
    _rewrite_from(db_url, 3)
    code, output = _verify(db_url, tmp_path)
    assert "does not link" not in output and "was modified" not in output, output
    code, output = _verify(db_url, tmp_path, "--checkpoint-pubkeys", f"{key}.pub")
    assert code == 1, output
    assert "record 6 differs from its signed checkpoint: the chain was rewritten" in output, output


def test_checkpoint_keys_rotate_and_untrusted_or_bad_signatures_fail(db_url: str, tmp_path: Path) -> None:
    """A new key signs new checkpoints; old public keys keep old ones valid; others fail."""
    old, new = _new_key(tmp_path, "cp-2026"), _new_key(tmp_path, "cp-2027")
    _run_checks(db_url, tmp_path, 2, "--checkpoint-key", str(old))
    _run_checks(db_url, tmp_path, 2, "--checkpoint-key", str(new))
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    for key in (old, new):
        (trusted / f"{key.name}.pub").write_bytes(Path(f"{key}.pub").read_bytes())
    code, output = _verify(db_url, tmp_path, "--checkpoint-pubkeys", str(trusted))
    assert code == 0 and "checkpoints: 2 verified of 2" in output, output
    code, output = _verify(db_url, tmp_path, "--checkpoint-pubkeys", f"{new}.pub")
    assert code == 1 and "is signed by a key that is not trusted" in output, output
    with raw_connection(db_url) as conn:
        conn.execute(
            "UPDATE ledger_checkpoints SET signed_at = signed_at + INTERVAL '1 hour'"
            if not db_url.startswith("sqlite")
            else "UPDATE ledger_checkpoints SET head_hash = (SELECT hash FROM ledger WHERE seq = 3) "
            "WHERE seq = (SELECT MAX(seq) FROM ledger_checkpoints)"
        )
    code, output = _verify(db_url, tmp_path, "--checkpoint-pubkeys", str(trusted))
    assert code == 1 and "the signature does not verify" in output, output


# ----------------------------------------------------------------- algorithms


def test_sm3_chain_and_sm2_checkpoints_verify_and_the_algorithm_cannot_be_switched(
    db_url: str, tmp_path: Path
) -> None:
    """A store made with SM3 stays SM3, its SM2-signed checkpoints verify, and a switch is refused."""
    key = _new_key(tmp_path, "cp-sm2", "sm2")
    answers = _run_checks(db_url, tmp_path, 3, "--ledger-algorithm", "sm3", "--checkpoint-key", str(key))
    assert {a.receipt.algorithm for a in answers} == {"sm3"}
    receipt = answers[-1].receipt
    code, output = _verify(
        db_url,
        tmp_path,
        "--checkpoint-pubkeys",
        f"{key}.pub",
        "--receipt",
        f"{receipt.ledger_seq}:{receipt.ledger_hash}",
    )
    assert code == 0 and "(sm3; derived rows agree)" in output and "checkpoints: 1 verified" in output, output
    from checkd.evidence.ledger import chain_hash
    from checkd.store import Database, LedgerRepository

    database = Database(db_url)
    try:  # the stored hash is SM3 over the record, computed here independently of the daemon
        stored = LedgerRepository(database).record_at(receipt.ledger_seq)
    finally:
        database.close()
    assert stored is not None and stored.hash == receipt.ledger_hash
    content = (stored.prev_hash, stored.seq, stored.kind, stored.ref_id, stored.recorded_at, stored.payload)
    assert chain_hash(*content, "sm3") == receipt.ledger_hash != chain_hash(*content, "sha256")
    _run_checks(db_url, tmp_path, 1)  # restarted without the option: keeps the store's SM3
    assert _verify(db_url, tmp_path)[0] == 0
    code, output = _launch_refused(db_url, tmp_path, "--ledger-algorithm", "sha256")
    assert code == 2, output
    assert "this store's chain is hashed with sm3; it cannot be switched to sha256" in output


def _launch_refused(db_url: str, workdir: Path, *extra: str) -> tuple[int, str]:
    """Run `checkd serve` expecting it to refuse to start: (exit code, its output)."""
    from tests.daemon import ROOT

    result = run_cli(
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        db_url,
        "--rules",
        str(ROOT / "rules"),
        "--no-sample",
        *extra,
        workdir=workdir,
    )
    return result.returncode, result.stdout + result.stderr


def test_a_store_from_before_the_algorithm_was_recorded_keeps_verifying_as_sha256(
    db_url: str, tmp_path: Path
) -> None:
    """An existing ledger (all SHA-256, no algorithm in meta) verifies, and is recorded as SHA-256."""
    _run_checks(db_url, tmp_path, 2)
    with raw_connection(db_url) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'ledger_algorithm'")
    assert _verify(db_url, tmp_path)[0] == 0
    answers = _run_checks(db_url, tmp_path, 1, "--ledger-algorithm", "sha256")
    assert answers[0].receipt.algorithm == "sha256"
    code, output = _verify(db_url, tmp_path)
    assert code == 0 and "(sha256;" in output, output
    assert _launch_refused(db_url, tmp_path, "--ledger-algorithm", "sm3")[0] == 2


# ----------------------------------------------------------------- receipts


def test_every_answer_carries_a_receipt_that_verify_and_get_check_confirm(
    db_url: str, tmp_path: Path
) -> None:
    """Check, BatchCheck, StreamCheck and replays carry (seq, hash); GetCheck and verify confirm it."""
    daemon = start_daemon(db_url, tmp_path)
    enterprise = factories.uscc()

    def request(request_id: str) -> Any:
        return pb.CheckRequest(
            department=DEPT, scene=SCENE, request_id=request_id, subjects=[pb.Subject(id=enterprise)]
        )

    single = daemon.check.Check(request("one"), timeout=10)
    batch = daemon.check.BatchCheck(
        pb.BatchCheckRequest(requests=[request("b-1"), request("b-2")]), timeout=10
    )
    stream = list(daemon.check.StreamCheck(iter([request("s-1"), request("s-2")]), timeout=10))
    answers = [single, *(r.response for r in batch.results), *stream]
    receipts = [(a.receipt.ledger_seq, a.receipt.ledger_hash) for a in answers]
    assert all(seq > 0 and re.fullmatch(r"[0-9a-f]{64}", digest) for seq, digest in receipts), receipts
    assert len({seq for seq, _ in receipts}) == len(receipts)
    replay = daemon.check.Check(request("one"), timeout=10)  # from the recent-answers cache
    assert replay.check_id == single.check_id and replay.receipt == single.receipt
    for answer in answers:
        stored = daemon.check.GetCheck(pb.GetCheckRequest(check_id=answer.check_id), timeout=10)
        assert stored.ledger_seq == answer.receipt.ledger_seq
        assert stored.ledger_hash == answer.receipt.ledger_hash
        assert stored.response.receipt == answer.receipt
    assert daemon.stop() == 0
    restarted = start_daemon(db_url, tmp_path)  # a replay after restart reads the store
    again = restarted.check.Check(request("b-2"), timeout=10)
    assert again.check_id == answers[2].check_id and again.receipt == answers[2].receipt
    assert restarted.stop() == 0
    args = [arg for seq, digest in receipts for arg in ("--receipt", f"{seq}:{digest}")]
    code, output = _verify(db_url, tmp_path, *args)
    assert code == 0 and output.count("confirmed") == len(receipts), output
    seq = receipts[0][0]
    code, output = _verify(db_url, tmp_path, "--receipt", f"{seq}:{'0' * 64}")
    assert code == 1 and f"receipt {seq}:{'0' * 64} is not in the verified chain" in output, output
