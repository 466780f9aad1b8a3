"""Feed files as the credit platform sends them, through `checkd import` and the real daemon.

GBK/GB18030 and BOM-prefixed CSV from Excel, .xlsx workbooks, a wrong header, an undecodable
file, and `--sync` of a complete list against the credit office's revocations.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.store import Database, LedgerRepository
from tests import factories
from tests.daemon import ROOT, RunningDaemon, run_cli

DEPT, SCENE = "market_regulation", "administrative_licensing"
RULES = str(ROOT / "rules")
SERIOUS = "serious_illegal_dishonest"
NAME = "嘉兴市南湖区某某贸易有限公司"  # GBK-encodable, so a GBK file carries it


def _rows(prefix: str, count: int, list_id: str = SERIOUS, **extra: Any) -> list[dict[str, Any]]:
    return [
        factories.entry_row(f"{prefix}-{i}", factories.uscc(), list_id, subject_name=NAME, **extra)
        for i in range(1, count + 1)
    ]


def _write_csv(
    path: Path, rows: list[dict[str, Any]], encoding: str, columns: list[str] | None = None
) -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=columns or list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _import(db_url: str, tmp_path: Path, *args: str) -> Any:
    return run_cli("import", "--rules", RULES, "--db", db_url, *args, workdir=tmp_path)


def _hits(daemon: RunningDaemon, subject: str) -> list[str]:
    """Entry ids in force for the subject, after the daemon reloaded the store."""
    daemon.registry.Reload(reg.ReloadRequest(), timeout=60)
    request = pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=subject)])
    response = daemon.check.Check(request, timeout=10)
    return [e.entry_id for e in response.subjects[0].entries]


def _ledger_state(db_url: str) -> tuple[int, str]:
    database = Database(db_url)
    try:
        return LedgerRepository(database).head()
    finally:
        database.close()


def test_gbk_and_bom_csv_are_detected_and_a_forced_encoding_wins(
    daemon: RunningDaemon, db_url: str, tmp_path: Path
) -> None:
    """Excel's GBK 'CSV' and a UTF-8 file with a BOM import as they are; the names arrive intact."""
    gbk_rows, bom_rows = _rows("GBK", 3), _rows("BOM", 2)
    gbk = _write_csv(tmp_path / "gbk.csv", gbk_rows, "gbk")
    assert NAME.encode("gbk") in gbk.read_bytes()  # really GBK bytes, not UTF-8
    bom = _write_csv(tmp_path / "bom.csv", bom_rows, "utf-8-sig")
    for path, count in ((gbk, 3), (bom, 2)):
        result = _import(db_url, tmp_path, str(path))
        assert result.returncode == 0, result.stderr
        assert f"imported {count} entries" in result.stdout and "rows/s" in result.stdout
    assert _hits(daemon, gbk_rows[0]["subject_id"]) == ["GBK-1"]
    assert _hits(daemon, bom_rows[1]["subject_id"]) == ["BOM-2"]
    subject = daemon.registry.GetSubject(reg.GetSubjectRequest(id=gbk_rows[0]["subject_id"]), timeout=10)
    assert subject.entries[0].subject_name == NAME

    # Forced: the same GBK file read as GB18030 (its superset) imports; as UTF-8 it is refused cleanly.
    forced = _import(db_url, tmp_path, "--encoding", "gb18030", str(gbk))
    assert forced.returncode == 0, forced.stderr
    wrong = _import(db_url, tmp_path, "--encoding", "utf-8", str(gbk))
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("checkd import: gbk.csv: encoding: not valid utf-8"), wrong.stderr
    unknown = _import(db_url, tmp_path, "--encoding", "klingon", str(gbk))
    assert unknown.returncode == 1 and "--encoding: unknown encoding 'klingon'" in unknown.stderr


def test_an_undecodable_file_is_one_clear_error_and_imports_nothing(db_url: str, tmp_path: Path) -> None:
    """Bytes valid in neither UTF-8 nor GB18030: `FILE: encoding ...`, no traceback, nothing stored."""
    good = _write_csv(tmp_path / "good.csv", _rows("OK", 2), "utf-8")
    bad = tmp_path / "latin.csv"
    bad.write_bytes(good.read_bytes().replace(NAME.encode(), b"\x80\xff caf\xe9"))
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(good.read_text(encoding="utf-8").encode("utf-16"))
    before = _ledger_state(db_url)
    for path, expected in ((bad, "neither UTF-8 nor GB18030/GBK"), (utf16, "UTF-16")):
        result = _import(db_url, tmp_path, str(good), str(path))  # the good file first: it is undone too
        assert result.returncode == 1, result.stdout
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"checkd import: {path.name}: encoding: ") and expected in line, line
        assert "Traceback" not in result.stderr
    assert _ledger_state(db_url) == before
    stats = run_cli("ledger", "verify", "--db", db_url, workdir=tmp_path)
    assert stats.returncode == 0, stats.stderr


