"""Semantics of the decision, on catalogues and indexes built in memory (no transport, no store)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path

from checkd.decide.engine import decide
from checkd.decide.index import Index
from checkd.model import (
    Action,
    CheckCase,
    ListEntry,
    ListType,
    Measure,
    Polarity,
    RelatedPerson,
    Role,
    SourceLevel,
    SubjectQuery,
    SubjectType,
    Trigger,
    Verdict,
)
from checkd.rules.catalogue import Catalogue, load_catalogue

AS_OF = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
ALL_TYPES = frozenset(SubjectType)
PERSONS = frozenset({SubjectType.PERSON})
LISTS = {
    "serious": ListType("serious", "严重失信", Polarity.PENALTY, ALL_TYPES, 36, 36, True),
    "red": ListType("red", "红名单", Polarity.REWARD, ALL_TYPES, 36, 36, False),
    "grade": ListType(
        "grade",
        "等级",
        None,
        ALL_TYPES,
        12,
        None,
        False,
        ("A", "B", "D"),
        (("A", Polarity.REWARD), ("B", None), ("D", Polarity.PENALTY)),
    ),
}


def measure(
    measure_id: str,
    action: Action,
    *,
    lists: tuple[str, ...] = ("serious",),
    severities: frozenset[str] = frozenset(),
    departments: tuple[str, ...] = ("mr",),
    scenes: tuple[str, ...] = ("licensing",),
    matters: tuple[str, ...] = (),
    roles: tuple[Role, ...] = (Role.SUBJECT,),
    types: frozenset[SubjectType] = ALL_TYPES,
    mandatory: bool = True,
) -> Measure:
    """A measure with test defaults; polarity follows the action."""
    polarity = Polarity.REWARD if action.verdict is Verdict.REWARD else Polarity.PENALTY
    return Measure(
        measure_id=measure_id,
        title=f"title of {measure_id}",
        polarity=polarity,
        action=action,
        departments=frozenset(departments),
        scenes=frozenset(scenes),
        matters=frozenset(matters),
        triggers=tuple(Trigger(list_id, severities) for list_id in lists),
        subject_types=types,
        roles=frozenset(roles),
        mandatory=mandatory,
        legal_basis="《某法》第一条",
    )


def catalogue(*measures: Measure) -> Catalogue:
    """A catalogue of the given measures over the test lists."""
    return Catalogue(
        edition="t",
        version="t+1",
        scenes={"licensing": "许可", "procurement": "采购"},
        departments={"mr": "市场监管", "tax": "税务"},
        list_types=LISTS,
        measures=measures,
    )


def entry(
    entry_id: str,
    key: str,
    list_id: str,
    *,
    severity: str = "",
    related: str = "",
    subject_type: SubjectType = SubjectType.ENTERPRISE,
    role: Role = Role.LEGAL_REPRESENTATIVE,
    end: dt.date | None = dt.date(2027, 6, 30),
) -> ListEntry:
    """A list entry in force on AS_OF, optionally naming a related person."""
    people = (RelatedPerson(role, related, "masked", "某某"),) if related else ()
    return ListEntry(
        entry_id=entry_id,
        subject_key=key,
        display_id=key,
        subject_type=subject_type,
        subject_name="某公司",
        list_id=list_id,
        authority="a",
        document_no="d",
        level=SourceLevel.MUNICIPAL,
        start=dt.date(2025, 9, 1),
        end=end,
        reason="r",
        severity=severity,
        related=people,
    )


def query(key: str, subject_type: SubjectType = SubjectType.ENTERPRISE, index: int = 0) -> SubjectQuery:
    """A subject of a check."""
    return SubjectQuery(
        index=index,
        key=key,
        display_id=key,
        org_code="",
        subject_type=subject_type,
        role=Role.SUBJECT,
        name="",
    )


def case(
    *queries: SubjectQuery, department: str = "mr", scene: str = "licensing", matter: str = ""
) -> CheckCase:
    """A check case as of AS_OF."""
    return CheckCase(department, matter, scene, queries, AS_OF)


def run(cat: Catalogue, entries: list[ListEntry], check: CheckCase) -> list[tuple[set[str], set[str]]]:
    """(pushed ids, withheld ids) per subject."""
    decision = decide(check, Index(entries, "d1", AS_OF), cat, AS_OF)
    return [
        ({m.measure.measure_id for m in s.measures}, {w.measure.measure_id for w in s.withheld})
        for s in decision.subjects
    ]


def test_penalty_in_force_withholds_rewards_and_says_why() -> None:
    """A subject on a red list and a black list gets the penalty; the reward is withheld naming the entry."""
    cat = catalogue(measure("P1", Action.PRUDENT_REVIEW), measure("R1", Action.GREEN_CHANNEL, lists=("red",)))
    entries = [entry("E-RED", "A", "red"), entry("E-SER", "A", "serious"), entry("E-RED2", "B", "red")]
    decision = decide(case(query("A"), query("B", index=1)), Index(entries, "d1", AS_OF), cat, AS_OF)
    both, red_only = decision.subjects
    assert [m.measure.measure_id for m in both.measures] == ["P1"]
    (withheld,) = both.withheld
    assert withheld.measure.measure_id == "R1" and withheld.entry_ids == ("E-RED",)
    assert "E-SER (serious)" in withheld.reason and "penalty" in withheld.reason
    assert [m.measure.measure_id for m in red_only.measures] == ["R1"] and not red_only.withheld
    assert both.verdict is Verdict.REVIEW and red_only.verdict is Verdict.REWARD


def test_penalty_grade_withholds_rewards_but_a_neutral_grade_does_not() -> None:
    """Graded lists carry polarity per severity: D withholds rewards, B is neutral."""
    cat = catalogue(
        measure("R1", Action.GREEN_CHANNEL, lists=("red",)),
        measure("RA", Action.FEWER_INSPECTIONS, lists=("grade",), severities=frozenset({"A"})),
    )
    entries = [
        entry("E1", "A", "red"),
        entry("E2", "A", "grade", severity="D"),
        entry("E3", "B", "red"),
        entry("E4", "B", "grade", severity="B"),
        entry("E5", "C", "grade", severity="A"),
    ]
    got = run(cat, entries, case(query("A"), query("B", index=1), query("C", index=2)))
    assert got == [(set(), {"R1"}), ({"R1"}, set()), ({"RA"}, set())]


def test_role_measures_reach_a_legal_representative_only_when_they_name_the_role() -> None:
    """The legal representative gets role measures only; the organisation never gets them."""
    cat = catalogue(
        measure("P-ORG", Action.RESTRICT),
        measure("P-LR", Action.RESTRICT, roles=(Role.LEGAL_REPRESENTATIVE,), types=PERSONS),
        measure("P-PR", Action.PROHIBIT, roles=(Role.PRINCIPAL_RESPONSIBLE,), types=PERSONS),
    )
    entries = [entry("E1", "ORG", "serious", related="PERSON")]
    org, person = run(cat, entries, case(query("ORG"), query("PERSON", SubjectType.PERSON, index=1)))
    assert org == ({"P-ORG"}, set())
    assert person == ({"P-LR"}, set())
    decision = decide(case(query("PERSON", SubjectType.PERSON)), Index(entries, "d1", AS_OF), cat, AS_OF)
    (hit,) = decision.subjects[0].hits
    assert hit.label == "related:legal_representative" and hit.entry.entry_id == "E1"


def test_a_principal_responsible_person_gets_only_principal_measures() -> None:
    """Each role reaches only measures naming that role (principal responsible person here)."""
    cat = catalogue(
        measure("P-LR", Action.RESTRICT, roles=(Role.LEGAL_REPRESENTATIVE,)),
        measure("P-PR", Action.PROHIBIT, roles=(Role.PRINCIPAL_RESPONSIBLE,)),
    )
    entries = [entry("E1", "ORG", "serious", related="BOSS", role=Role.PRINCIPAL_RESPONSIBLE)]
    assert run(cat, entries, case(query("BOSS", SubjectType.PERSON))) == [({"P-PR"}, set())]


def test_measures_apply_only_in_their_department_scene_or_matter() -> None:
    """A measure is pushed only to its departments, in its scenes or matters."""
    cat = catalogue(
        measure("P-LIC", Action.PRUDENT_REVIEW),
        measure("P-PROC", Action.PROHIBIT, scenes=("procurement",)),
        measure("P-TAX", Action.RESTRICT, departments=("tax",)),
        measure("P-MATTER", Action.RESTRICT, scenes=(), matters=("mr.food_licence",)),
    )
    entries = [entry("E1", "A", "serious")]
    assert run(cat, entries, case(query("A"))) == [({"P-LIC"}, set())]
    assert run(cat, entries, case(query("A"), scene="procurement")) == [({"P-PROC"}, set())]
    assert run(cat, entries, case(query("A"), department="tax")) == [({"P-TAX"}, set())]
    assert run(cat, entries, case(query("A"), scene="", matter="mr.food_licence")) == [({"P-MATTER"}, set())]
    assert run(cat, entries, case(query("A"), scene="licensing", matter="mr.food_licence")) == [
        ({"P-LIC", "P-MATTER"}, set())
    ]


def test_a_measure_naming_scenes_and_matters_applies_only_to_those_matters_in_those_scenes() -> None:
    """Both named: never the rest of the scene, never the matter in another scene, never without a matter."""
    cat = catalogue(measure("P-FOOD", Action.PROHIBIT, matters=("mr.food_licence",)))
    entries = [entry("E1", "A", "serious")]
    pushed = [({"P-FOOD"}, set())]
    assert run(cat, entries, case(query("A"), matter="mr.food_licence")) == pushed
    assert run(cat, entries, case(query("A"), scene="", matter="mr.food_licence")) == pushed
    assert run(cat, entries, case(query("A"), matter="mr.registration")) == [(set(), set())]
    assert run(cat, entries, case(query("A"))) == [(set(), set())]
    assert run(cat, entries, case(query("A"), scene="procurement", matter="mr.food_licence")) == [
        (set(), set())
    ]


def test_mandatory_and_discretionary_measures_are_told_apart() -> None:
    """Both kinds are pushed, each carrying whether the department must (应当) or may (可以) apply it."""
    cat = catalogue(
        measure("P-MUST", Action.RESTRICT), measure("P-MAY", Action.PRUDENT_REVIEW, mandatory=False)
    )
    decision = decide(case(query("A")), Index([entry("E1", "A", "serious")], "d1", AS_OF), cat, AS_OF)
    assert {m.measure.measure_id: m.measure.mandatory for m in decision.subjects[0].measures} == {
        "P-MUST": True,
        "P-MAY": False,
    }


def test_verdict_is_the_strongest_action_across_measures_and_subjects() -> None:
    """The subject's verdict is its strongest measure; the check's is the strongest subject's."""
    cat = catalogue(
        measure("P-REVIEW", Action.MORE_INSPECTIONS),
        measure("P-BAN", Action.PROHIBIT, lists=("grade",), severities=frozenset({"D"})),
        measure("R1", Action.GREEN_CHANNEL, lists=("red",)),
    )
    entries = [entry("E1", "A", "serious"), entry("E2", "A", "grade", severity="D"), entry("E3", "B", "red")]
    decision = decide(
        case(query("A"), query("B", index=1), query("C", index=2)), Index(entries, "d1", AS_OF), cat, AS_OF
    )
    assert [s.verdict for s in decision.subjects] == [Verdict.PROHIBIT, Verdict.REWARD, Verdict.CLEAR]
    assert decision.verdict is Verdict.PROHIBIT
    assert [m.measure.measure_id for m in decision.subjects[0].measures] == ["P-BAN", "P-REVIEW"]


