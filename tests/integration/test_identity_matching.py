"""Identity and matching through the real daemon: every identifier form, cross-walks, names, roles."""

from __future__ import annotations

import csv
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.subjects.ids import business_reg_check_digit, mask, resident_15_to_18, resident_check_char
from tests import factories
from tests.daemon import ROOT, RunningDaemon, run_cli, start_daemon
from tests.integration.test_check_loop import violations
from tests.unit.test_ids import dirty, foreigner_pr_ids, hmt_permits, resident_ids, usccs

DEPT, SCENE = "market_regulation", "administrative_licensing"
# Lists that can hold each kind of subject (see rules/lists.yaml).
PERSON_LIST, ORG_LIST = "judgment_defaulter", "commitment_breach"
LIST_FOR_ORG = "serious_illegal_dishonest"  # an enterprise list whose default period needs no start fix-up


@pytest.fixture(scope="module")
def shared_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    """One daemon on SQLite for the property tests (hypothesis runs many examples against it)."""
    workdir = tmp_path_factory.mktemp("identity")
    running = start_daemon(f"sqlite:///{workdir / 'checkd.db'}", workdir)
    yield running
    assert running.stop() == 0


def _upsert(daemon: RunningDaemon, *rows: dict[str, str]) -> None:
    for row in rows:  # commitment breaches are published for 12 months by default: keep them current
        if row["list"] == ORG_LIST:
            row["start"] = "2026-06-01"
    daemon.registry.UpsertEntries(
        reg.UpsertEntriesRequest(entries=[factories.entry_input(r) for r in rows]), timeout=30
    )


def _subject(daemon: RunningDaemon, raw: str, **fields: object) -> pb.SubjectResult:
    request = pb.CheckRequest(department=DEPT, scene=SCENE, subjects=[pb.Subject(id=raw, **fields)])
    response: pb.CheckResponse = daemon.check.Check(request, timeout=10)
    return response.subjects[0]


_counter = iter(range(10**9))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_identifier_form_finds_its_entry_however_it_is_written(
    shared_daemon: RunningDaemon, data: st.DataObject
) -> None:
    """Valid identifiers of every kind, listed in one form and asked in a dirty rendering, always match."""
    strategy = st.one_of(usccs(), resident_ids(), hmt_permits(), foreigner_pr_ids())
    identifier = data.draw(strategy)
    entry_id = f"H-{next(_counter)}"
    is_person = len(identifier) == 18 and identifier[:17].isdigit()
    list_id = PERSON_LIST if is_person else ORG_LIST
    subject_type = "person" if is_person else ""
    try:
        _upsert(shared_daemon, factories.entry_row(entry_id, identifier, list_id, subject_type=subject_type))
    except grpc.RpcError as exc:  # an all-digit USCC reads as a person: the list then refuses it
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
        return
    rendering = data.draw(dirty(identifier))
    result = _subject(shared_daemon, rendering)
    assert entry_id in [e.entry_id for e in result.entries], rendering


def test_organisation_code_and_uscc_find_each_other(daemon: RunningDaemon) -> None:
    """An entry under a USCC is found by its organisation code (with or without hyphen), and the reverse."""
    by_uscc, by_code = factories.uscc(), factories.uscc()
    code = by_code[8:17]
    _upsert(
        daemon,
        factories.entry_row("X-USCC", by_uscc, ORG_LIST),
        factories.entry_row("X-CODE", code, ORG_LIST, subject_type="enterprise"),
    )
    hyphenated = f"{by_uscc[8:16]}-{by_uscc[16]}"
    found = _subject(daemon, hyphenated)
    assert [(e.entry_id, e.matched_by) for e in found.entries] == [("X-USCC", "org_code")]
    assert found.id_type == pb.ID_TYPE_ORG_CODE
    reverse = _subject(daemon, by_code)
    assert [(e.entry_id, e.matched_by) for e in reverse.entries] == [("X-CODE", "org_code")]