def test_a_missing_column_is_one_line_naming_it(db_url: str, tmp_path: Path) -> None:
    """A header without `reason` (and `level`): one line for the file, not one per row."""
    rows = _rows("MC", 50)
    columns = [c for c in rows[0] if c not in ("reason", "level")]
    path = _write_csv(tmp_path / "nocol.csv", rows, "utf-8", columns)
    result = _import(db_url, tmp_path, str(path))
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["checkd import: nocol.csv: header: missing columns level, reason"]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(columns)
    book.save(tmp_path / "nocol.xlsx")
    result = _import(db_url, tmp_path, str(tmp_path / "nocol.xlsx"))
    assert result.stderr.splitlines() == ["checkd import: nocol.xlsx: header: missing columns level, reason"]


def test_xlsx_made_by_openpyxl_imports_with_dates_and_text_cells(
    daemon: RunningDaemon, db_url: str, tmp_path: Path
) -> None:
    """A workbook with real date cells and a numeric-looking id column imports like the CSV would."""
    import datetime as dt

    rows = _rows("XL", 3)
    columns = list(rows[0])
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "名单"
    sheet.append(columns)
    for row in rows:
        values: list[Any] = [row[c] for c in columns]
        values[columns.index("start")] = dt.datetime(2025, 1, 1)  # Excel keeps dates as date cells
        sheet.append(values)
    sheet.append([None] * len(columns))  # the empty rows a sheet's used range often ends with
    path = tmp_path / "feed.xlsx"
    book.save(path)
    result = _import(db_url, tmp_path, str(path))
    assert result.returncode == 0, result.stderr
    assert "imported 3 entries (serious_illegal_dishonest: 3)" in result.stdout
    assert _hits(daemon, rows[2]["subject_id"]) == ["XL-3"]
    subject = daemon.registry.GetSubject(reg.GetSubjectRequest(id=rows[2]["subject_id"]), timeout=10)
    assert subject.entries[0].start == "2025-01-01"

    # A bad cell is named by its sheet row, and nothing of the workbook is imported.
    sheet.append([*(rows[0][c] for c in columns[:-1]), "no-such-severity"])
    sheet["A6"] = "XL-4"
    sheet["B6"] = factories.uscc()
    sheet["H6"] = "2025-02-30"
    book.save(path)
    before = _ledger_state(db_url)
    refused = _import(db_url, tmp_path, str(path))
    assert refused.returncode == 1
    assert "feed.xlsx:6: start: '2025-02-30' is not an ISO date" in refused.stderr, refused.stderr
    assert _ledger_state(db_url) == before


def test_sync_withdraws_what_the_source_dropped_and_keeps_office_revocations(
    daemon: RunningDaemon, db_url: str, tmp_path: Path
) -> None:
    """--sync: entries the complete list no longer holds are withdrawn and reported; office acts stay."""
    rows = _rows("SY", 4)
    other = _rows("OT", 1, list_id="red_list", end="2027-06-30")  # another list: untouched by the sync
    first = tmp_path / "full.jsonl"
    first.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows + other), encoding="utf-8"
    )
    assert _import(db_url, tmp_path, str(first)).returncode == 0
    # The credit office repairs SY-2 by an upheld objection.
    daemon.registry.RevokeEntry(
        reg.RevokeEntryRequest(
            entry_id="SY-2", reason="异议成立", kind="objection", document_no="嘉信异〔2026〕9号"
        ),
        timeout=10,
    )
    # Tonight's complete list drops SY-3 and SY-2 and still carries SY-1 and SY-4.
    tonight = _write_csv(tmp_path / "tonight.csv", [rows[0], rows[3]], "gbk")
    result = _import(db_url, tmp_path, "--sync", SERIOUS, str(tonight))
    assert result.returncode == 0, result.stderr
    assert "imported 2 entries" in result.stdout
    assert f"withdrawn: 1 entries no longer in the source's list {SERIOUS}\n  SY-3\n" in result.stdout

    assert _hits(daemon, rows[2]["subject_id"]) == []  # withdrawn: a check no longer hits
    assert _hits(daemon, rows[0]["subject_id"]) == ["SY-1"]
    assert _hits(daemon, other[0]["subject_id"]) == ["OT-1"]
    withdrawn = daemon.registry.GetSubject(reg.GetSubjectRequest(id=rows[2]["subject_id"]), timeout=10)
    assert withdrawn.entries[0].revoke_kind == "withdrawn"
    repaired = daemon.registry.GetSubject(reg.GetSubjectRequest(id=rows[1]["subject_id"]), timeout=10)
    assert (repaired.entries[0].revoke_kind, repaired.entries[0].revoke_document_no) == (
        "objection",
        "嘉信异〔2026〕9号",
    )

    # The office's objection survives the feed listing SY-2 again; the source's withdrawal does not.
    again = _write_csv(tmp_path / "again.csv", rows, "utf-8")
    result = _import(db_url, tmp_path, "--sync", SERIOUS, str(again))
    assert result.returncode == 0, result.stderr
    assert "kept revoked: 1 entries" in result.stdout and "SY-2: revoked" in result.stdout
    assert "withdrawn: 0 entries" in result.stdout
    assert _hits(daemon, rows[1]["subject_id"]) == []
    assert _hits(daemon, rows[2]["subject_id"]) == ["SY-3"]

    # Every change is in the ledger: the withdrawal record names the entry and the chain verifies.
    verify = run_cli("ledger", "verify", "--db", db_url, workdir=tmp_path)
    assert verify.returncode == 0 and "derived rows agree" in verify.stdout, verify.stdout + verify.stderr
    database = Database(db_url)
    try:
        payloads = [
            json.loads(r.payload) for r in LedgerRepository(database).iter_records() if r.kind == "admin"
        ]
    finally:
        database.close()
    (withdrawal,) = [p for p in payloads if p.get("action") == "withdraw"]
    assert list(withdrawal["entries"]) == ["SY-3"] and withdrawal["kind"] == "withdrawn"


