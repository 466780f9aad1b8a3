"""The engine decides exactly as its reference copy: the bench mix, hand-made edge cases, random worlds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from collections.abc import Iterable, Sequence

import pytest

from bench.mix import Mix
from bench.synth import BENCH_SECRET, ROOT, SCALES, Population
from checkd.decide import engine
from checkd.decide.index import Index
from checkd.loop.interchange import parse_entry
from checkd.model import (
    Action,
    CheckCase,
    ListEntry,
    Measure,
    Polarity,
    Reinstatement,
    RelatedPerson,
    Revocation,
    Role,
    SourceLevel,
    SubjectQuery,
    SubjectType,
    Trigger,
    Verdict,
)
from checkd.rules.catalogue import Catalogue, load_catalogue
from checkd.server import convert
from checkd.subjects.keys import SubjectKeyer
from tests.unit import engine_reference
from tests.unit.test_engine import LISTS

NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
# Instants around the CST midnight that starts 2026-12-02 (16:00 UTC), and days apart.
INSTANTS = (
    NOW,
    dt.datetime(2026, 12, 1, 15, 59, 59, 999_999, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC),
    dt.datetime(2024, 3, 1, 2, tzinfo=dt.UTC),
    dt.datetime(2028, 7, 15, 20, tzinfo=dt.UTC),
)
AGES = (
    (None, None),
    (dt.timedelta(seconds=30), dt.timedelta(seconds=60)),
    (dt.timedelta(hours=2), dt.timedelta(hours=1)),
)


def assert_same(cases: Iterable[CheckCase], index: Index, catalogue: Catalogue, reference: Catalogue) -> int:
    """Each case decided by both engines (each on its own catalogue copy): the Decisions are equal."""
    count = 0
    for number, case in enumerate(cases):
        data_age, max_age = AGES[number % len(AGES)]
        want = engine_reference.decide(case, index, reference, NOW, data_age=data_age, max_data_age=max_age)
        got = engine.decide(case, index, catalogue, NOW, data_age=data_age, max_data_age=max_age)
        assert got == want, f"case {number}: {case}"
        count += 1
    return count


@pytest.fixture(scope="module")
def sample_world() -> tuple[Index, list[ListEntry], Catalogue]:
    """The sample scale's entries, a share of them revoked, reinstated or ending at chosen days."""
    catalogue = load_catalogue(ROOT / "rules")
    keyer = SubjectKeyer(BENCH_SECRET.encode())
    rng = random.Random(16)
    entries = []
    for row in Population(SCALES["sample"], 1).entries():
        entry = parse_entry(json.loads(row), catalogue, keyer)
        pick = rng.random()
        instant = rng.choice(INSTANTS)
        if pick < 0.05:  # revoked at one of the instants checked: not in force from then on
            entry = dataclasses.replace(entry, revocation=Revocation(instant, "repair", "D-1"))
        elif pick < 0.08:  # reinstated: not in force between the lifted revocation and the act
            lifted = instant - dt.timedelta(days=rng.choice((0, 1, 400)))
            entry = dataclasses.replace(
                entry, reinstatement=Reinstatement(instant, "r", "D-2", lifted, "D-1")
            )
        elif pick < 0.10:  # its last day is the CST day of an instant checked
            entry = dataclasses.replace(
                entry, end=instant.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
            )
        entries.append(entry)
    return Index(entries, "d1", NOW), entries, catalogue


def mix_cases(count: int, catalogue: Catalogue, seed: int) -> list[CheckCase]:
    """Cases of the bench mix at sample scale, at several instants, some with a matter given."""
    keyer = SubjectKeyer(BENCH_SECRET.encode())
    matters = sorted({m for measure in catalogue.measures for m in measure.matters})
    rng = random.Random(seed)
    cases = []
    for request in Mix(Population(SCALES["sample"], 1), ROOT / "rules", seed).requests(count):
        case = convert.check_case(request, catalogue, keyer, rng.choice(INSTANTS))
        if rng.random() < 0.3:
            case = dataclasses.replace(case, matter=rng.choice(matters), scene=rng.choice(("", case.scene)))
        cases.append(case)
    return cases


