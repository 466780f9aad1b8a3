"""Write tests/cases/*.yaml: golden check cases whose expectations are read off the rules/ YAML.

The expected measures are derived here from the measures' own data (departments, scenes,
matters, triggers and severities, subject types, roles, effective dates) and the lists'
polarity, by a reading written independently of checkd's engine and loader. Every measure
gets at least one subject that should receive it; a few extra cases pin down the semantics
(reward withholding, role reach, scene scoping, expiry, neutral grades, matters, a measure
narrowed by matter pushed in its matter only).

Run: .venv/bin/python scripts/gen_golden_cases.py
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checkd.days import china_day  # noqa: E402
from checkd.subjects.ids import org_code_check_char, resident_check_char, uscc_check_char  # noqa: E402

RULES = ROOT / "rules"
OUT = ROOT / "tests" / "cases"
AS_OF = "2026-06-01T08:00:00Z"
START, END = "2025-09-01", "2027-06-30"  # within every list's maximum (>= 24 months)
USCC_PREFIX = {
    "enterprise": "91",
    "social_organisation": "51",
    "public_institution": "12",
    "government_agency": "11",
}
TYPE_ORDER = ["enterprise", "person", "social_organisation", "public_institution", "government_agency"]
VERDICT_OF_ACTION = {
    "prohibit": "prohibit",
    "revoke_qualification": "prohibit",
    "restrict": "restrict",
    "prudent_review": "review",
    "more_inspections": "review",
    "public_disclosure": "review",
    "fewer_inspections": "reward",
    "green_channel": "reward",
    "accept_with_missing_documents": "reward",
    "priority_handling": "reward",
    "deposit_reduction": "reward",
    "preference": "reward",
}
VERDICT_ORDER = ["clear", "reward", "review", "restrict", "prohibit"]
_serial = itertools.count(1)


def uscc(subject_type: str) -> str:
    """A valid USCC of the given organisation type, unique within one run."""
    body = f"GC{next(_serial):06d}"
    first17 = USCC_PREFIX[subject_type] + "330402" + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


def resident_id() -> str:
    """A valid resident identity number, unique within one run."""
    serial = next(_serial)
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=serial)
    first17 = f"330402{birth:%Y%m%d}{serial % 1000:03d}"
    return first17 + resident_check_char(first17)


def load_rules() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """List types by id and every measure, straight from the YAML files."""
    lists = {item["id"]: item for item in yaml.safe_load((RULES / "lists.yaml").read_text())["list_types"]}
    measures = []
    for path in sorted((RULES / "measures").glob("*.yaml")):
        measures.extend(yaml.safe_load(path.read_text())["measures"])
    return lists, measures


def entry_polarity(lists: dict[str, Any], entry: dict[str, Any]) -> str | None:
    """reward / penalty / None for an entry, graded lists by severity."""
    list_type = lists[entry["list"]]
    if list_type["polarity"] != "graded":
        return str(list_type["polarity"])
    value = list_type["severity_polarity"].get(entry.get("severity", ""))
    return None if value is None else str(value)


def in_force(entry: dict[str, Any], day: dt.date) -> bool:
    """The entry's own period contains `day`."""
    return dt.date.fromisoformat(entry["start"]) <= day <= dt.date.fromisoformat(entry["end"])


def measure_in_effect(measure: dict[str, Any], day: dt.date) -> bool:
    """The measure's own validity contains `day`."""
    start, end = measure.get("effective_from"), measure.get("effective_to")
    return (start is None or _day(start) <= day) and (end is None or day <= _day(end))


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def in_scope(measure: dict[str, Any], request: dict[str, Any]) -> bool:
    """rules/README.md: named matters bound the measure to them, named scenes to those scenes.

    Both named: those matters within those scenes (a request naming the matter but no scene is
    placed by the matter). A request without a matter never reaches a matter-narrowed measure.
    """
    scenes, matters = measure.get("scenes") or [], measure.get("matters") or []
    scene, matter = request.get("scene", ""), request.get("matter", "")
    if matters and matter not in matters:
        return False
    return not scenes or scene in scenes or (scene == "" and bool(matters))


