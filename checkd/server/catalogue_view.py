"""Catalogue -> the structured CatalogueView an integrator reads (GetCatalogue and `checkd rules show`)."""

from __future__ import annotations

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.errors import InvalidArgument, MeasureNotFound, UnknownDepartment, Violation
from checkd.evidence.answers import to_pb_enum
from checkd.model import ListType, Measure
from checkd.rules.catalogue import Catalogue


def catalogue_view(
    catalogue: Catalogue, department: str = "", scene: str = "", matter: str = ""
) -> reg.CatalogueView:
    """The catalogue in force, narrowed to the measures a department may apply in a scene / matter.

    Empty filters mean "all". The department must be one of the measure's departments. With a
    matter, measures are narrowed exactly as a check in that matter (and scene) narrows them:
    a measure naming matters only in those matters, one naming scenes only in those scenes. A
    scene alone lists the measures of that scene, matter-narrowed ones included (they show their
    matters). List types are those the remaining measures are triggered by.
    """
    department, scene, matter = department.strip(), scene.strip(), matter.strip()
    problems = []
    if department and department not in catalogue.departments:
        problems.append(Violation("department", f"unknown department {department[:64]!r}"))
    if scene and scene not in catalogue.scenes:
        problems.append(
            Violation("scene", f"unknown scene {scene[:64]!r}; one of {sorted(catalogue.scenes)}")
        )
    if problems:
        unknown = department and department not in catalogue.departments
        raise (UnknownDepartment if unknown else InvalidArgument)(problems)
    measures = [m for m in catalogue.measures if _selected(m, department, scene, matter)]
    narrowed = bool(department or scene or matter)
    lists = {t.list_id for m in measures for t in m.triggers}
    view = reg.CatalogueView(version=catalogue.version, edition=catalogue.edition)
    for scene_id, name in catalogue.scenes.items():
        if not scene or scene_id == scene:
            view.scenes.add(id=scene_id, name=name)
    for department_id, name in catalogue.departments.items():
        if not department or department_id == department:
            view.departments.add(id=department_id, name=name)
    for list_type in catalogue.list_types.values():
        if not narrowed or list_type.list_id in lists:
            view.list_types.append(list_type_info(list_type))
    for measure in sorted(measures, key=lambda m: m.measure_id):
        view.measures.append(measure_info(measure, catalogue.uncertain.get(measure.measure_id, "")))
    return view


def _selected(measure: Measure, department: str, scene: str, matter: str) -> bool:
    if department and department not in measure.departments:
        return False
    if matter:  # a matter given: exactly what a check in this matter (and scene) is pushed
        return measure.in_scope(matter, scene)
    if scene:  # the measures of this scene, those narrowed to some of its matters included
        return scene in measure.scenes
    return True


def list_type_info(list_type: ListType) -> reg.ListTypeInfo:
    """One list type as shown to integrators (graded lists: polarity per severity)."""
    info = reg.ListTypeInfo(
        id=list_type.list_id,
        name=list_type.name,
        polarity=to_pb_enum(pb.Polarity, "POLARITY", list_type.polarity),
        subject_types=[
            to_pb_enum(pb.SubjectType, "SUBJECT_TYPE", t) for t in sorted(list_type.subject_types)
        ],
        default_months=list_type.default_months or 0,
        max_months=list_type.max_months or 0,
        repairable=list_type.repairable,
        severities=list(list_type.severities),
    )
    for grade, polarity in list_type.severity_polarity:
        info.severity_polarity[grade] = to_pb_enum(pb.Polarity, "POLARITY", polarity)
    return info


def measure_info(measure: Measure, uncertain: str = "") -> reg.MeasureInfo:
    """One measure with everything that decides when it is pushed, and its legal basis."""
    return reg.MeasureInfo(
        measure_id=measure.measure_id,
        title=measure.title,
        polarity=to_pb_enum(pb.Polarity, "POLARITY", measure.polarity),
        action=measure.action.value,
        departments=sorted(measure.departments),
        scenes=sorted(measure.scenes),
        matters=sorted(measure.matters),
        triggers=[reg.TriggerInfo(list=t.list_id, severities=sorted(t.severities)) for t in measure.triggers],
        subject_types=[to_pb_enum(pb.SubjectType, "SUBJECT_TYPE", t) for t in sorted(measure.subject_types)],
        roles=[to_pb_enum(pb.Role, "ROLE", r) for r in sorted(measure.roles)],
        mandatory=measure.mandatory,
        legal_basis=measure.legal_basis,
        effective_from=measure.effective_from.isoformat() if measure.effective_from else "",
        effective_to=measure.effective_to.isoformat() if measure.effective_to else "",
        source=measure.source,
        uncertain=uncertain,
    )


def show_measure(catalogue: Catalogue, measure_id: str) -> str:
    """`checkd rules show`: one measure's MeasureInfo as readable text, lists resolved to names."""
    measure = catalogue.measures_by_id.get(measure_id.strip())
    if measure is None:
        raise MeasureNotFound(f"no measure {measure_id!r} in catalogue {catalogue.version}")
    info = measure_info(measure, catalogue.uncertain.get(measure.measure_id, ""))
    triggers = []
    for trigger in info.triggers:
        list_type = catalogue.list_types[trigger.list]
        grades = f" [{', '.join(trigger.severities)}]" if trigger.severities else ""
        triggers.append(f"{trigger.list}{grades} ({list_type.name})")
    rows = [
        ("measure", info.measure_id),
        ("title", info.title),
        ("polarity", pb.Polarity.Name(info.polarity).removeprefix("POLARITY_").lower()),
        ("action", info.action),
        ("mandatory", "yes (应当/不得)" if info.mandatory else "no, discretionary (可以)"),
        ("departments", ", ".join(f"{d} ({catalogue.departments[d]})" for d in info.departments)),
        ("scenes", ", ".join(info.scenes) or "-"),
        ("matters", ", ".join(info.matters) or "-"),
        ("triggers", "; ".join(triggers)),
        (
            "subject types",
            ", ".join(
                pb.SubjectType.Name(t).removeprefix("SUBJECT_TYPE_").lower() for t in info.subject_types
            ),
        ),
        ("roles", ", ".join(pb.Role.Name(r).removeprefix("ROLE_").lower() for r in info.roles)),
        ("legal basis", info.legal_basis),
        ("effective", f"{info.effective_from or '-'} .. {info.effective_to or 'open'}"),
        ("source", info.source or "-"),
        ("uncertain", info.uncertain or "-"),
        ("catalogue", catalogue.version),
    ]
    return "\n".join(f"{label:<14} {value}" for label, value in rows)