def test_legacy_forms_cross_walk(daemon: RunningDaemon) -> None:
    """A 15-digit identity number finds the 18-digit entry and the reverse; a registration number is a key."""
    first17 = "33040219800101" + "123"
    id18 = first17 + resident_check_char(first17)
    id15 = id18[:6] + id18[8:17]
    other18 = "330402198202020246"[:17]
    other18 += resident_check_char(other18)
    other15 = other18[:6] + other18[8:17]
    reg14 = "33040200012345"
    reg15 = reg14 + business_reg_check_digit(reg14)
    enterprise = factories.uscc()
    _upsert(
        daemon,
        factories.entry_row("L-18", id18, PERSON_LIST, subject_type="person"),
        factories.entry_row("L-15", other15, PERSON_LIST, subject_type="person", id_type="resident_id"),
        factories.entry_row("L-REG", enterprise, ORG_LIST, registration_no=reg15),
    )
    assert [e.entry_id for e in _subject(daemon, id15, id_type=pb.ID_TYPE_RESIDENT_ID).entries] == ["L-18"]
    assert [e.entry_id for e in _subject(daemon, other18).entries] == ["L-15"]
    found = _subject(daemon, reg15, id_type=pb.ID_TYPE_BUSINESS_REG_NO)
    assert [(e.entry_id, e.matched_by) for e in found.entries] == [("L-REG", "business_reg_no")]


def test_declared_subject_type_must_agree_with_the_identifier(daemon: RunningDaemon) -> None:
    """Declaring a person for a USCC is INVALID_ARGUMENT naming both types."""
    with pytest.raises(grpc.RpcError) as caught:
        _subject(daemon, factories.uscc(), subject_type=pb.SUBJECT_TYPE_PERSON)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "declared person" in caught.value.details() and "enterprise" in caught.value.details()
    agency = factories.uscc(prefix="11")
    assert _subject(daemon, agency).subject_type == pb.SUBJECT_TYPE_GOVERNMENT_AGENCY
    assert _subject(daemon, factories.uscc(prefix="12")).subject_type == pb.SUBJECT_TYPE_PUBLIC_INSTITUTION
    assert _subject(daemon, factories.uscc(prefix="51")).subject_type == pb.SUBJECT_TYPE_SOCIAL_ORGANISATION


def test_a_different_name_is_flagged_for_review_not_trusted(daemon: RunningDaemon) -> None:
    """Same identifier, materially different name: the answer says so and the verdict is at least review."""
    enterprise = factories.uscc()
    _upsert(
        daemon,
        factories.entry_row(
            "N-1", enterprise, "red_list", end="2027-06-30", subject_name="嘉兴市禾丰科技有限公司"
        ),
    )
    same = _subject(daemon, enterprise, name="嘉兴市禾丰科技有限责任公司")
    assert not same.notes and same.verdict == pb.VERDICT_REWARD
    other = _subject(daemon, enterprise, name="杭州市某某贸易有限公司")
    assert other.notes and "N-1" in other.notes[0]
    assert other.verdict == pb.VERDICT_REVIEW


def test_name_alone_never_triggers_a_penalty(daemon: RunningDaemon) -> None:
    """A clean subject using a listed subject's name is not matched."""
    listed, clean = factories.uscc(), factories.uscc()
    _upsert(
        daemon,
        factories.entry_row(
            "N-2", listed, "serious_illegal_dishonest", subject_name="嘉兴市黑名单建材有限公司"
        ),
    )
    result = _subject(daemon, clean, name="嘉兴市黑名单建材有限公司")
    assert not result.entries and result.verdict == pb.VERDICT_CLEAR


def test_subject_id_is_masked_in_answers_and_logs(daemon: RunningDaemon, tmp_path: Path) -> None:
    """A person's number comes back masked and is absent from the daemon's log."""
    person = factories.resident_id()
    _upsert(daemon, factories.entry_row("M-1", person, PERSON_LIST, subject_type="person"))
    result = _subject(daemon, person)
    assert result.id == person[:6] + "*" * 8 + person[-4:]
    assert result.entries[0].subject_id == result.id
    assert person not in daemon.log_text()


# ---------------------------------------------------------------- declared persons, mistyped persons

# A Jiaxing resident born 1980-01-01 whose check character (9) was mistyped as 1: the 18 digits then
# pass as a USCC of registration authority 3, type 3, and used to be taken for an organisation.
MISTYPED = "330402198001010041"