def expected(
    subject: dict[str, Any],
    entries: list[dict[str, Any]],
    request: dict[str, Any],
    lists: dict[str, Any],
    measures: list[dict[str, Any]],
) -> dict[str, Any]:
    """What the rules say this subject gets: entries, measures, withheld measures, verdict."""
    day = china_day(dt.datetime.fromisoformat(AS_OF.replace("Z", "+00:00")))  # dates are CST days
    hits = []  # (entry, role)
    for entry in entries:
        if not in_force(entry, day):
            continue
        if entry["subject_id"] == subject["id"]:
            hits.append((entry, "subject"))
        for person in entry.get("related", ()):
            if person["id"] == subject["id"]:
                hits.append((entry, person["role"]))
    pushed, withheld = set(), set()
    penalty_on_subject = any(role == "subject" and entry_polarity(lists, e) == "penalty" for e, role in hits)
    for measure in measures:
        if request["department"] not in measure["departments"]:
            continue
        if not in_scope(measure, request):
            continue
        if subject["type"] not in measure["subject_types"] or not measure_in_effect(measure, day):
            continue
        fired = any(
            role in measure["roles"]
            and trigger["list"] == entry["list"]
            and (not trigger.get("severities") or entry.get("severity", "") in trigger["severities"])
            for entry, role in hits
            for trigger in measure["triggers"]
        )
        if not fired:
            continue
        if measure["polarity"] == "reward" and penalty_on_subject:
            withheld.add(measure["id"])
        else:
            pushed.add(measure["id"])
    by_id = {m["id"]: m for m in measures}
    verdict = max(
        (VERDICT_OF_ACTION[by_id[m]["action"]] for m in pushed), key=VERDICT_ORDER.index, default="clear"
    )
    return {
        "verdict": verdict,
        "entries": sorted({e["entry_id"] for e, _ in hits}),
        "measures": sorted(pushed),
        "withheld": sorted(withheld),
    }


class CaseBuilder:
    """One case: a request, a few entries and the subjects checked."""

    def __init__(self, name: str, description: str, department: str, scene: str = "", matter: str = ""):
        self.name = name
        self.description = description
        self.request = {"department": department, "scene": scene, "matter": matter}
        self.entries: list[dict[str, Any]] = []
        self.subjects: list[dict[str, Any]] = []

    def listed(
        self,
        subject_type: str,
        list_id: str,
        severity: str = "",
        role: str = "subject",
        start: str = START,
        end: str = END,
        also: tuple[tuple[str, str], ...] = (),
    ) -> dict[str, Any]:
        """Add a subject listed on `list_id` (or a person related in `role` to a listed organisation)."""
        organisation_type = subject_type if role == "subject" else "enterprise"
        listed_id = resident_id() if organisation_type == "person" else uscc(organisation_type)
        number = len(self.entries) + 1
        entry: dict[str, Any] = {
            "entry_id": f"{self.name}-E{number}",
            "subject_id": listed_id,
            "subject_name": f"黄金用例主体{number}",
            "list": list_id,
            "severity": severity,
            "start": start,
            "end": end,
        }
        checked = {"id": listed_id, "type": organisation_type}
        if role != "subject":
            person = resident_id()
            entry["related"] = [{"role": role, "id": person, "name": f"关联人员{number}"}]
            checked = {"id": person, "type": "person"}
        self.entries.append(entry)
        for extra_list, extra_severity in also:
            self.entries.append(
                {
                    **entry,
                    "entry_id": f"{self.name}-E{number}{extra_list[:3].upper()}",
                    "list": extra_list,
                    "severity": extra_severity,
                    "related": [],
                }
            )
        self.subjects.append(checked)
        return checked

    def render(self, lists: dict[str, Any], measures: list[dict[str, Any]]) -> dict[str, Any]:
        """The case document with every expectation read off the rules."""
        subjects = []
        for subject in self.subjects:
            outcome = expected(subject, self.entries, self.request, lists, measures)
            subjects.append({"id": subject["id"], "subject_type": subject["type"], "expect": outcome})
        verdict = max((s["expect"]["verdict"] for s in subjects), key=VERDICT_ORDER.index, default="clear")
        entries = [{k: v for k, v in e.items() if k != "related" or v} for e in self.entries]
        return {
            "name": self.name,
            "description": self.description,
            "as_of": AS_OF,
            "request": self.request,
            "entries": entries,
            "subjects": subjects,
            "expect_verdict": verdict,
        }


