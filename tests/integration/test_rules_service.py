"""The catalogue through the real daemon: discovery, hot reload, time rules on import and repair."""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.days import add_months
from checkd.rules.catalogue import load_catalogue
from tests import factories
from tests.daemon import ROOT, RunningDaemon, run_cli, start_daemon
from tests.integration.test_check_loop import check, upsert, violations

CATALOGUE = load_catalogue(ROOT / "rules")
BROKEN_FILE = "measures/market_regulation.yaml"


@pytest.fixture
def own_rules(db_url: str, tmp_path: Path) -> Iterator[tuple[RunningDaemon, Path]]:
    """A daemon serving a private copy of rules/ that the test may break and fix."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    running = start_daemon(db_url, tmp_path, "--rules", str(rules))
    try:
        yield running, rules
    finally:
        code = running.stop()
        assert code == 0, running.log_text()


def _replace(path: Path, old: str, new: str) -> int:
    """Replace the first `old` in a file; return the 1-based line it was on."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def test_reload_rejects_a_broken_catalogue_and_keeps_serving_the_old_one(
    own_rules: tuple[RunningDaemon, Path],
) -> None:
    """Reload with a broken file: INVALID_ARGUMENT naming file:line, checks keep the old version."""
    daemon, rules = own_rules
    company = factories.uscc()
    upsert(daemon, factories.entry_row("E-HOT", company, "serious_illegal_dishonest"))
    before = check(daemon, company)
    assert before.catalogue_version == CATALOGUE.version and before.subjects[0].measures

    line = _replace(rules / BROKEN_FILE, "- {list: serious_illegal_dishonest}", "- {list: no_such_list}")
    with pytest.raises(grpc.RpcError) as caught:
        daemon.registry.Reload(reg.ReloadRequest(), timeout=60)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    found = violations(caught.value)
    assert f"{BROKEN_FILE}:{line}: measures[0].triggers[0].list" in found, found
    assert "no_such_list" in found[f"{BROKEN_FILE}:{line}: measures[0].triggers[0].list"]
    daemon.process.send_signal(signal.SIGHUP)  # the signal path must refuse it the same way
    deadline = time.monotonic() + 60
    while "reload_failed" not in daemon.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "reload_failed" in daemon.log_text()
    still = check(daemon, company)
    assert still.catalogue_version == before.catalogue_version
    assert [m.measure_id for m in still.subjects[0].measures] == [
        m.measure_id for m in before.subjects[0].measures
    ]

    _replace(rules / BROKEN_FILE, "- {list: no_such_list}", "- {list: serious_illegal_dishonest}")
    _replace(rules / "catalogue.yaml", f'edition: "{CATALOGUE.edition}"', 'edition: "2099-01"')
    reloaded = daemon.registry.Reload(reg.ReloadRequest(), timeout=60)
    assert reloaded.catalogue_version.startswith("2099-01+")
    after = check(daemon, company)
    assert after.catalogue_version == reloaded.catalogue_version != before.catalogue_version
    view = daemon.registry.GetCatalogue(reg.GetCatalogueRequest(), timeout=30)
    assert view.version == reloaded.catalogue_version and view.edition == "2099-01"


def test_sighup_reloads_a_fixed_catalogue(own_rules: tuple[RunningDaemon, Path]) -> None:
    """SIGHUP swaps in a changed, valid catalogue (seen through GetCatalogue)."""
    daemon, rules = own_rules
    _replace(rules / "catalogue.yaml", f'edition: "{CATALOGUE.edition}"', 'edition: "2099-02"')
    daemon.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 60
    version = CATALOGUE.version
    while version == CATALOGUE.version and time.monotonic() < deadline:
        time.sleep(0.1)
        version = daemon.registry.GetCatalogue(reg.GetCatalogueRequest(), timeout=30).version
    assert version.startswith("2099-02+")


def _independent_view(department: str, scene: str) -> set[str]:
    return {m.measure_id for m in CATALOGUE.measures if department in m.departments and scene in m.scenes}


def test_get_catalogue_shows_what_a_check_may_return(daemon: RunningDaemon) -> None:
    """GetCatalogue, narrowed to a department and scene, lists its measures with bases, and its version."""
    view = daemon.registry.GetCatalogue(
        reg.GetCatalogueRequest(department="housing_construction", scene="administrative_licensing"),
        timeout=30,
    )
    assert view.version == CATALOGUE.version
    assert {m.measure_id for m in view.measures} == _independent_view(
        "housing_construction", "administrative_licensing"
    )
    assert all(m.legal_basis and m.triggers and m.roles for m in view.measures)
    assert {t.list for m in view.measures for t in m.triggers} == {lt.id for lt in view.list_types}
    whole = daemon.registry.GetCatalogue(reg.GetCatalogueRequest(), timeout=30)
    assert len(whole.measures) == len(CATALOGUE.measures)
    assert len(whole.list_types) == len(CATALOGUE.list_types) and len(whole.scenes) == 9
    graded = next(lt for lt in whole.list_types if lt.id == "tax_credit_level")
    assert graded.polarity == pb.POLARITY_UNSPECIFIED and graded.severity_polarity["A"] == pb.POLARITY_REWARD
    assert sum(1 for m in whole.measures if m.uncertain) == sum(
        1 for m in CATALOGUE.measures if CATALOGUE.uncertain.get(m.measure_id)
    )
    matter = daemon.registry.GetCatalogue(
        reg.GetCatalogueRequest(matter="market_regulation.licence_by_commitment"), timeout=30
    )
    assert {m.measure_id for m in matter.measures} == {
        m.measure_id for m in CATALOGUE.measures if "market_regulation.licence_by_commitment" in m.matters
    }
    with pytest.raises(grpc.RpcError) as caught:
        daemon.registry.GetCatalogue(reg.GetCatalogueRequest(department="nope"), timeout=30)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "department" in violations(caught.value)


def _subject_entry(daemon: RunningDaemon, subject_id: str) -> Any:
    (entry,) = daemon.registry.GetSubject(reg.GetSubjectRequest(id=subject_id), timeout=30).entries
    return entry


def test_import_without_end_takes_the_time_rules_period(daemon: RunningDaemon) -> None:
    """No end given: serious lists run 3 years, commitment breaches their 1-year default."""
    serious, breach = factories.uscc(), factories.uscc()
    upsert(
        daemon,
        factories.entry_row("E-T1", serious, "serious_illegal_dishonest", start="2026-03-15"),
        factories.entry_row("E-T2", breach, "commitment_breach", start="2026-03-15"),
    )
    assert _subject_entry(daemon, serious).end == "2029-03-14"
    assert _subject_entry(daemon, breach).end == "2027-03-14"


def test_repair_before_the_minimum_period_is_refused_with_the_reason(daemon: RunningDaemon) -> None:
    """Credit repair inside the 1-year minimum is refused naming the rule; an objection is not bound."""
    today = dt.datetime.now(dt.UTC).date()
    recent = (today - dt.timedelta(days=60)).isoformat()
    company, other = factories.uscc(), factories.uscc()
    upsert(
        daemon,
        factories.entry_row("E-R1", company, "serious_illegal_dishonest", start=recent),
        factories.entry_row("E-R2", other, "serious_illegal_dishonest", start=recent),
    )
    with pytest.raises(grpc.RpcError) as caught:
        daemon.registry.RevokeEntry(
            reg.RevokeEntryRequest(
                entry_id="E-R1", reason="已整改", document_no="嘉信修〔2026〕9号", kind="repair"
            ),
            timeout=30,
        )
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    earliest = add_months(dt.date.fromisoformat(recent), 12).isoformat()
    assert "minimum publication period of 12 months" in caught.value.details()
    assert earliest in caught.value.details()
    assert check(daemon, company).subjects[0].measures, "a refused repair leaves the entry in force"
    daemon.registry.RevokeEntry(
        reg.RevokeEntryRequest(
            entry_id="E-R2", reason="异议成立", document_no="嘉信异〔2026〕3号", kind="objection"
        ),
        timeout=30,
    )
    assert not check(daemon, other).subjects[0].measures


def test_repair_of_a_list_that_cannot_be_repaired_is_refused(daemon: RunningDaemon) -> None:
    """Lists marked repairable: false (e.g. procurement bans) leave only by objection."""
    company = factories.uscc()
    upsert(daemon, factories.entry_row("E-P1", company, "procurement_bad_record"))
    with pytest.raises(grpc.RpcError) as caught:
        daemon.registry.RevokeEntry(
            reg.RevokeEntryRequest(entry_id="E-P1", reason="申请修复", document_no="嘉信修〔2026〕10号"),
            timeout=30,
        )
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "procurement_bad_record" in caught.value.details()


def test_rules_show_prints_the_measure(tmp_path: Path) -> None:
    """`checkd rules show` prints a measure with its basis and the catalogue version; unknown ids fail."""
    shown = run_cli("rules", "show", "MR-P-003", "--rules", str(ROOT / "rules"), workdir=tmp_path)
    assert shown.returncode == 0, shown.stderr
    measure = CATALOGUE.measures_by_id["MR-P-003"]
    assert measure.legal_basis in shown.stdout and CATALOGUE.version in shown.stdout
    assert "legal_representative" in shown.stdout
    missing = run_cli("rules", "show", "XX-P-999", "--rules", str(ROOT / "rules"), workdir=tmp_path)
    assert missing.returncode == 1 and "XX-P-999" in missing.stderr