def test_the_bench_mix_is_decided_as_the_reference_decides_it(
    sample_world: tuple[Index, list[ListEntry], Catalogue],
) -> None:
    """20,000 cases of the mix (decided twice by the engine: first with cold plans, then warm)."""
    index, _, catalogue = sample_world
    reference = load_catalogue(ROOT / "rules")
    cases = mix_cases(10_000, catalogue, 3)
    assert assert_same([*cases, *cases], index, catalogue, reference) == 20_000
    listed = sum(bool(index.lookup(q)) for case in cases for q in case.subjects)
    assert listed > 3_000  # the mix reaches listed subjects, not only the common miss


def test_listed_subjects_of_the_sample_named_every_way(
    sample_world: tuple[Index, list[ListEntry], Catalogue],
) -> None:
    """Every listed subject of the sample (and its related persons) in every scene of every department."""
    index, entries, catalogue = sample_world
    reference = load_catalogue(ROOT / "rules")
    rng = random.Random(5)
    queries = {}
    for entry in entries:
        queries[entry.subject_key] = SubjectQuery(
            0,
            entry.subject_key,
            entry.display_id,
            entry.org_code,
            entry.subject_type,
            Role.SUBJECT,
            rng.choice((entry.subject_name, "", "另一家公司", entry.subject_name + " ")),
        )
        for person in entry.related:
            queries[person.subject_key] = SubjectQuery(
                0, person.subject_key, person.masked_id, "", SubjectType.PERSON, person.role, person.name
            )
    scenes = sorted(catalogue.scenes)
    departments = sorted(catalogue.departments)
    cases = [
        CheckCase(rng.choice(departments), "", rng.choice(scenes), (query,), rng.choice(INSTANTS))
        for query in queries.values()
        for _ in range(3)
    ]
    assert assert_same(cases, index, catalogue, reference) == len(cases)


# ---------------------------------------------------------------- hand-made edge cases

AT = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
ALL = frozenset(SubjectType)


def _measure(measure_id: str, action: Action, list_id: str, **extra: object) -> Measure:
    fields: dict[str, object] = {
        "measure_id": measure_id,
        "title": f"t {measure_id}",
        "polarity": Polarity.REWARD if action.verdict is Verdict.REWARD else Polarity.PENALTY,
        "action": action,
        "departments": frozenset({"mr"}),
        "scenes": frozenset({"licensing"}),
        "matters": frozenset(),
        "triggers": (Trigger(list_id, frozenset(extra.pop("severities", ()))),),  # type: ignore[call-overload]
        "subject_types": ALL,
        "roles": frozenset({Role.SUBJECT}),
        "mandatory": True,
        "legal_basis": "b",
    }
    fields.update(extra)
    return Measure(**fields)  # type: ignore[arg-type]


def _entry(entry_id: str, key: str, list_id: str, **extra: object) -> ListEntry:
    fields: dict[str, object] = {
        "entry_id": entry_id,
        "subject_key": key,
        "display_id": key,
        "subject_type": SubjectType.ENTERPRISE,
        "subject_name": "嘉兴某某有限公司",
        "list_id": list_id,
        "authority": "a",
        "document_no": "d",
        "level": SourceLevel.MUNICIPAL,
        "start": dt.date(2025, 9, 1),
        "end": dt.date(2027, 6, 30),
        "reason": "r",
    }
    fields.update(extra)
    return ListEntry(**fields)  # type: ignore[arg-type]