def pick_type(measure: dict[str, Any], list_type: dict[str, Any], role: str) -> str:
    """The first subject type the measure and the list both allow (persons for role measures)."""
    if role != "subject":
        return "person"
    allowed = set(measure["subject_types"]) & set(list_type["subject_types"])
    return next(t for t in TYPE_ORDER if t in allowed)


def coverage_cases(lists: dict[str, Any], measures: list[dict[str, Any]]) -> list[CaseBuilder]:
    """One case per (department, scene) with a subject for each measure not yet covered."""
    cases: dict[tuple[str, str, str], CaseBuilder] = {}
    covered: set[str] = set()
    for measure in sorted(measures, key=lambda m: m["id"]):
        if measure["id"] in covered:
            continue
        department = sorted(measure["departments"])[0]
        scene = sorted(measure.get("scenes") or [])[0]
        # A measure narrowed to matters is reached only in one of them: check in its first.
        matter = sorted(measure.get("matters") or [""])[0]
        role = next(
            r
            for r in (
                "subject",
                "legal_representative",
                "principal_responsible",
                "actual_controller",
                "directly_responsible",
            )
            if r in measure["roles"]
        )
        # Relations other than the legal representative get cases of their own, so a data
        # format that cannot carry them yet affects only those cases.
        key = (department, scene, matter, "" if role in ("subject", "legal_representative") else role)
        if key not in cases:
            short = (department, scene, matter.split(".", 1)[-1], key[3])  # a matter repeats its department
            name = "-".join(p for p in ("cov", *short) if p).replace("_", "-")
            cases[key] = CaseBuilder(
                name,
                f"every measure {department} applies in {scene}"
                + (f", matter {matter}" if matter else "")
                + (f" to a {role}" if key[3] else ""),
                department,
                scene,
                matter,
            )
        case = cases[key]
        trigger = measure["triggers"][0]
        list_type = lists[trigger["list"]]
        severity = sorted(trigger.get("severities") or [""])[0]
        subject = case.listed(pick_type(measure, list_type, role), trigger["list"], severity, role)
        covered.update(expected(subject, case.entries, case.request, lists, measures)["measures"])
        assert measure["id"] in covered, f"{measure['id']}: the generated subject does not reach it"
    return list(cases.values())


