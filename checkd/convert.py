"""Protobuf <-> domain values: request validation in, decisions and entries out."""

from __future__ import annotations

import datetime as dt
import functools
from enum import StrEnum
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from checkd.api.v1 import check_pb2 as pb
from checkd.catalogue import Catalogue
from checkd.errors import InvalidArgument, Violation
from checkd.ids import Identifier, IdentifierError, IdKind, parse_identifier
from checkd.model import (
    CheckCase,
    Decision,
    ListEntry,
    Measure,
    Polarity,
    Role,
    SubjectQuery,
    SubjectType,
    Verdict,
)
from checkd.pii import SubjectKeyer
from checkd.text import text_problem

MAX_SUBJECTS = 100
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_TEXT = 256
_E = TypeVar("_E", bound=StrEnum)

_ID_TYPES: dict[int, IdKind | None] = {
    pb.ID_TYPE_UNSPECIFIED: None,
    pb.ID_TYPE_USCC: IdKind.USCC,
    pb.ID_TYPE_ORG_CODE: IdKind.ORG_CODE,
    pb.ID_TYPE_BUSINESS_REG_NO: IdKind.BUSINESS_REG_NO,
    pb.ID_TYPE_RESIDENT_ID: IdKind.RESIDENT_ID,
    pb.ID_TYPE_HMT_RESIDENCE_PERMIT: IdKind.HMT_RESIDENCE_PERMIT,
    pb.ID_TYPE_FOREIGNER_PR_ID: IdKind.FOREIGNER_PR_ID,
}
_ID_TYPE_OF_KIND: dict[IdKind, Any] = {kind: number for number, kind in _ID_TYPES.items() if kind}
# Identifiers that do not tell which kind of organisation they belong to.
_UNTYPED_ORG_KINDS = frozenset({IdKind.ORG_CODE, IdKind.BUSINESS_REG_NO})


@functools.cache  # a handful of (enum, value) pairs, asked for several times per check
def to_pb_enum(enum_type: Any, prefix: str, value: StrEnum | None) -> Any:
    """Model enum -> protobuf enum number (None -> *_UNSPECIFIED)."""
    if value is None:
        return int(enum_type.Value(f"{prefix}_UNSPECIFIED"))
    return int(enum_type.Value(f"{prefix}_{value.value.upper()}"))


@functools.lru_cache(maxsize=1024)  # bounded: the numbers come from callers (ValueError is not kept)
def from_pb_enum(enum_type: Any, prefix: str, number: int, model: type[_E]) -> _E | None:
    """Protobuf enum number -> model enum (UNSPECIFIED -> None); ValueError when unknown."""
    name = enum_type.Name(number)  # raises ValueError for numbers outside the enum
    suffix = name.removeprefix(prefix + "_").lower()
    return None if suffix == "unspecified" else model(suffix)


def timestamp(value: dt.datetime) -> Timestamp:
    """An aware datetime as a protobuf Timestamp."""
    # Exact integer arithmetic; Timestamp.FromDatetime costs several times more per call.
    since = value - _EPOCH
    return Timestamp(seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1000)


def from_timestamp(stamp: Timestamp) -> dt.datetime:
    """A protobuf Timestamp as an aware UTC datetime."""
    return stamp.ToDatetime(tzinfo=dt.UTC)


def parse_id_type(number: int, field: str) -> IdKind | None:
    """The declared identifier kind, or a field violation for an unknown enum value."""
    if number not in _ID_TYPES:
        raise InvalidArgument([Violation(field, f"unknown id_type {number}")])
    return _ID_TYPES[number]