def _query(key: str, index: int = 0, **extra: object) -> SubjectQuery:
    fields: dict[str, object] = {
        "index": index,
        "key": key,
        "display_id": key,
        "org_code": "",
        "subject_type": SubjectType.ENTERPRISE,
        "role": Role.SUBJECT,
        "name": "",
    }
    fields.update(extra)
    return SubjectQuery(**fields)  # type: ignore[arg-type]


EDGE_MEASURES = (
    _measure("P-SER", Action.PROHIBIT, "serious"),
    _measure(
        "P-SER-LR",
        Action.RESTRICT,
        "serious",
        roles=frozenset({Role.LEGAL_REPRESENTATIVE}),
        subject_types=frozenset({SubjectType.PERSON}),
    ),
    _measure("R-RED", Action.GREEN_CHANNEL, "red"),
    _measure("R-RED-2", Action.PRIORITY_HANDLING, "red", effective_from=dt.date(2026, 6, 2)),
    _measure("R-A", Action.FEWER_INSPECTIONS, "grade", severities={"A"}, effective_to=dt.date(2026, 6, 1)),
    _measure("P-D", Action.MORE_INSPECTIONS, "grade", severities={"D"}),
    _measure(
        "P-D-M",
        Action.PRUDENT_REVIEW,
        "grade",
        severities={"D"},
        matters=frozenset({"mr.x"}),
        scenes=frozenset(),
    ),
    _measure("P-TAX", Action.RESTRICT, "serious", departments=frozenset({"tax"})),
)


def _edge_catalogue() -> Catalogue:
    return Catalogue(
        edition="t",
        version="t+1",
        scenes={"licensing": "许可", "procurement": "采购"},
        departments={"mr": "市场监管", "tax": "税务"},
        list_types=LISTS,
        measures=EDGE_MEASURES,
    )


def _edge_entries() -> list[ListEntry]:
    revoked_now = Revocation(AT, "repair", "R-1")
    return [
        _entry("RED-A", "A", "red"),
        _entry(
            "SER-A", "A", "serious", related=(RelatedPerson(Role.LEGAL_REPRESENTATIVE, "p:rep", "m", "张三"),)
        ),
        _entry("RED-B", "B", "red"),
        _entry("GRA-B", "B", "grade", severity="A"),
        _entry("GRD-C", "C", "grade", severity="D", org_code="MA0000031"),
        _entry("SER-REV", "D", "serious", revocation=revoked_now),  # revoked exactly at AT: not in force
        _entry(
            "SER-REV-LATER",
            "D",
            "serious",
            revocation=Revocation(AT + dt.timedelta(microseconds=1), "r", "d"),
        ),
        _entry(
            "SER-REI",
            "E",
            "serious",
            reinstatement=Reinstatement(AT, "r", "d", AT - dt.timedelta(days=3), "R-0"),
        ),
        _entry(
            "SER-REI-OLD",
            "E",
            "serious",
            reinstatement=Reinstatement(
                AT - dt.timedelta(seconds=1), "r", "d", AT - dt.timedelta(days=3), "R-0"
            ),
        ),
        _entry("RED-END", "F", "red", end=dt.date(2026, 6, 1)),
        _entry("RED-ENDED", "F", "red", end=dt.date(2026, 5, 31)),
        _entry("RED-LATER", "F", "red", start=dt.date(2026, 6, 2)),
        _entry("GRB-G", "G", "grade", severity="B", subject_name="嘉兴某某有限责任公司"),
        _entry(
            "SER-G2",
            "G2",
            "serious",
            related=(
                RelatedPerson(Role.LEGAL_REPRESENTATIVE, "p:rep", "m", "张三"),
                RelatedPerson(Role.PRINCIPAL_RESPONSIBLE, "p:pr", "m", "李四"),
            ),
        ),
        _entry("SER-P", "p:rep", "serious", subject_type=SubjectType.PERSON, subject_name="张三"),
    ]


