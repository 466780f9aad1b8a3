"""Importing lists from files and swapping the index under load, through the CLI and the real daemon."""

from __future__ import annotations

import csv
import json
import threading
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from tests import factories
from tests.daemon import ROOT, RunningDaemon, run_cli, start_daemon

DEPT, SCENE = "market_regulation", "administrative_licensing"
RULES = str(ROOT / "rules")


def _check(daemon: RunningDaemon, *ids: str) -> pb.CheckResponse:
    request = pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=i) for i in ids])
    response: pb.CheckResponse = daemon.check.Check(request, timeout=10)
    return response


def _write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def test_bad_import_changes_nothing_and_names_every_bad_row(
    daemon: RunningDaemon, db_url: str, tmp_path: Path
) -> None:
    """A file with bad rows is refused whole; every bad row is printed with its line and reason."""
    good, person = factories.uscc(), factories.resident_id()
    rows = [
        factories.entry_row("I-1", good, "serious_illegal_dishonest"),
        factories.entry_row("I-2", good[:-1] + ("1" if good[-1] != "1" else "2"), "red_list"),
        factories.entry_row("I-3", good, "no_such_list"),
        factories.entry_row("I-4", good, "red_list", start="2025-05-01", end="2025-01-01"),
        {**factories.entry_row("I-5", person, "judgment_defaulter"), "authority": ""},
    ]
    bad_file = str(_write_jsonl(tmp_path / "bad.jsonl", rows))
    result = run_cli("import", "--rules", RULES, "--db", db_url, bad_file, workdir=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("bad.jsonl:2: subject_id: bad check character") for line in lines), lines
    assert any(line.startswith("bad.jsonl:3: list: unknown list 'no_such_list'") for line in lines), lines
    assert any(line.startswith("bad.jsonl:4: end: 2025-01-01 is before start") for line in lines), lines
    assert any(line.startswith("bad.jsonl:5: authority: required") for line in lines), lines
    assert "nothing was imported" in result.stderr
    daemon.registry.Reload(reg.ReloadRequest(), timeout=30)
    assert not _check(daemon, good).subjects[0].entries
    assert person not in result.stderr + result.stdout


def test_csv_import_is_picked_up_by_the_running_daemon(
    daemon: RunningDaemon, db_url: str, tmp_path: Path
) -> None:
    """A good CSV import lands; the daemon sees it after `checkd reload` without a restart."""
    enterprise, representative = factories.uscc(), factories.resident_id()
    path = tmp_path / "entries.csv"
    row = factories.entry_row(
        "C-1",
        enterprise,
        "serious_illegal_dishonest",
        legal_representative_id=representative,
        legal_representative_name="王芳",
    )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    result = run_cli("import", "--rules", RULES, "--db", db_url, str(path), workdir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "imported 1 entries" in result.stdout
    reload = run_cli("reload", "--target", f"127.0.0.1:{daemon.port}", workdir=tmp_path)
    assert reload.returncode == 0, reload.stderr
    subjects = _check(daemon, enterprise, representative).subjects
    assert [e.entry_id for e in subjects[0].entries] == ["C-1"]
    assert [e.matched_by for e in subjects[1].entries] == ["related:legal_representative"]


def test_daemon_polls_for_data_imported_by_another_process(
    daemon: RunningDaemon, db_url: str, tmp_path: Path
) -> None:
    """Without any reload call, the daemon notices the new data version within its poll interval."""
    enterprise = factories.uscc()
    rows = [factories.entry_row("P-1", enterprise, "red_list", end="2027-06-30")]
    path = _write_jsonl(tmp_path / "p.jsonl", rows)
    assert run_cli("import", "--rules", RULES, "--db", db_url, str(path), workdir=tmp_path).returncode == 0
    for _ in range(100):
        if _check(daemon, enterprise).subjects[0].entries:
            break
        threading.Event().wait(0.1)
    assert [e.entry_id for e in _check(daemon, enterprise).subjects[0].entries] == ["P-1"]


def test_reload_swaps_atomically_under_concurrent_checks(daemon: RunningDaemon) -> None:
    """Two subjects listed and unlisted together: no check ever sees one listed and the other not."""
    first, second = factories.uscc(), factories.uscc()
    stop = threading.Event()
    mixed: list[str] = []
    seen_versions: set[str] = set()
    errors: list[BaseException] = []

    def hammer() -> None:
        try:
            while not stop.is_set():
                response = _check(daemon, first, second)
                listed = [bool(s.entries) for s in response.subjects]
                seen_versions.add(response.data_version)
                if listed[0] != listed[1]:
                    mixed.append(response.data_version)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(12):
            end = "" if round_ % 2 == 0 else "2020-12-31"  # listed now / expired long ago
            start = "2025-01-01" if not end else "2020-01-01"
            daemon.registry.UpsertEntries(
                reg.UpsertEntriesRequest(
                    entries=[
                        reg.EntryInput(
                            **factories.entry_row(
                                "A-1", first, "serious_illegal_dishonest", start=start, end=end
                            )
                        ),
                        reg.EntryInput(
                            **factories.entry_row(
                                "A-2", second, "serious_illegal_dishonest", start=start, end=end
                            )
                        ),
                    ]
                ),
                timeout=30,
            )
            daemon.registry.Reload(reg.ReloadRequest(), timeout=30)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert not errors, errors
    assert not mixed, f"a check saw a half-applied change in versions {sorted(set(mixed))}"
    assert len(seen_versions) >= 3, "the checks ran across several swaps"


def test_health_and_reflection(daemon: RunningDaemon) -> None:
    """Health is SERVING per service name; reflection lists the public services."""
    for service in ("", "checkd.v1.CheckService", "checkd.v1.RegistryService"):
        status = daemon.health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
        assert status == health_pb2.HealthCheckResponse.SERVING, service
    stub = reflection_pb2_grpc.ServerReflectionStub(daemon.channel)
    (answer,) = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
    )
    names = {s.name for s in answer.list_services_response.service}
    assert {"checkd.v1.CheckService", "checkd.v1.RegistryService", "grpc.health.v1.Health"} <= names