def semantic_cases() -> list[CaseBuilder]:
    """Cases that pin the semantics of item 4 on real measures."""
    cases = []
    both = CaseBuilder(
        "sem-penalty-withholds-rewards",
        "a red-listed enterprise with a serious-dishonesty entry in force gets the "
        "penalties and none of its rewards; a red-listed one gets the rewards",
        "market_regulation",
        "administrative_licensing",
    )
    both.listed("enterprise", "red_list", also=(("serious_illegal_dishonest", ""),))
    both.listed("enterprise", "red_list")
    cases.append(both)

    grade = CaseBuilder(
        "sem-graded-a-with-tax-d",
        "tax level A rewards are withheld when the same "
        "enterprise's market regulation class is D (a penalty grade)",
        "taxation",
        "public_services",
    )
    grade.listed("enterprise", "tax_credit_level", "A", also=(("market_credit_level", "D"),))
    grade.listed("enterprise", "tax_credit_level", "B")
    cases.append(grade)

    role = CaseBuilder(
        "sem-legal-representative-reach",
        "the listed enterprise gets subject measures; its legal representative only "
        "the measures that name that role",
        "market_regulation",
        "administrative_licensing",
    )
    role.listed("enterprise", "serious_illegal_dishonest")
    role.listed("person", "serious_illegal_dishonest", role="legal_representative")
    cases.append(role)

    court = CaseBuilder(
        "sem-court-legal-representative",
        "a judgment defaulter's legal representative in public services",
        "court",
        "public_services",
    )
    court.listed("person", "judgment_defaulter", role="legal_representative")
    court.listed("enterprise", "judgment_defaulter")
    cases.append(court)

    scene = CaseBuilder(
        "sem-scene-scoping",
        "market regulation honours: measures of other scenes and departments never appear",
        "market_regulation",
        "honours_evaluations",
    )
    scene.listed("enterprise", "serious_illegal_dishonest")
    scene.listed("enterprise", "tax_major_violation")
    cases.append(scene)

    other = CaseBuilder(
        "sem-department-scoping",
        "a department with no measure for a list returns clear",
        "meteorology",
        "administrative_licensing",
    )
    other.listed("enterprise", "serious_illegal_dishonest")
    cases.append(other)

    matter = CaseBuilder(
        "sem-matter-only",
        "a matter code without a scene reaches only measures naming that matter",
        "market_regulation",
        "",
        "market_regulation.licence_by_commitment",
    )
    matter.listed("enterprise", "serious_illegal_dishonest")
    cases.append(matter)

    expired = CaseBuilder(
        "sem-expired-entry",
        "an entry past its end pushes nothing",
        "market_regulation",
        "administrative_licensing",
    )
    expired.listed("enterprise", "serious_illegal_dishonest", start="2022-01-01", end="2024-06-30")
    cases.append(expired)

    neutral = CaseBuilder(
        "sem-neutral-grade",
        "a neutral grade (market class B) triggers nothing and withholds nothing",
        "market_regulation",
        "supervision",
    )
    neutral.listed("enterprise", "market_credit_level", "B", also=(("red_list", ""),))
    neutral.listed("enterprise", "market_credit_level", "D")
    cases.append(neutral)
    return cases


def matter_narrowed_cases() -> list[CaseBuilder]:
    """A measure narrowed by matter (MR-P-014: administrative licensing, three licence matters)."""
    cases = []
    narrowed = (
        ("in", "market_regulation.food_business_licence", "its matter: pushed"),
        (
            "other",
            "market_regulation.enterprise_registration",
            "another matter of the same scene: not pushed",
        ),
        ("none", "", "no matter given: not pushed"),
    )
    for suffix, narrowed_matter, what in narrowed:
        fraud = CaseBuilder(
            f"sem-matter-narrowed-{suffix}",
            f"a licence-fraud enterprise in "
            f"administrative licensing, MR-P-014 (narrowed by matter) in {what}",
            "market_regulation",
            "administrative_licensing",
            narrowed_matter,
        )
        fraud.listed("enterprise", "licence_fraud", "fraudulently_obtained")
        cases.append(fraud)

    return cases


def main() -> None:
    """Regenerate every case file."""
    lists, measures = load_rules()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.yaml"):
        old.unlink()
    # Appended last, so the serial numbers (subject ids) of the older cases stay as they were.
    cases = semantic_cases() + coverage_cases(lists, measures) + matter_narrowed_cases()
    header = (
        "# Generated by scripts/gen_golden_cases.py from the rules/ YAML (expectations read off\n"
        "# the measures' departments, scenes, triggers, subject types and roles). Do not edit.\n"
    )
    for case in cases:
        document = case.render(lists, measures)
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
        (OUT / f"{case.name}.yaml").write_text(header + text)
    print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