def _edge_cases() -> list[CheckCase]:
    names = ("", "嘉兴某某有限公司", "嘉兴某某有限责任公司", "嘉兴 某某（有限公司）", "另一家公司", "  ")
    keys = ("A", "B", "C", "D", "E", "F", "G", "G2", "Z", "MA0000031")
    cases = []
    instants = (
        AT,
        AT - dt.timedelta(microseconds=1),
        AT + dt.timedelta(microseconds=1),
        AT - dt.timedelta(days=2),
        dt.datetime(2026, 6, 1, 16, tzinfo=dt.UTC),
        dt.datetime(2026, 5, 31, 15, 59, tzinfo=dt.UTC),
    )
    contexts = (
        ("mr", "", "licensing"),
        ("mr", "mr.x", ""),
        ("mr", "mr.x", "licensing"),
        ("tax", "", "licensing"),
        ("mr", "", "procurement"),
    )
    for instant in instants:
        for department, matter, scene in contexts:
            for key in keys:
                for name in names:
                    query = _query(key, name=name, org_code="MA0000031" if key == "C" else "")
                    cases.append(CheckCase(department, matter, scene, (query,), instant))
            people = (
                _query(
                    "p:rep", 0, subject_type=SubjectType.PERSON, role=Role.LEGAL_REPRESENTATIVE, name="张三"
                ),
                _query(
                    "p:pr", 1, subject_type=SubjectType.PERSON, role=Role.PRINCIPAL_RESPONSIBLE, name="王五"
                ),
                _query("A", 2, name="嘉兴某某有限公司"),
                _query("B", 3),
            )
            cases.append(CheckCase(department, matter, scene, people, instant))
            cases.append(CheckCase(department, matter, scene, (), instant))
    return cases


def test_hand_made_edge_cases_are_decided_as_the_reference_decides_them() -> None:
    """Revoked or reinstated at the instant, CST day ends, rewards withheld, relations, names, stale data."""
    index = Index(_edge_entries(), "d1", AT)
    cases = _edge_cases()
    assert assert_same(cases, index, _edge_catalogue(), _edge_catalogue()) == len(cases)
    decided = [engine.decide(c, index, _edge_catalogue(), NOW) for c in cases]
    verdicts = {d.verdict for d in decided}
    assert {Verdict.CLEAR, Verdict.REWARD, Verdict.REVIEW, Verdict.PROHIBIT} <= verdicts
    assert any(s.withheld for d in decided for s in d.subjects)
    assert any(s.notes for d in decided for s in d.subjects)


# ---------------------------------------------------------------- random worlds