def _import(
    db_url: str, tmp_path: Path, name: str, *rows: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`checkd import` of the rows as a CSV file."""
    path = tmp_path / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return run_cli("import", "--rules", str(ROOT / "rules"), "--db", db_url, str(path), workdir=tmp_path)


def _until_found(daemon: RunningDaemon, raw: str, entry_id: str, **fields: object) -> pb.SubjectResult:
    """The subject once the daemon has picked up an import made by another process (it polls)."""
    deadline = time.monotonic() + 20
    while True:
        result = _subject(daemon, raw, **fields)
        if entry_id in {e.entry_id for e in result.entries} or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def _store_bytes(db_url: str) -> bytes:
    """Everything the store holds: the SQLite files, or every value of every PostgreSQL table."""
    if db_url.startswith("sqlite:///"):
        path = Path(db_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*"))
    values: list[bytes] = []
    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                values.extend(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row)
    return b"\n".join(values)


def test_a_declared_person_with_15_digits_is_a_legacy_resident_id(
    daemon: RunningDaemon, db_url: str, tmp_path: Path
) -> None:
    """15 digits valid both ways: ambiguous undeclared; a person when declared one or given any role."""
    first14 = "33040280010100"  # address 330402, born 1980-01-01, and a valid registration check digit
    legacy = first14 + business_reg_check_digit(first14)
    person = resident_15_to_18(legacy)
    with pytest.raises(grpc.RpcError) as ambiguous:
        _subject(daemon, legacy)
    assert ambiguous.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ambiguous 15-digit" in violations(ambiguous.value)["subjects[0].id"]
    _upsert(daemon, factories.entry_row("L15-P", legacy, PERSON_LIST, subject_type="person"))
    declared = _subject(daemon, legacy, subject_type=pb.SUBJECT_TYPE_PERSON)
    assert [e.entry_id for e in declared.entries] == ["L15-P"] and declared.id == mask(person)
    assert [e.entry_id for e in _subject(daemon, person).entries] == ["L15-P"]
    organisation = factories.uscc()
    row = factories.entry_row(
        "L15-O",
        organisation,
        LIST_FOR_ORG,
        legal_representative_id=legacy,
        legal_representative_name="张某某",
    )
    imported = _import(db_url, tmp_path, "legacy", row)
    assert imported.returncode == 0, imported.stderr
    representative = _until_found(daemon, legacy, "L15-O", role=pb.ROLE_LEGAL_REPRESENTATIVE)
    assert "L15-O" in {e.entry_id for e in representative.entries}
    assert representative.subject_type == pb.SUBJECT_TYPE_PERSON


def test_a_mistyped_resident_id_is_refused_and_never_kept_in_clear(
    daemon: RunningDaemon, db_url: str, tmp_path: Path
) -> None:
    """Check, UpsertEntries and import refuse it as a bad resident ID; declared an organisation's: masked."""
    digits, shown = MISTYPED[:17], mask(MISTYPED)
    with pytest.raises(grpc.RpcError) as checked:
        _subject(daemon, MISTYPED)
    assert checked.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason = violations(checked.value)["subjects[0].id"]
    assert "resident_id" in reason and "bad check character: expected 9, got 1" in reason
    with pytest.raises(grpc.RpcError) as upserted:
        _upsert(daemon, factories.entry_row("TYPO-0", MISTYPED, ORG_LIST))
    assert upserted.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "bad check character" in violations(upserted.value)["entries[0]"]
    refused = _import(db_url, tmp_path, "refused", factories.entry_row("TYPO-1", MISTYPED, LIST_FOR_ORG))
    assert refused.returncode == 1 and "bad check character" in refused.stderr

    # Declared an organisation's code, it is accepted, but kept and shown like a person's number.
    _upsert(daemon, factories.entry_row("TYPO-U", MISTYPED, ORG_LIST, id_type="uscc"))
    imported = _import(
        db_url,
        tmp_path,
        "declared",
        factories.entry_row("TYPO-I", MISTYPED, LIST_FOR_ORG, subject_type="enterprise"),
    )
    assert imported.returncode == 0, imported.stderr
    result = _until_found(daemon, MISTYPED, "TYPO-I", id_type=pb.ID_TYPE_USCC)
    assert {e.entry_id for e in result.entries} == {"TYPO-U", "TYPO-I"}
    assert result.id == shown and {e.subject_id for e in result.entries} == {shown}
    assert _subject(daemon, MISTYPED, subject_type=pb.SUBJECT_TYPE_ENTERPRISE).id == shown
    listed = daemon.registry.GetSubject(
        reg.GetSubjectRequest(id=MISTYPED, id_type=pb.ID_TYPE_USCC), timeout=30
    )
    assert {e.subject_id for e in listed.entries} == {shown}
    assert digits not in daemon.log_text() and digits not in imported.stdout + imported.stderr
    assert digits.encode() not in _store_bytes(db_url)