def test_embedded_default_serves_the_bundled_sample(tmp_path: Path) -> None:
    """`checkd serve` on an empty SQLite file seeds the sample lists; the CLI check prints JSON."""
    daemon = start_daemon(f"sqlite:///{tmp_path / 'var' / 'checkd.db'}", tmp_path, sample=True)
    try:
        result = run_cli(
            "check",
            "--target",
            f"127.0.0.1:{daemon.port}",
            "--department",
            "public_resource_trading",
            "--scene",
            "public_resource_trading",
            "--matter",
            "public_resource_trading.construction_bidding",
            "--subject",
            "91330402MA2B8K1C34",
            workdir=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert answer["verdict"] == "VERDICT_PROHIBIT"
        assert answer["subjects"][0]["entries"][0]["entryId"] == "S0001"
        bad = run_cli(
            "check",
            "--target",
            f"127.0.0.1:{daemon.port}",
            "--department",
            DEPT,
            "--scene",
            SCENE,
            "--subject",
            "91330402MA2B8K1C35",
            workdir=tmp_path,
        )
        assert bad.returncode == 1 and "subjects[0].id" in bad.stderr
    finally:
        assert daemon.stop() == 0


def test_sigterm_refuses_new_calls_and_exits_cleanly(tmp_path: Path) -> None:
    """After SIGTERM the daemon flushes and exits 0; a later call is refused as UNAVAILABLE."""
    daemon = start_daemon(f"sqlite:///{tmp_path / 'c.db'}", tmp_path)
    port = daemon.port
    assert daemon.stop() == 0
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_stub(channel)
        try:
            stub.Check(
                pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=factories.uscc())]),
                timeout=2,
            )
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE
        else:
            raise AssertionError("a stopped daemon answered")


def pb_stub(channel: grpc.Channel) -> object:
    """A CheckService stub on a channel."""
    from checkd.api.v1 import check_pb2_grpc

    return check_pb2_grpc.CheckServiceStub(channel)


def test_cli_import_is_audited_and_the_chain_stays_whole(
    daemon: RunningDaemon, db_url: str, tmp_path: Path
) -> None:
    """The CLI records its import in the ledger beside a running daemon; both keep one valid chain."""
    enterprise = factories.uscc()
    before = _check(daemon, enterprise)
    path = _write_jsonl(
        tmp_path / "audit.jsonl", [factories.entry_row("AU-1", enterprise, "red_list", end="2027-06-30")]
    )
    assert run_cli("import", "--rules", RULES, "--db", db_url, str(path), workdir=tmp_path).returncode == 0
    after = _check(daemon, enterprise)  # the daemon's writer must step over the CLI's record
    assert daemon.check.GetCheck(pb.GetCheckRequest(check_id=after.check_id), timeout=10).response == after
    assert before.check_id != after.check_id
    verified = run_cli("ledger", "verify", "--db", db_url, workdir=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    from checkd.store import Database, LedgerRepository

    database = Database(db_url)
    try:
        admin = [r.payload for r in LedgerRepository(database).iter_records() if r.kind == "admin"]
    finally:
        database.close()
    assert any(b'"action": "import"' in p and b'"caller": "cli:' in p for p in admin), admin