def _random_world(rng: random.Random) -> tuple[Catalogue, list[ListEntry], list[CheckCase]]:
    lists = sorted(LISTS)
    grades = ("A", "B", "D")
    roles = list(Role)
    types = list(SubjectType)
    day0 = dt.date(2026, 6, 1)
    measures = []
    for number in range(rng.randint(1, 8)):
        action = rng.choice(list(Action))
        triggers = []
        for list_id in rng.sample(lists, rng.randint(1, 2)):
            severities = (
                frozenset(rng.sample(grades, rng.randint(1, 2))) if list_id == "grade" else frozenset()
            )
            triggers.append(Trigger(list_id, severities))
        measures.append(
            Measure(
                measure_id=f"M{rng.randint(0, 99):02d}-{number}",
                title=f"t{number}",
                polarity=Polarity.REWARD if action.verdict is Verdict.REWARD else Polarity.PENALTY,
                action=action,
                departments=frozenset(rng.sample(["mr", "tax"], rng.randint(0, 2))),
                scenes=frozenset(rng.sample(["licensing", "procurement"], rng.randint(0, 2))),
                matters=frozenset(rng.sample(["mr.x", "tax.y"], rng.randint(0, 1))),
                triggers=tuple(triggers),
                subject_types=frozenset(rng.sample(types, rng.randint(1, len(types)))),
                roles=frozenset(rng.sample(roles, rng.randint(1, 3))),
                mandatory=rng.random() < 0.5,
                legal_basis="b",
                effective_from=rng.choice((None, day0, day0 + dt.timedelta(days=1))),
                effective_to=rng.choice((None, day0, day0 - dt.timedelta(days=1))),
            )
        )
    catalogue = Catalogue(
        edition="r",
        version="r+1",
        scenes={"licensing": "", "procurement": ""},
        departments={"mr": "", "tax": ""},
        list_types=LISTS,
        measures=measures,
    )
    orgs, persons = ["O1", "O2", "O3"], ["p:1", "p:2", "p:3"]
    instants = [AT + dt.timedelta(hours=h) for h in (-9, -8, 0, 7, 8, 30)]
    entries = []
    for number in range(rng.randint(0, 10)):
        person = rng.random() < 0.3
        key = rng.choice(persons if person else orgs)
        list_id = rng.choice(lists)
        related = (
            tuple(
                RelatedPerson(rng.choice(roles[1:]), p, "m", rng.choice(("张三", "李四")))
                for p in rng.sample(persons, rng.randint(0, 2))
            )
            if not person
            else ()
        )
        revocation = Revocation(rng.choice(instants), "r", "d") if rng.random() < 0.25 else None
        reinstatement = None
        if rng.random() < 0.2:
            at = rng.choice(instants)
            reinstatement = Reinstatement(at, "r", "d", at - dt.timedelta(hours=rng.choice((0, 8, 48))), "d0")
        entries.append(
            ListEntry(
                entry_id=f"E{number}",
                subject_key=key,
                display_id=key,
                subject_type=SubjectType.PERSON if person else rng.choice(types[:1] + types[2:]),
                subject_name=rng.choice(("某公司", "某 公司", "张三", "")),
                list_id=list_id,
                authority="a",
                document_no="d",
                level=SourceLevel.COUNTY,
                start=day0 + dt.timedelta(days=rng.choice((-400, -1, 0, 1))),
                end=rng.choice((None, day0, day0 - dt.timedelta(days=1), day0 + dt.timedelta(days=1))),
                reason="r",
                severity=rng.choice(grades) if list_id == "grade" else "",
                related=related,
                revocation=revocation,
                reinstatement=reinstatement,
            )
        )
    cases = []
    for _ in range(20):
        subjects = []
        for i in range(rng.randint(0, 3)):
            person = rng.random() < 0.5
            subjects.append(
                SubjectQuery(
                    i,
                    rng.choice(persons if person else orgs),
                    "x",
                    "",
                    SubjectType.PERSON if person else rng.choice(types),
                    rng.choice(roles) if person else Role.SUBJECT,
                    rng.choice(("", "某公司", "张三", "李四", "某 公司")),
                )
            )
        cases.append(
            CheckCase(
                rng.choice(["mr", "tax", "other"]),
                rng.choice(["", "mr.x", "tax.y"]),
                rng.choice(["", "licensing", "procurement"]),
                tuple(subjects),
                rng.choice(instants),
            )
        )
    return catalogue, entries, cases


@pytest.mark.parametrize("seed", range(40))
def test_random_worlds_are_decided_as_the_reference_decides_them(seed: int) -> None:
    """Random catalogues, entries (revoked, reinstated, ending) and cases: every Decision is the same."""
    rng = random.Random(seed)
    for _ in range(10):
        catalogue, entries, cases = _random_world(rng)
        index = Index(entries, "d1", AT)
        twice: Sequence[CheckCase] = [*cases, *cases]
        assert assert_same(twice, index, catalogue, _copy(catalogue)) == 40


def _copy(catalogue: Catalogue) -> Catalogue:
    return Catalogue(
        edition=catalogue.edition,
        version=catalogue.version,
        scenes=catalogue.scenes,
        departments=catalogue.departments,
        list_types=catalogue.list_types,
        measures=catalogue.measures,
    )
