"""Protobuf <-> domain values: request validation in, decisions and entries out."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import asdict

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from checkd.errors import BadIdentifier, InvalidArgument, UnknownDepartment, Violation
from checkd.evidence import wire
from checkd.evidence.answers import ID_TYPES, from_pb_enum, from_timestamp, timestamp
from checkd.limits import ID_CHARS, MAX_SUBJECTS, REQUEST_ID_CHARS, TEXT_CHARS, text_problem
from checkd.loop.checks import CheckInput, FeedbackAck, FeedbackInput, GivenOutcome
from checkd.loop.statistics import Report, Statistics, check_overdue_days, parse_as_of, parse_range
from checkd.model import (
    CheckCase,
    Role,
    SubjectQuery,
    SubjectType,
)
from checkd.rules.catalogue import Catalogue
from checkd.subjects.ids import Identifier, IdentifierError, IdKind, parse_identifier
from checkd.subjects.keys import SubjectKeyer

_ALL_FOUR_CHARS = REQUEST_ID_CHARS + TEXT_CHARS + 2 * ID_CHARS  # request_id, matter, department, scene

# Identifiers that do not tell which kind of organisation they belong to.
_UNTYPED_ORG_KINDS = frozenset({IdKind.ORG_CODE, IdKind.BUSINESS_REG_NO})


def parse_id_type(number: int, field: str) -> IdKind | None:
    """The declared identifier kind, or a field violation for an unknown enum value."""
    if number not in ID_TYPES:
        raise InvalidArgument([Violation(field, f"unknown id_type {number}")])
    return ID_TYPES[number]


def check_case(
    request: pb.CheckRequest, catalogue: Catalogue, keyer: SubjectKeyer, now: dt.datetime
) -> CheckCase:
    """Validate a CheckRequest into a CheckCase; InvalidArgument names every bad field."""
    problems: list[Violation] = []
    # The most telling refusal names the error (its reason); every problem stays in its violations.
    refusal: type[InvalidArgument] = InvalidArgument
    request_id = request.request_id
    department, matter, scene = request.department.strip(), request.matter.strip(), request.scene.strip()
    # The common request is clean: one scan of the four texts together (a control character is in
    # the whole iff it is in a part) instead of four; any doubt names each field as before.
    if (
        len(request_id) > REQUEST_ID_CHARS
        or len(matter) > TEXT_CHARS
        or len(department) > ID_CHARS
        or len(scene) > ID_CHARS
        or text_problem(request_id + matter + department + scene, _ALL_FOUR_CHARS)
    ):
        for field, value, limit in (
            ("request_id", request_id, REQUEST_ID_CHARS),
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
    given = request.subjects
    if not given:
        problems.append(Violation("subjects", "at least one subject is required"))
    if len(given) > MAX_SUBJECTS:
        problems.append(Violation("subjects", f"at most {MAX_SUBJECTS} subjects per check"))
    as_of = now
    if request.HasField("as_of"):
        try:
            as_of = from_timestamp(request.as_of)
        except (ValueError, OverflowError) as exc:
            problems.append(Violation("as_of", f"not a valid timestamp: {exc}"))
    subjects = []
    for i, subject in enumerate(given[:MAX_SUBJECTS]):
        try:
            subjects.append(subject_query(subject, i, keyer))
        except InvalidArgument as exc:
            problems.extend(exc.violations)
            if isinstance(exc, BadIdentifier) and refusal is InvalidArgument:
                refusal = BadIdentifier
    if problems:
        raise refusal(problems)
    return CheckCase(department, matter, scene, tuple(subjects), as_of)


def check_input(request: pb.CheckRequest) -> CheckInput:
    """A CheckRequest as the check use case takes it (read into a CheckCase against its snapshot)."""
    return CheckInput(functools.partial(check_case, request), request.request_id, request.HasField("as_of"))


def feedback_input(request: pb.FeedbackRequest) -> FeedbackInput:
    """A FeedbackRequest as the feedback use case takes it (validated there, against the check)."""
    return FeedbackInput(
        request.check_id,
        request.department,
        tuple(GivenOutcome(o.measure_id, o.subject_id, o.outcome, o.reason) for o in request.outcomes),
    )


def batch_response(results: list[bytes | pb.ItemError]) -> bytes:
    """A BatchCheckResponse from its slots: serialised CheckResponses or item errors, in order."""
    # BatchCheckResult's oneof: response is field 1, error field 2; each result is field 1 of the batch.
    return b"".join(
        wire.length_delimited(
            1,
            wire.length_delimited(1, result)
            if isinstance(result, bytes)
            else wire.length_delimited(2, result.SerializeToString()),
        )
        for result in results
    )


def feedback_response(ack: FeedbackAck) -> pb.FeedbackResponse:
    """A feedback acknowledgement as the SubmitFeedback answer."""
    return pb.FeedbackResponse(
        feedback_id=ack.feedback_id, duplicate=ack.duplicate, recorded_at=timestamp(ack.recorded_at)
    )


# Subjects already read, by everything their reading depends on (the keyer included, so a rekey
# reads afresh): the same subjects come back check after check. In memory only, like _identified;
# a subject with a bad field raises and is not kept.
_QUERIES: dict[tuple[object, ...], SubjectQuery] = {}
_QUERIES_KEPT = 65_536


def subject_query(subject: pb.Subject, index: int, keyer: SubjectKeyer) -> SubjectQuery:
    """Normalise and validate one subject of a request."""
    memo = (keyer, subject.id, subject.id_type, subject.subject_type, subject.role, subject.name, index)
    found = _QUERIES.get(memo)
    if found is None:
        found = _read_subject(subject, index, keyer)
        if len(_QUERIES) >= _QUERIES_KEPT:
            _QUERIES.clear()
        _QUERIES[memo] = found
    return found


def _read_subject(subject: pb.Subject, index: int, keyer: SubjectKeyer) -> SubjectQuery:
    where = f"subjects[{index}]"
    problems: list[Violation] = []
    bad_identifier = False
    declared_kind = declared_type = None
    role: Role | None = None
    try:
        declared_kind = parse_id_type(subject.id_type, f"{where}.id_type")
    except InvalidArgument as exc:
        problems.extend(exc.violations)
    try:
        declared_type = from_pb_enum(pb.SubjectType, "SUBJECT_TYPE", subject.subject_type, SubjectType)
    except ValueError:
        problems.append(Violation(f"{where}.subject_type", f"unknown subject_type {subject.subject_type}"))
    try:
        role = from_pb_enum(pb.Role, "ROLE", subject.role, Role)
    except ValueError:
        problems.append(Violation(f"{where}.role", f"unknown role {subject.role}"))
    name_problem = text_problem(subject.name, TEXT_CHARS)
    if name_problem:
        problems.append(Violation(f"{where}.name", name_problem))
    # A role other than the subject itself is always a person (related to a listed organisation).
    person_role = role if role is not None and role is not Role.SUBJECT else None
    if person_role is not None and declared_type is not None and declared_type is not SubjectType.PERSON:
        problems.append(
            Violation(
                f"{where}.subject_type", f"a {person_role.value} is a person, not a {declared_type.value}"
            )
        )
    settled_type = SubjectType.PERSON if person_role is not None else declared_type
    if len(subject.id) > ID_CHARS:
        problems.append(Violation(f"{where}.id", f"longer than {ID_CHARS} characters"))
    elif not subject.id.strip():
        problems.append(Violation(f"{where}.id", "required"))
    else:
        try:
            identifier = _identified(subject.id, declared_kind, settled_type)
        except IdentifierError as exc:
            problems.append(Violation(f"{where}.id", exc.reason))
            bad_identifier = True
    if problems:
        raise (BadIdentifier if bad_identifier else InvalidArgument)(problems)
    subject_type = identifier.subject_type
    if declared_type is not None and declared_type is not subject_type:
        if identifier.kind in _UNTYPED_ORG_KINDS and declared_type is not SubjectType.PERSON:
            subject_type = declared_type  # an organisation code cannot tell its type; trust the caller
        else:
            raise InvalidArgument(
                [
                    Violation(
                        f"{where}.subject_type",
                        f"declared {declared_type.value} but the identifier is of a {subject_type.value}",
                    )
                ]
            )
    return SubjectQuery(
        index=index,
        key=keyer.key(identifier),
        display_id=identifier.masked(),
        org_code=identifier.org_code,
        subject_type=subject_type,
        role=role or Role.SUBJECT,
        name=subject.name.strip(),
        id_kind=identifier.kind.value,
    )


@functools.lru_cache(maxsize=65_536)
def _identified(raw: str, declared: IdKind | None, subject_type: SubjectType | None = None) -> Identifier:
    """parse_identifier, remembered: the same subjects come back check after check.

    Kept in memory only; an IdentifierError is not remembered.
    """
    return parse_identifier(raw, declared, subject_type)


def stats_response(report: Report) -> reg.StatsResponse:
    """A Report as the Stats RPC answer."""
    response = reg.StatsResponse(plan_checks_per_year=report.plan_checks_per_year)
    for row in report.rows:
        response.rows.add(department=row.department, month=row.month, **asdict(row.figures))
    response.total.CopyFrom(reg.StatsRow(**asdict(report.total)))
    return response


def report_for(statistics: Statistics, request: reg.StatsRequest) -> Report:
    """Validate a StatsRequest (errors name its fields) and compute the report."""
    start, end = parse_range(request.from_date, request.to_date)
    check_overdue_days(request.overdue_days)
    as_of = parse_as_of(request.as_of)
    return statistics.report(start, end, request.department.strip(), request.overdue_days or None, as_of)
