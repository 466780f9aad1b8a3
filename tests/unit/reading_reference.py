"""`convert.check_case` before its one-scan fast path, kept as the reference its differential test uses."""

from __future__ import annotations

import datetime as dt

from checkd.api.v1 import check_pb2 as pb
from checkd.errors import BadIdentifier, InvalidArgument, UnknownDepartment, Violation
from checkd.evidence.answers import from_timestamp
from checkd.limits import ID_CHARS, MAX_SUBJECTS, REQUEST_ID_CHARS, TEXT_CHARS, text_problem
from checkd.model import CheckCase
from checkd.rules.catalogue import Catalogue
from checkd.server.convert import subject_query
from checkd.subjects.keys import SubjectKeyer


def check_case(
    request: pb.CheckRequest, catalogue: Catalogue, keyer: SubjectKeyer, now: dt.datetime
) -> CheckCase:
    """Validate a CheckRequest into a CheckCase; InvalidArgument names every bad field."""
    problems: list[Violation] = []
    # The most telling refusal names the error (its reason); every problem stays in its violations.
    refusal: type[InvalidArgument] = InvalidArgument
    department, matter, scene = request.department.strip(), request.matter.strip(), request.scene.strip()
    for field, value, limit in (
        ("request_id", request.request_id, REQUEST_ID_CHARS),
        ("matter", matter, TEXT_CHARS),
        ("department", department, ID_CHARS),
        ("scene", scene, ID_CHARS),
    ):
        problem = text_problem(value, limit)
        if problem:
            problems.append(Violation(field, problem))
    if not department:
        problems.append(Violation("department", "required"))
    elif department not in catalogue.departments and len(department) <= ID_CHARS:
        problems.append(Violation("department", f"unknown department {department[:ID_CHARS]!r}"))
        refusal = UnknownDepartment
    if not scene and not matter:
        problems.append(Violation("scene", "a scene or a matter is required"))
    if scene and scene not in catalogue.scenes and len(scene) <= ID_CHARS:
        problems.append(
            Violation("scene", f"unknown scene {scene[:ID_CHARS]!r}; one of {sorted(catalogue.scenes)}")
        )
    if not request.subjects:
        problems.append(Violation("subjects", "at least one subject is required"))
    if len(request.subjects) > MAX_SUBJECTS:
        problems.append(Violation("subjects", f"at most {MAX_SUBJECTS} subjects per check"))
    as_of = now
    if request.HasField("as_of"):
        try:
            as_of = from_timestamp(request.as_of)
        except (ValueError, OverflowError) as exc:
            problems.append(Violation("as_of", f"not a valid timestamp: {exc}"))
    subjects = []
    for i, subject in enumerate(request.subjects[:MAX_SUBJECTS]):
        try:
            subjects.append(subject_query(subject, i, keyer))
        except InvalidArgument as exc:
            problems.extend(exc.violations)
            if isinstance(exc, BadIdentifier) and refusal is InvalidArgument:
                refusal = BadIdentifier
    if problems:
        raise refusal(problems)
    return CheckCase(department, matter, scene, tuple(subjects), as_of)
