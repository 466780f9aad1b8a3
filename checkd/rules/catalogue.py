"""rules/*.yaml -> a validated, immutable, versioned Catalogue (errors name file:line:field)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from checkd.errors import CatalogueError, Violation
from checkd.model import (
    Action,
    ListType,
    Measure,
    Polarity,
    Role,
    SubjectType,
    Trigger,
)
from checkd.rules import lines
from checkd.rules.schema import CATALOGUE_SCHEMA, LISTS_SCHEMA, MEASURES_SCHEMA, TIME_RULES_SCHEMA
from checkd.rules.time_rules import TIME_RULES_FILE, TimeRules, build_time_rules

_CANDIDATES_KEPT = 65_536  # (department, matter, scene, list) combinations remembered per catalogue
_PLAN_CONTEXTS_KEPT = 16_384  # (department, matter, scene, day) combinations the engine's plans are kept for

CATALOGUE_FILE = "catalogue.yaml"
LISTS_FILE = "lists.yaml"
MEASURES_DIR = "measures"


class Catalogue:
    """The measure catalogue, list types, scenes and departments of one rules/ version."""

    def __init__(
        self,
        *,
        edition: str,
        version: str,
        scenes: Mapping[str, str],
        departments: Mapping[str, str],
        list_types: Mapping[str, ListType],
        measures: Iterable[Measure],
        time_rules: TimeRules | None = None,
        uncertain: Mapping[str, str] | None = None,
    ) -> None:
        self.edition = edition
        self.version = version
        self.scenes = dict(scenes)
        self.departments = dict(departments)
        self.list_types = dict(list_types)
        self.measures = tuple(measures)
        self.measures_by_id = {m.measure_id: m for m in self.measures}
        self.time_rules = time_rules or TimeRules()
        # What could not be confirmed, by measure id or list id (the rules' `uncertain` fields).
        self.uncertain = {k: v for k, v in (uncertain or {}).items() if v}
        by_list: dict[str, list[Measure]] = defaultdict(list)
        for measure in self.measures:
            for trigger in measure.triggers:
                if measure not in by_list[trigger.list_id]:
                    by_list[trigger.list_id].append(measure)
        self._by_list = {k: tuple(v) for k, v in by_list.items()}
        # Polarity look-ups happen for every hit of every check: precompute them.
        self._fixed_polarity = {k: t.polarity for k, t in self.list_types.items() if t.polarity}
        self._graded_polarity = {
            (k, grade): polarity
            for k, t in self.list_types.items()
            for grade, polarity in t.severity_polarity
            if polarity is not None
        }
        # Candidate measures per (department, matter, scene, list); the memo lives and dies with
        # this snapshot, so a reload can never serve measures of an older catalogue. A plain dict:
        # get, set and clear are each atomic under the GIL, so RPC threads share it without a lock
        # (an LRU's bookkeeping needed one, and cost more than the lookup it saved).
        self._candidates: dict[tuple[str, str, str, str], tuple[Measure, ...]] = {}
        self._plans: dict[tuple[str, str, str, dt.date], dict[tuple[object, ...], Any]] = {}

    def candidates(self, department: str, matter: str, scene: str, list_id: str) -> tuple[Measure, ...]:
        """Measures this department may apply in this matter/scene when `list_id` is hit."""
        key = (department, matter, scene, list_id)
        found = self._candidates.get(key)
        if found is None:
            found = tuple(
                m for m in self._by_list.get(list_id, ()) if m.applies_to_case(department, matter, scene)
            )
            if len(self._candidates) >= _CANDIDATES_KEPT:  # matters are free text: stay bounded
                self._candidates.clear()
            self._candidates[key] = found
        return found

    def plans(self, department: str, matter: str, scene: str, day: dt.date) -> dict[tuple[object, ...], Any]:
        """The decision engine's memo for cases of this department, matter, scene and CST day.

        What a listed subject's entries lead to depends on the catalogue and these four, not on
        who the subject is: the engine keeps it here so a reload starts afresh. A plain dict, for
        the same reason as the candidates' memo; bounded, as matters are free text.
        """
        key = (department, matter, scene, day)
        found = self._plans.get(key)
        if found is None:
            if len(self._plans) >= _PLAN_CONTEXTS_KEPT:
                self._plans.clear()
            found = self._plans[key] = {}
        return found

    def polarity_of(self, list_id: str, severity: str) -> Polarity | None:
        """Polarity of an entry on `list_id` with `severity` (None: neutral grade or unknown list)."""
        fixed = self._fixed_polarity.get(list_id)
        if fixed is not None:
            return fixed
        return self._graded_polarity.get((list_id, severity))


def load_catalogue(rules_dir: str | Path) -> Catalogue:
    """Read and validate a rules/ directory; raise CatalogueError listing every problem."""
    root = Path(rules_dir)
    problems: list[Violation] = []
    digest = hashlib.sha256()

    def read(path: Path, schema: dict[str, Any]) -> Any:
        rel = path.relative_to(root).as_posix()
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problems.append(Violation("(file)", f"cannot read: {exc.strerror}", at=f"{rel}:1"))
            return None
        digest.update(rel.encode() + b"\0" + raw + b"\0")
        try:
            document = lines.load(raw)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            problems.append(Violation("(yaml)", f"{getattr(exc, 'problem', exc)}", at=f"{rel}:{line}"))
            return None
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        for error in errors:
            path_ = list(error.absolute_path)
            at = f"{rel}:{lines.line_of(document, path_)}"
            problems.append(Violation(lines.dotted(path_), error.message, at=at))
        return None if errors else document

    catalogue_doc = read(root / CATALOGUE_FILE, CATALOGUE_SCHEMA)
    lists_doc = read(root / LISTS_FILE, LISTS_SCHEMA)
    measure_files = sorted((root / MEASURES_DIR).glob("*.yaml"))
    if not measure_files:
        problems.append(Violation("(directory)", "no measure files", at=f"{MEASURES_DIR}/:1"))
    measure_docs = [(path, read(path, MEASURES_SCHEMA)) for path in measure_files]
    time_doc = read(root / TIME_RULES_FILE, TIME_RULES_SCHEMA) if (root / TIME_RULES_FILE).exists() else None
    if problems:
        raise CatalogueError(problems)

    scenes = _unique_ids(catalogue_doc["scenes"], CATALOGUE_FILE, "scenes", problems)
    departments = _unique_ids(catalogue_doc["departments"], CATALOGUE_FILE, "departments", problems)
    list_types = _list_types(lists_doc, problems)
    time_rules = (
        build_time_rules(time_doc, list_types, TIME_RULES_FILE, problems)
        if time_doc is not None
        else TimeRules()
    )
    uncertain = {item["id"]: item.get("uncertain", "") for item in lists_doc["list_types"]}
    titles: dict[str, str] = {}
    measures: dict[str, Measure] = {}
    for path, document in measure_docs:
        rel = path.relative_to(root).as_posix()
        for i, item in enumerate(document["measures"]):
            measure = _measure(
                item,
                f"{rel}:{document['measures'].item_lines[i]}",
                i,
                scenes,
                departments,
                list_types,
                problems,
            )
            if measure is None:
                continue
            if measure.measure_id in measures:
                problems.append(
                    Violation(
                        f"measures[{i}].id",
                        f"duplicate measure id {measure.measure_id}",
                        at=f"{rel}:{item.key_lines['id']}",
                    )
                )
            if measure.title in titles:
                problems.append(
                    Violation(
                        f"measures[{i}].title",
                        f"same title as {titles[measure.title]}",
                        at=f"{rel}:{item.key_lines['title']}",
                    )
                )
            titles.setdefault(measure.title, measure.measure_id)
            measures[measure.measure_id] = measure
            uncertain[measure.measure_id] = item.get("uncertain", "")
    if problems:
        raise CatalogueError(problems)
    return Catalogue(
        edition=catalogue_doc["edition"],
        version=f"{catalogue_doc['edition']}+{digest.hexdigest()[:12]}",
        scenes=scenes,
        departments=departments,
        list_types=list_types,
        measures=measures.values(),
        time_rules=time_rules,
        uncertain=uncertain,
    )


def _unique_ids(items: lines.LinedList, rel: str, field: str, problems: list[Violation]) -> dict[str, str]:
    found: dict[str, str] = {}
    for i, item in enumerate(items):
        if item["id"] in found:
            problems.append(
                Violation(f"{field}[{i}].id", f"duplicate id {item['id']}", at=f"{rel}:{items.item_lines[i]}")
            )
        found[item["id"]] = item["name"]
    return found


def _list_types(document: Any, problems: list[Violation]) -> dict[str, ListType]:
    found: dict[str, ListType] = {}
    for i, item in enumerate(document["list_types"]):

        def bad(key: str, reason: str, fallback: str = "id", i: int = i, item: lines.Lined = item) -> None:
            line = item.key_lines.get(key, item.key_lines.get(fallback, item.line))
            problems.append(Violation(f"list_types[{i}].{key}", reason, at=f"{LISTS_FILE}:{line}"))

        severities = tuple(item.get("severities") or ())
        severity_polarity = dict(item.get("severity_polarity") or {})
        graded = item["polarity"] == "graded"
        if graded and not severity_polarity:
            bad("severity_polarity", "required for a graded list", "polarity")
        for grade in severity_polarity:
            if grade not in severities:
                bad("severity_polarity", f"{grade!r} is not one of its severities")
        default, maximum = item.get("default_months"), item.get("max_months")
        if default is not None and maximum is not None and default > maximum:
            bad("default_months", f"{default} exceeds max_months {maximum}")
        if item["id"] in found:
            bad("id", f"duplicate list id {item['id']}")
        found[item["id"]] = ListType(
            list_id=item["id"],
            name=item["name"],
            polarity=None if graded else Polarity(item["polarity"]),
            subject_types=frozenset(SubjectType(t) for t in item["subject_types"]),
            default_months=default,
            max_months=maximum,
            repairable=item["repairable"],
            severities=severities,
            severity_polarity=tuple(
                (grade, None if p is None else Polarity(p)) for grade, p in severity_polarity.items()
            ),
        )
    return found


def _measure(
    item: lines.Lined,
    where: str,
    index: int,
    scenes: Mapping[str, str],
    departments: Mapping[str, str],
    list_types: Mapping[str, ListType],
    problems: list[Violation],
) -> Measure | None:
    before = len(problems)

    def bad(field: str, reason: str) -> None:
        line = lines.line_of(item, _path_of(field))
        problems.append(
            Violation(f"measures[{index}].{field}", reason, at=f"{where.rsplit(':', 1)[0]}:{line}")
        )

    for i, department in enumerate(item["departments"]):
        if department not in departments:
            bad(f"departments[{i}]", f"unknown department {department!r}")
    for i, scene in enumerate(item.get("scenes") or ()):
        if scene not in scenes:
            bad(f"scenes[{i}]", f"unknown scene {scene!r}")
    if not item.get("scenes") and not item.get("matters"):
        bad("scenes", "a measure needs at least one scene or matter")
    polarity = Polarity(item["polarity"])
    action = Action(item["action"])
    if (action.verdict.value == "reward") != (polarity is Polarity.REWARD):
        bad("action", f"action {action.value} does not fit polarity {polarity.value}")
    triggers = []
    for i, trigger in enumerate(item["triggers"]):
        list_type = list_types.get(trigger["list"])
        if list_type is None:
            bad(f"triggers[{i}].list", f"unknown list {trigger['list']!r}")
            continue
        severities = frozenset(trigger.get("severities") or ())
        if list_type.polarity is None and not severities:
            bad(f"triggers[{i}].severities", f"{list_type.list_id} is graded: name the severities")
        for severity in severities:
            if list_type.severities and severity not in list_type.severities:
                bad(f"triggers[{i}].severities", f"{severity!r} is not a severity of {list_type.list_id}")
        triggers.append(Trigger(list_type.list_id, severities))
    effective_from = _date(item.get("effective_from"))
    effective_to = _date(item.get("effective_to"))
    if effective_from and effective_to and effective_to < effective_from:
        bad("effective_to", "ends before effective_from")
    if len(problems) > before:
        return None
    return Measure(
        measure_id=item["id"],
        title=item["title"],
        polarity=polarity,
        action=action,
        departments=frozenset(item["departments"]),
        scenes=frozenset(item.get("scenes") or ()),
        matters=frozenset(item.get("matters") or ()),
        triggers=tuple(triggers),
        subject_types=frozenset(SubjectType(t) for t in item["subject_types"]),
        roles=frozenset(Role(r) for r in item["roles"]),
        mandatory=item["mandatory"],
        legal_basis=item["legal_basis"],
        effective_from=effective_from,
        effective_to=effective_to,
        source=item.get("source") or "",
    )


def _path_of(field: str) -> list[str | int]:
    """`triggers[0].list` -> ["triggers", 0, "list"] (to locate the exact line)."""
    path: list[str | int] = []
    for part in field.replace("]", "").split("."):
        name, *indices = part.split("[")
        path.append(name)
        path.extend(int(i) for i in indices)
    return path


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)