def test_a_failed_sync_changes_nothing(daemon: RunningDaemon, db_url: str, tmp_path: Path) -> None:
    """A bad row late in the file, or a row of another list: nothing stored, nothing withdrawn."""
    rows = _rows("FS", 3)
    full = _write_csv(tmp_path / "full.csv", rows, "utf-8")
    assert _import(db_url, tmp_path, str(full)).returncode == 0
    before = _ledger_state(db_url)
    late_bad = [rows[0], {**rows[1], "start": "not-a-date"}]
    mixed = [rows[0], _rows("RL", 1, list_id="red_list", end="2027-06-30")[0]]
    for name, content, reason in (
        ("late_bad.csv", late_bad, "late_bad.csv:3: start: 'not-a-date' is not an ISO date"),
        ("mixed.csv", mixed, "mixed.csv:3: list: 'red_list' is not the list being synced"),
    ):
        path = _write_csv(tmp_path / name, content, "utf-8")
        result = _import(db_url, tmp_path, "--sync", SERIOUS, str(path))
        assert result.returncode == 1, result.stdout
        assert reason in result.stderr and "nothing was imported" in result.stderr, result.stderr
    assert _ledger_state(db_url) == before
    assert [_hits(daemon, r["subject_id"]) for r in rows] == [["FS-1"], ["FS-2"], ["FS-3"]]
    unknown = _import(db_url, tmp_path, "--sync", "no_such_list", str(full))
    assert unknown.returncode == 1 and "--sync: unknown list 'no_such_list'" in unknown.stderr


def test_a_repeated_entry_id_across_chunks_is_refused(db_url: str, tmp_path: Path) -> None:
    """The same entry twice, thousands of rows apart (different chunks): refused, nothing stored."""
    rows = _rows("RP", 5003)
    rows.append({**rows[2], "reason": "a second row for the same entry"})
    path = tmp_path / "repeat.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    before = _ledger_state(db_url)
    result = _import(db_url, tmp_path, str(path))
    assert result.returncode == 1, result.stdout
    assert "repeat.jsonl:5004: entry_id: 'RP-3' repeats an earlier row" in result.stderr, result.stderr
    assert _ledger_state(db_url) == before


def _on_terminal(*args: str, workdir: Path) -> str:
    """Run `checkd` on a pseudo-terminal of 120 columns; everything it wrote (stdout and stderr)."""
    import fcntl
    import os
    import pty
    import struct
    import sys
    import termios

    from tests.daemon import TEST_SECRET

    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of a real size, as an operator's shell has
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.chdir(workdir)
        os.environ["CHECKD_SECRET"] = TEST_SECRET
        os.execv(sys.executable, [sys.executable, "-m", "checkd", *args])
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode(errors="replace")


def test_a_progress_bar_on_a_terminal_and_none_in_a_pipe(db_url: str, tmp_path: Path) -> None:
    """On a terminal the import draws a bar with the rows read; through a pipe only the summary."""
    rows = _rows("PB", 2500)
    path = tmp_path / "bar.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    shown = _on_terminal("import", "--rules", RULES, "--db", db_url, str(path), workdir=tmp_path)
    assert "import: " in shown and "rows=2,000" in shown and "%|" in shown, shown[-2000:]
    assert "imported 2500 entries" in shown and "rows/s" in shown
    piped = _import(db_url, tmp_path, str(path))
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr
