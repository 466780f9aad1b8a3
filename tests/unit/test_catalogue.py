"""The catalogue tooling: the real rules/ load, broken catalogues fail with file:line, schema in sync."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from checkd.cli import main
from checkd.days import add_months
from checkd.errors import CatalogueError, InvalidArgument, NotFound
from checkd.model import ListType, Polarity, SubjectType
from checkd.rules.catalogue import Catalogue, load_catalogue
from checkd.rules.lines import _LineLoader
from checkd.rules.schema import json_schema
from checkd.server.catalogue_view import catalogue_view, show_measure

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
BROKEN = ROOT / "tests" / "data" / "broken_rules"
BROKEN_CASES = sorted(p.name for p in BROKEN.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The real catalogue, loaded once."""
    return load_catalogue(RULES)


def test_real_catalogue_is_at_least_the_citys(catalogue: Catalogue) -> None:
    """The catalogue is no smaller than the city's list: 148 measures from 48 departments, 9 scenes."""
    departments = {d for m in catalogue.measures for d in m.departments}
    scenes = {s for m in catalogue.measures for s in m.scenes}
    assert len(catalogue.measures) >= 148 and len(departments) >= 48 and len(scenes) == 9
    assert {m.polarity for m in catalogue.measures} == {Polarity.REWARD, Polarity.PENALTY}
    assert all(m.legal_basis and m.source for m in catalogue.measures)
    assert catalogue.version.startswith(catalogue.edition + "+")


def test_rules_check_prints_counts(capsys: pytest.CaptureFixture[str], catalogue: Catalogue) -> None:
    """`checkd rules check` ends with one line of counts and the version."""
    assert main(["rules", "check", str(RULES)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith(f"ok: {len(catalogue.measures)} measures, ")
    assert f"{len(catalogue.list_types)} lists (version {catalogue.version})" in out[-1]


@pytest.mark.parametrize("name", BROKEN_CASES)
def test_broken_catalogue_fails_with_file_and_line(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each deliberately broken catalogue is refused, naming the file, line and field at fault."""
    expected = (BROKEN / name / "expect.txt").read_text(encoding="utf-8").strip()
    assert main(["rules", "check", str(BROKEN / name)]) == 1
    err = capsys.readouterr().err
    assert any(line.startswith(expected) for line in err.splitlines()), err
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(BROKEN / name)
    assert any(str(p).startswith(expected) for p in caught.value.problems)


def test_broken_set_covers_the_required_defects() -> None:
    """The broken set includes every defect the tooling must catch."""
    assert {
        "unknown_list",
        "duplicate_id",
        "missing_legal_basis",
        "scene_typo",
        "bad_severity",
        "graded_without_polarity",
        "broken_yaml",
    } <= set(BROKEN_CASES)


def test_committed_json_schema_matches_the_code(capsys: pytest.CaptureFixture[str]) -> None:
    """rules/schema.json is exactly what `checkd rules schema` prints (regenerate it when this fails)."""
    assert main(["rules", "schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json_schema()
    assert json.loads((RULES / "schema.json").read_text(encoding="utf-8")) == printed


def test_json_schema_accepts_every_real_rules_file() -> None:
    """Every real rules file validates against its definition in the exported schema."""
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    files = {"catalogue.yaml": "catalogue", "lists.yaml": "lists", "time_rules.yaml": "time_rules"}
    targets = [(RULES / f, d) for f, d in files.items()]
    targets += [(p, "measures") for p in sorted((RULES / "measures").glob("*.yaml"))]
    for path, definition in targets:
        # The loader's own YAML reading (dates stay ISO strings, as JSON would carry them).
        document = json.loads(json.dumps(yaml.load(path.read_bytes(), Loader=_LineLoader)))
        sub = {"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
        errors = [e.message for e in jsonschema.Draft202012Validator(sub).iter_errors(document)]
        assert not errors, (path.name, errors[:3])


def test_uncertain_notes_are_exposed(catalogue: Catalogue) -> None:
    """Uncertain details written in the data reach the view instead of being dropped."""
    marked = [m for m in catalogue.measures if catalogue.uncertain.get(m.measure_id)]
    assert len(marked) >= 100
    view = catalogue_view(catalogue)
    by_id = {m.measure_id: m for m in view.measures}
    assert all(by_id[m.measure_id].uncertain == catalogue.uncertain[m.measure_id] for m in marked)
    assert "uncertain" in show_measure(catalogue, marked[0].measure_id)


def test_view_filters_like_a_check(catalogue: Catalogue) -> None:
    """GetCatalogue's view narrowed to a department and scene holds exactly the measures it may apply."""
    view = catalogue_view(catalogue, "market_regulation", "administrative_licensing")
    expected = {
        m.measure_id
        for m in catalogue.measures
        if "market_regulation" in m.departments and "administrative_licensing" in m.scenes
    }
    assert {m.measure_id for m in view.measures} == expected and expected
    assert {t.list for m in view.measures for t in m.triggers} == {lt.id for lt in view.list_types}
    assert [s.id for s in view.scenes] == ["administrative_licensing"]
    with pytest.raises(InvalidArgument):
        catalogue_view(catalogue, "no_such_department")
    with pytest.raises(NotFound):
        show_measure(catalogue, "XX-P-999")


def test_time_rules_set_the_default_end_and_the_repair_minimum(catalogue: Catalogue) -> None:
    """Serious lists: 1-year minimum before repair, 3-year maximum; unmapped lists keep their own."""
    rules = catalogue.time_rules
    serious = catalogue.list_types["serious_illegal_dishonest"]
    start = dt.date(2026, 3, 15)
    assert rules.default_end(serious, start) == dt.date(2029, 3, 14)
    assert rules.repair_problem(serious.list_id, start, dt.date(2027, 3, 14)) is not None
    assert rules.repair_problem(serious.list_id, start, dt.date(2027, 3, 15)) is None
    general = catalogue.list_types["commitment_breach"]
    assert "3 months" in (rules.repair_problem(general.list_id, start, dt.date(2026, 5, 1)) or "")
    assert rules.end_problem(serious, start, dt.date(2029, 3, 15)) is not None
    defaulter = catalogue.list_types["judgment_defaulter"]
    assert rules.default_end(defaulter, start) is None
    assert rules.repair_problem(defaulter.list_id, start, start) is None
    # Before the first edition only lists.yaml applies.
    assert rules.repair_problem(serious.list_id, dt.date(2022, 1, 1), dt.date(2022, 2, 1)) is None


def test_time_rules_clamp_a_list_default_to_the_field_maximum(catalogue: Catalogue) -> None:
    """A list default longer than the field maximum is cut to the maximum."""
    long_default = ListType(
        "serious_illegal_dishonest",
        "x",
        Polarity.PENALTY,
        frozenset({SubjectType.ENTERPRISE}),
        60,
        None,
        True,
    )
    start = dt.date(2026, 1, 31)
    expected = add_months(start, 36) - dt.timedelta(days=1)
    assert catalogue.time_rules.default_end(long_default, start) == expected
