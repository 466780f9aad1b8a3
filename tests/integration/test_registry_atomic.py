"""Registry changes commit with their audit record: kill -9 mid-change or a refused append leaves neither."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from pathlib import Path

import grpc
import pytest

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.store import Database, EntryRepository, LedgerRepository
from tests import factories
from tests.daemon import ROOT, RunningDaemon, run_cli, start_daemon

DEPT, SCENE = "market_regulation", "administrative_licensing"
RULES = str(ROOT / "rules")
KILL_ROUNDS = 10
ENTRY_ACTIONS = {"upsert", "import", "revoke", "reinstate"}


def _store_state(db_url: str) -> tuple[int, list[tuple[int, dict[str, object]]], list[object]]:
    """(data version, admin (seq, payload) records, entries) as stored."""
    database = Database(db_url)
    try:
        version = EntryRepository(database).data_version()
        admin = [
            (r.seq, json.loads(r.payload))
            for r in LedgerRepository(database).iter_records()
            if r.kind == "admin"
        ]
        return version, admin, list(EntryRepository(database).iter_all())
    finally:
        database.close()


def _assert_every_change_audited(db_url: str, tmp_path: Path, acknowledged: set[int], where: str) -> int:
    """Each data version has exactly one act recording it and vice versa; entries match the records."""
    version, admin, entries = _store_state(db_url)
    recorded = [
        int(str(p["data_version"]))
        for _, p in admin
        if p["action"] in ENTRY_ACTIONS and p.get("part", 1) == 1
    ]
    changed = set(range(1, version + 1))
    assert sorted(recorded) == sorted(changed), (
        f"{where}: data versions without their admin record: {sorted(changed - set(recorded))}; "
        f"records without their change: {sorted(set(recorded) - changed)}"
    )
    lost = acknowledged - set(recorded)
    assert not lost, f"{where}: acknowledged changes lost: {sorted(lost)}"
    from checkd.evidence.entry_audit import entry_problems

    assert entry_problems(entries, admin) == [], where  # type: ignore[arg-type]
    verified = run_cli("ledger", "verify", "--db", db_url, workdir=tmp_path)
    assert verified.returncode == 0, f"{where}: {verified.stdout}{verified.stderr}"
    return version


def _drive_registry(daemon: RunningDaemon, tag: str, stop: threading.Event, acknowledged: set[int]) -> None:
    """Upsert (new and known entries), revoke and reinstate until stopped or the daemon dies."""
    known: list[str] = []
    n = 0
    while not stop.is_set():
        n += 1
        rows = [
            factories.entry_row(f"{tag}-{n}-{i}", factories.uscc(), "serious_illegal_dishonest")
            for i in range(40)
        ]
        try:
            if known and n % 3 == 0:
                entry_id = known[n % len(known)]
                revoked = daemon.registry.RevokeEntry(
                    reg.RevokeEntryRequest(
                        entry_id=entry_id, reason="异议成立", document_no=f"DOC-{n}", kind="objection"
                    ),
                    timeout=10,
                )
                acknowledged.add(int(revoked.data_version.lstrip("d")))
                back = daemon.registry.ReinstateEntry(
                    reg.ReinstateEntryRequest(entry_id=entry_id, reason="复核", document_no=f"RE-{n}"),
                    timeout=10,
                )
                acknowledged.add(int(back.data_version.lstrip("d")))
            upserted = daemon.registry.UpsertEntries(
                reg.UpsertEntriesRequest(entries=[factories.entry_input(row) for row in rows]), timeout=10
            )
        except grpc.RpcError:
            return
        acknowledged.add(int(upserted.data_version.lstrip("d")))
        known.extend(row["entry_id"] for row in rows[:2])


def test_kill_during_registry_changes_leaves_no_unaudited_change(db_url: str, tmp_path: Path) -> None:
    """SIGKILL at 10 random moments of a stream of upserts, revocations and reinstatements: never half."""
    rng = random.Random(20261201)
    daemon = start_daemon(db_url, tmp_path)
    versions = 0
    for round_ in range(KILL_ROUNDS):
        acknowledged: set[int] = set()
        stop = threading.Event()
        driver = threading.Thread(target=_drive_registry, args=(daemon, f"k{round_}", stop, acknowledged))
        driver.start()
        time.sleep(rng.uniform(0.2, 0.8))
        os.kill(daemon.process.pid, signal.SIGKILL)
        daemon.process.wait(10)
        stop.set()
        driver.join(20)
        daemon.channel.close()
        versions = _assert_every_change_audited(db_url, tmp_path, acknowledged, f"round {round_}")
        daemon = start_daemon(db_url, tmp_path)
    assert daemon.stop() == 0
    assert versions > KILL_ROUNDS, "the kills landed while changes were flowing"
    print(f"{KILL_ROUNDS} kills during registry changes: {versions} data versions, each with its record")


def _refuse_admin_records(db_url: str, on: bool) -> None:
    """Make the store refuse ledger admin records (a trigger), as a full or failing store would."""
    database = Database(db_url)
    try:
        with database.engine.begin() as connection:
            if database.is_sqlite:
                connection.exec_driver_sql(
                    "CREATE TRIGGER refuse_admin BEFORE INSERT ON ledger WHEN NEW.kind = 'admin' "
                    "BEGIN SELECT RAISE(ABORT, 'admin records refused by the test'); END"
                    if on
                    else "DROP TRIGGER refuse_admin"
                )
            elif on:
                connection.exec_driver_sql(
                    "CREATE FUNCTION refuse_admin() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'admin records refused by the test'; END $$"
                )
                connection.exec_driver_sql(
                    "CREATE TRIGGER refuse_admin BEFORE INSERT ON ledger FOR EACH ROW "
                    "WHEN (NEW.kind = 'admin') EXECUTE FUNCTION refuse_admin()"
                )
            else:
                connection.exec_driver_sql("DROP TRIGGER refuse_admin ON ledger")
                connection.exec_driver_sql("DROP FUNCTION refuse_admin()")
    finally:
        database.close()


def _entries(daemon: RunningDaemon, subject: str) -> list[tuple[str, bool, str]]:
    """(entry id, revoked, reason) of every stored entry about a subject."""
    found = daemon.registry.GetSubject(reg.GetSubjectRequest(id=subject), timeout=10)
    return [(e.entry_id, e.HasField("revoked_at"), e.reason) for e in found.entries]


def test_a_refused_audit_record_leaves_the_data_unchanged(
    daemon: RunningDaemon, db_url: str, tmp_path: Path
) -> None:
    """Upsert, revoke, reinstate and `checkd import` whose admin record cannot be written change nothing."""
    known, fresh, lifted = factories.uscc(), factories.uscc(), factories.uscc()
    daemon.registry.UpsertEntries(
        reg.UpsertEntriesRequest(
            entries=[
                factories.entry_input(factories.entry_row("AT-1", known, "serious_illegal_dishonest")),
                factories.entry_input(factories.entry_row("AT-2", lifted, "serious_illegal_dishonest")),
            ]
        ),
        timeout=30,
    )
    daemon.registry.RevokeEntry(
        reg.RevokeEntryRequest(entry_id="AT-2", reason="异议成立", document_no="D-2", kind="objection"),
        timeout=10,
    )
    before = _store_state(db_url)
    _refuse_admin_records(db_url, on=True)
    try:
        calls = [
            lambda: daemon.registry.UpsertEntries(
                reg.UpsertEntriesRequest(
                    entries=[
                        factories.entry_input(
                            factories.entry_row("AT-1", known, "serious_illegal_dishonest", reason="changed")
                        ),
                        factories.entry_input(
                            factories.entry_row("AT-3", fresh, "serious_illegal_dishonest")
                        ),
                    ]
                ),
                timeout=30,
            ),
            lambda: daemon.registry.RevokeEntry(
                reg.RevokeEntryRequest(
                    entry_id="AT-1", reason="异议成立", document_no="D-1", kind="objection"
                ),
                timeout=10,
            ),
            lambda: daemon.registry.ReinstateEntry(
                reg.ReinstateEntryRequest(entry_id="AT-2", reason="复核", document_no="R-2"), timeout=10
            ),
        ]
        for call in calls:
            with pytest.raises(grpc.RpcError) as caught:
                call()
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, caught.value.details()
        feed = tmp_path / "feed.jsonl"
        feed.write_text(json.dumps(factories.entry_row("AT-4", fresh, "red_list")) + "\n", encoding="utf-8")
        imported = run_cli("import", "--rules", RULES, "--db", db_url, str(feed), workdir=tmp_path)
        assert imported.returncode == 2, imported.stdout + imported.stderr
        # Nothing moved: not in the store, not in the daemon's index.
        assert _store_state(db_url) == before
        assert _entries(daemon, known) == [("AT-1", False, "test fixture")]
        assert _entries(daemon, fresh) == []
        assert _entries(daemon, lifted) == [("AT-2", True, "test fixture")]
        check = daemon.check.Check(
            pb.CheckRequest(
                department=DEPT,
                scene=SCENE,
                subjects=[pb.Subject(id=known), pb.Subject(id=fresh), pb.Subject(id=lifted)],
            ),
            timeout=10,
        )
        assert [[e.entry_id for e in s.entries] for s in check.subjects] == [["AT-1"], [], []]
    finally:
        _refuse_admin_records(db_url, on=False)
    # Once the store takes records again, the same change goes through whole.
    daemon.registry.ReinstateEntry(
        reg.ReinstateEntryRequest(entry_id="AT-2", reason="复核", document_no="R-2"), timeout=10
    )
    assert _entries(daemon, lifted) == [("AT-2", False, "test fixture")]
    _assert_every_change_audited(db_url, tmp_path, set(), "after recovery")