def check_case(request: pb.CheckRequest, catalogue: Catalogue, keyer: SubjectKeyer,
               now: dt.datetime) -> CheckCase:
    """Validate a CheckRequest into a CheckCase; InvalidArgument names every bad field."""
    problems: list[Violation] = []
    department, matter, scene = request.department.strip(), request.matter.strip(), request.scene.strip()
    for field, value, limit in (("request_id", request.request_id, 128), ("matter", matter, MAX_TEXT),
                                ("department", department, 64), ("scene", scene, 64)):
        problem = text_problem(value, limit)
        if problem:
            problems.append(Violation(field, problem))
    if not department:
        problems.append(Violation("department", "required"))
    elif department not in catalogue.departments and len(department) <= 64:
        problems.append(Violation("department", f"unknown department {department[:64]!r}"))
    if not scene and not matter:
        problems.append(Violation("scene", "a scene or a matter is required"))
    if scene and scene not in catalogue.scenes and len(scene) <= 64:
        problems.append(
            Violation("scene", f"unknown scene {scene[:64]!r}; one of {sorted(catalogue.scenes)}")
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
    if problems:
        raise InvalidArgument(problems)
    return CheckCase(department, matter, scene, tuple(subjects), as_of)


def subject_query(subject: pb.Subject, index: int, keyer: SubjectKeyer) -> SubjectQuery:
    """Normalise and validate one subject of a request."""
    where = f"subjects[{index}]"
    problems: list[Violation] = []
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
    name_problem = text_problem(subject.name, MAX_TEXT)
    if name_problem:
        problems.append(Violation(f"{where}.name", name_problem))
    # A role other than the subject itself is always a person (related to a listed organisation).
    person_role = role if role is not None and role is not Role.SUBJECT else None
    if person_role is not None and declared_type is not None and declared_type is not SubjectType.PERSON:
        problems.append(Violation(f"{where}.subject_type",
                                  f"a {person_role.value} is a person, not a {declared_type.value}"))
    settled_type = SubjectType.PERSON if person_role is not None else declared_type
    if len(subject.id) > 64:
        problems.append(Violation(f"{where}.id", "longer than 64 characters"))
    elif not subject.id.strip():
        problems.append(Violation(f"{where}.id", "required"))
    else:
        try:
            identifier = _identified(subject.id, declared_kind, settled_type)
        except IdentifierError as exc:
            problems.append(Violation(f"{where}.id", exc.reason))
    if problems:
        raise InvalidArgument(problems)
    subject_type = identifier.subject_type
    if declared_type is not None and declared_type is not subject_type:
        if identifier.kind in _UNTYPED_ORG_KINDS and declared_type is not SubjectType.PERSON:
            subject_type = declared_type  # an organisation code cannot tell its type; trust the caller
        else:
            raise InvalidArgument([Violation(
                f"{where}.subject_type",
                f"declared {declared_type.value} but the identifier is of a {subject_type.value}",
            )])
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


def check_response(decision: Decision, catalogue: Catalogue, check_id: str, request_id: str,
                   as_of: dt.datetime, data_age_seconds: int = 0) -> pb.CheckResponse:
    """A Decision as the CheckResponse the caller receives (and the ledger keeps)."""
    response = pb.CheckResponse(
        check_id=check_id,
        verdict=to_pb_enum(pb.Verdict, "VERDICT", decision.verdict),
        catalogue_version=decision.catalogue_version,
        data_version=decision.data_version,
        evaluated_at=timestamp(decision.evaluated_at),
        request_id=request_id,
        as_of=timestamp(as_of),
        data_age_seconds=data_age_seconds,
        notes=decision.notes,
    )
    for subject in decision.subjects:
        query = subject.query
        result = response.subjects.add(
            id=query.display_id,
            subject_type=to_pb_enum(pb.SubjectType, "SUBJECT_TYPE", query.subject_type),
            index=query.index,
            role=to_pb_enum(pb.Role, "ROLE", query.role),
            verdict=to_pb_enum(pb.Verdict, "VERDICT", subject.verdict),
            notes=subject.notes,
        )
        if query.id_kind:
            result.id_type = _ID_TYPE_OF_KIND[IdKind(query.id_kind)]
        for hit in subject.hits:
            polarity = catalogue.polarity_of(hit.entry.list_id, hit.entry.severity)
            result.entries.append(entry_message(hit.entry, polarity, hit.matched_by))
        for measure_hit in subject.measures:
            result.measures.append(measure_message(measure_hit.measure, measure_hit.entry_ids))
        for withheld in subject.withheld:
            result.withheld.add(measure=measure_message(withheld.measure, withheld.entry_ids),
                                reason=withheld.reason)
    return response


def entry_message(entry: ListEntry, polarity: Polarity | None, matched_by: str = "",
                  with_revocation: bool = False) -> pb.ListEntry:
    """A list entry as shown to callers (persons masked)."""
    message = pb.ListEntry(
        entry_id=entry.entry_id,
        list=entry.list_id,
        polarity=to_pb_enum(pb.Polarity, "POLARITY", polarity),
        authority=entry.authority,
        document_no=entry.document_no,
        level=entry.level.value,
        start=entry.start.isoformat(),
        end=entry.end.isoformat() if entry.end else "",
        reason=entry.reason,
        severity=entry.severity,
        subject_name=entry.subject_name,
        matched_by=matched_by,
        subject_id=entry.display_id,
    )
    if with_revocation and entry.revocation is not None:
        message.revoked_at.CopyFrom(timestamp(entry.revocation.at))
        message.revoke_reason = entry.revocation.reason
        message.revoke_document_no = entry.revocation.document_no
        message.revoke_kind = entry.revocation.kind
    if with_revocation and entry.reinstatement is not None:
        reinstated = entry.reinstatement
        message.reinstated_at.CopyFrom(timestamp(reinstated.at))
        message.reinstate_reason = reinstated.reason
        message.reinstate_document_no = reinstated.document_no
        message.reinstated_revocation_at.CopyFrom(timestamp(reinstated.lifted_at))
        message.reinstated_revocation_document_no = reinstated.lifted_document_no
    return message


def measure_message(measure: Measure, entry_ids: tuple[str, ...]) -> pb.Measure:
    """A measure as pushed to the department, with the entries behind it."""
    return pb.Measure(
        measure_id=measure.measure_id,
        polarity=to_pb_enum(pb.Polarity, "POLARITY", measure.polarity),
        action=measure.action.value,
        title=measure.title,
        legal_basis=measure.legal_basis,
        mandatory=measure.mandatory,
        entry_ids=entry_ids,
        source=measure.source,
    )


def verdict_of(response: pb.CheckResponse) -> Verdict:
    """The verdict of a stored response as a model value."""
    value = from_pb_enum(pb.Verdict, "VERDICT", response.verdict, Verdict)
    return value or Verdict.CLEAR