def test_expired_entries_and_measures_out_of_effect_push_nothing() -> None:
    """Time bounds on both sides: an ended entry and a retired measure are silent."""
    retired = dataclasses.replace(measure("P-OLD", Action.RESTRICT), effective_to=dt.date(2025, 12, 31))
    cat = catalogue(measure("P1", Action.RESTRICT, lists=("red",)), retired)
    entries = [entry("E1", "A", "red", end=dt.date(2026, 1, 1)), entry("E2", "B", "serious")]
    assert run(cat, entries, case(query("A"), query("B", index=1))) == [(set(), set()), (set(), set())]


def test_nothing_outside_the_real_catalogue_is_ever_pushed() -> None:
    """Every pushed or withheld measure is a real catalogue measure that fits the case and a hit.

    Checked over every department, scene, list and severity of the real catalogue.
    """
    real = load_catalogue(Path(__file__).resolve().parents[2] / "rules")
    keys = itertools.count()
    entries, queries = [], []
    for list_type in real.list_types.values():
        for severity in list_type.severities or ("",):
            for subject_type in sorted(list_type.subject_types):
                key = f"K{next(keys)}"
                listed = entry(
                    f"E{key}", key, list_type.list_id, severity=severity, subject_type=subject_type
                )
                people = tuple(
                    RelatedPerson(r, f"P{key}", "masked", "某某") for r in Role if r is not Role.SUBJECT
                )
                entries.append(dataclasses.replace(listed, related=people))
                queries.append((query(key, subject_type), query(f"P{key}", SubjectType.PERSON)))
    index = Index(entries, "d1", AS_OF)
    pushed_anywhere: set[str] = set()
    # Every department and scene without a matter, and every matter a measure names in its scenes.
    requests = {(d, s, "") for d, s in itertools.product(real.departments, real.scenes)}
    requests |= {
        (d, s, matter) for m in real.measures for d in m.departments for s in m.scenes for matter in m.matters
    }
    for department, scene, matter in sorted(requests):
        for pair in queries:
            decision = decide(
                case(*pair, department=department, scene=scene, matter=matter), index, real, AS_OF
            )
            for subject in decision.subjects:
                lists = {hit.entry.list_id for hit in subject.hits}
                found = [h.measure for h in subject.measures] + [w.measure for w in subject.withheld]
                for pushed in found:
                    m = real.measures_by_id[pushed.measure_id]
                    assert m is pushed and m.applies_to_case(department, matter, scene)
                    assert not m.matters or matter in m.matters
                    assert {t.list_id for t in m.triggers} & lists
                    pushed_anywhere.add(m.measure_id)
    # Every measure is reachable by some list, department, scene and matter (or a related person's role).
    assert pushed_anywhere == set(real.measures_by_id)
