"""A credit office's revocation survives the data feed; only an explicit, audited reinstatement lifts it."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.store import Database, EntryRepository, LedgerRepository
from tests import factories
from tests.daemon import ROOT, RunningDaemon, run_cli

DEPT, SCENE = "market_regulation", "administrative_licensing"
RULES = str(ROOT / "rules")


def _entries_hit(daemon: RunningDaemon, subject: str) -> list[str]:
    response = daemon.check.Check(
        pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=subject)]), timeout=10
    )
    return [e.entry_id for e in response.subjects[0].entries]


def _subject_entry(daemon: RunningDaemon, subject: str, entry_id: str) -> pb.ListEntry:
    found = daemon.registry.GetSubject(reg.GetSubjectRequest(id=subject), timeout=10)
    (entry,) = [e for e in found.entries if e.entry_id == entry_id]
    return entry


def _admin_payloads(db_url: str) -> list[tuple[int, dict[str, object]]]:
    database = Database(db_url)
    try:
        return [
            (r.seq, json.loads(r.payload))
            for r in LedgerRepository(database).iter_records()
            if r.kind == "admin"
        ]
    finally:
        database.close()


def test_revocation_survives_reimport_and_reinstatement_is_explicit(
    daemon: RunningDaemon, db_url: str, tmp_path: Path
) -> None:
    """Revoke, re-import the same feed (CLI and RPC): still revoked and reported; reinstate: in force."""
    enterprise = factories.uscc()
    row = factories.entry_row("RV-1", enterprise, "serious_illegal_dishonest")
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    target = f"127.0.0.1:{daemon.port}"
    assert run_cli("import", "--rules", RULES, "--db", db_url, str(feed), workdir=tmp_path).returncode == 0
    assert run_cli("reload", "--target", target, workdir=tmp_path).returncode == 0
    assert _entries_hit(daemon, enterprise) == ["RV-1"]
    daemon.registry.RevokeEntry(
        reg.RevokeEntryRequest(
            entry_id="RV-1", reason="异议成立", kind="objection", document_no="嘉信异〔2026〕7号"
        ),
        timeout=10,
    )
    assert _entries_hit(daemon, enterprise) == []

    # The nightly feed still carries the entry: the CLI import keeps it revoked and says so.
    again = run_cli("import", "--rules", RULES, "--db", db_url, str(feed), workdir=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "kept revoked: 1 entries" in again.stdout, again.stdout
    assert "RV-1: revoked 20" in again.stdout and "document 嘉信异〔2026〕7号" in again.stdout, again.stdout
    assert run_cli("reload", "--target", target, workdir=tmp_path).returncode == 0
    assert _entries_hit(daemon, enterprise) == []
    # ... and so does UpsertEntries, which reports it in its response; the feed's fields still land.
    upserted = daemon.registry.UpsertEntries(
        reg.UpsertEntriesRequest(entries=[factories.entry_input({**row, "reason": "更正后的事由"})]),
        timeout=30,
    )
    assert upserted.kept_revoked == 1
    (kept,) = upserted.kept_revoked_entries
    assert (kept.entry_id, kept.revoke_document_no) == ("RV-1", "嘉信异〔2026〕7号")
    assert kept.revoke_kind == "objection"
    assert kept.revoked_at.seconds > 0
    assert _entries_hit(daemon, enterprise) == []
    entry = _subject_entry(daemon, enterprise, "RV-1")
    assert (entry.reason, entry.revoke_reason) == ("更正后的事由", "异议成立")

    # A second revocation is refused naming the first, which stays as it was.
    with pytest.raises(grpc.RpcError) as caught:
        daemon.registry.RevokeEntry(
            reg.RevokeEntryRequest(
                entry_id="RV-1", reason="另一理由", kind="objection", document_no="OTHER-1"
            ),
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "already revoked" in (caught.value.details() or "")
    assert "嘉信异〔2026〕7号" in (caught.value.details() or "")
    entry = _subject_entry(daemon, enterprise, "RV-1")
    assert (entry.revoke_reason, entry.revoke_document_no) == ("异议成立", "嘉信异〔2026〕7号")

    # Reinstatement: bad input, unknown entry, then the act itself through the CLI.
    with pytest.raises(grpc.RpcError) as caught:
        daemon.registry.ReinstateEntry(reg.ReinstateEntryRequest(entry_id="RV-1"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "reason: required" in (caught.value.details() or "")
    with pytest.raises(grpc.RpcError) as caught:
        daemon.registry.ReinstateEntry(
            reg.ReinstateEntryRequest(entry_id="NOPE", reason="r", document_no="d"), timeout=10
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    done = run_cli(
        "reinstate",
        "RV-1",
        "--document",
        "嘉信复〔2026〕9号",
        "--reason",
        "复核撤销异议决定",
        "--target",
        target,
        workdir=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "reinstated RV-1" in done.stdout and "嘉信异〔2026〕7号" in done.stdout, done.stdout
    assert _entries_hit(daemon, enterprise) == ["RV-1"]
    entry = _subject_entry(daemon, enterprise, "RV-1")
    assert not entry.HasField("revoked_at")
    assert (entry.reinstate_reason, entry.reinstate_document_no) == ("复核撤销异议决定", "嘉信复〔2026〕9号")
    assert entry.reinstated_at.seconds > 0 and entry.reinstated_revocation_at.seconds > 0
    assert entry.reinstated_revocation_document_no == "嘉信异〔2026〕7号"
    # Reinstating an entry that is not revoked is refused (CLI exit 2, FAILED_PRECONDITION).
    twice = run_cli(
        "reinstate", "RV-1", "--document", "X", "--reason", "Y", "--target", target, workdir=tmp_path
    )
    assert twice.returncode == 2 and "FAILED_PRECONDITION" in twice.stderr and "not revoked" in twice.stderr

    # Every act is in the ledger with who and why, and the table matches the records' digests.
    from checkd.evidence.entry_audit import entry_problems

    payloads = _admin_payloads(db_url)
    actions = [p["action"] for _, p in payloads if p["action"] != "reload"]
    assert actions == ["import", "revoke", "import", "upsert", "reinstate"], actions
    reinstated = payloads[-1][1]
    assert reinstated["reason"] == "复核撤销异议决定" and reinstated["document_no"] == "嘉信复〔2026〕9号"
    assert str(reinstated["caller"]).startswith("ipv4:127.0.0.1")
    assert [p["kept_revoked"] for _, p in payloads if p["action"] in ("import", "upsert")] == [
        [],
        ["RV-1"],
        ["RV-1"],
    ]
    database = Database(db_url)
    try:
        assert entry_problems(EntryRepository(database).iter_all(), payloads) == []
    finally:
        database.close()
    verified = run_cli("ledger", "verify", "--db", db_url, workdir=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_entry_problems_name_an_entry_edited_outside_the_registry(daemon: RunningDaemon, db_url: str) -> None:
    """An entry row changed behind the ledger's back, or one with no record, is reported by entry_problems."""
    from checkd.evidence.entry_audit import entry_problems

    enterprise = factories.uscc()
    daemon.registry.UpsertEntries(
        reg.UpsertEntriesRequest(
            entries=[
                factories.entry_input(factories.entry_row(entry_id, enterprise, "serious_illegal_dishonest"))
                for entry_id in ("EP-1", "EP-2")
            ]
        ),
        timeout=30,
    )
    payloads = _admin_payloads(db_url)
    database = Database(db_url)
    try:
        assert entry_problems(EntryRepository(database).iter_all(), payloads) == []
        with database.engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE list_entries SET revoked_at = NULL, severity = 'x' WHERE entry_id = 'EP-1'"
            )
        problems = entry_problems(EntryRepository(database).iter_all(), payloads)
        assert len(problems) == 1, problems
        assert problems[0].startswith("entry EP-1: differs from admin record"), problems
        # Records naming a missing entry, and entries no record names.
        problems = entry_problems(
            [e for e in EntryRepository(database).iter_all() if e.entry_id != "EP-2"],
            [(seq, p) for seq, p in payloads if p["action"] != "upsert"] + payloads,
        )
        assert any("EP-2: named by admin record" in p for p in problems), problems
        assert sorted(entry_problems(EntryRepository(database).iter_all(), [])) == [
            "entry EP-1: no admin record names it (changed outside the audited registry path)",
            "entry EP-2: no admin record names it (changed outside the audited registry path)",
        ]
    finally:
        database.close()
