import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERDICT_UNSPECIFIED: _ClassVar[Verdict]
    VERDICT_CLEAR: _ClassVar[Verdict]
    VERDICT_REWARD: _ClassVar[Verdict]
    VERDICT_REVIEW: _ClassVar[Verdict]
    VERDICT_RESTRICT: _ClassVar[Verdict]
    VERDICT_PROHIBIT: _ClassVar[Verdict]

class Polarity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POLARITY_UNSPECIFIED: _ClassVar[Polarity]
    POLARITY_REWARD: _ClassVar[Polarity]
    POLARITY_PENALTY: _ClassVar[Polarity]

class IdType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ID_TYPE_UNSPECIFIED: _ClassVar[IdType]
    ID_TYPE_USCC: _ClassVar[IdType]
    ID_TYPE_ORG_CODE: _ClassVar[IdType]
    ID_TYPE_BUSINESS_REG_NO: _ClassVar[IdType]
    ID_TYPE_RESIDENT_ID: _ClassVar[IdType]
    ID_TYPE_HMT_RESIDENCE_PERMIT: _ClassVar[IdType]
    ID_TYPE_FOREIGNER_PR_ID: _ClassVar[IdType]

class SubjectType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBJECT_TYPE_UNSPECIFIED: _ClassVar[SubjectType]
    SUBJECT_TYPE_ENTERPRISE: _ClassVar[SubjectType]
    SUBJECT_TYPE_PERSON: _ClassVar[SubjectType]
    SUBJECT_TYPE_SOCIAL_ORGANISATION: _ClassVar[SubjectType]
    SUBJECT_TYPE_PUBLIC_INSTITUTION: _ClassVar[SubjectType]
    SUBJECT_TYPE_GOVERNMENT_AGENCY: _ClassVar[SubjectType]

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_SUBJECT: _ClassVar[Role]
    ROLE_LEGAL_REPRESENTATIVE: _ClassVar[Role]
    ROLE_PRINCIPAL_RESPONSIBLE: _ClassVar[Role]
    ROLE_ACTUAL_CONTROLLER: _ClassVar[Role]
    ROLE_DIRECTLY_RESPONSIBLE: _ClassVar[Role]

class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_UNSPECIFIED: _ClassVar[Outcome]
    OUTCOME_APPLIED: _ClassVar[Outcome]
    OUTCOME_NOT_APPLIED: _ClassVar[Outcome]
    OUTCOME_PARTIALLY_APPLIED: _ClassVar[Outcome]
    OUTCOME_OBJECTED: _ClassVar[Outcome]
VERDICT_UNSPECIFIED: Verdict
VERDICT_CLEAR: Verdict
VERDICT_REWARD: Verdict
VERDICT_REVIEW: Verdict
VERDICT_RESTRICT: Verdict
VERDICT_PROHIBIT: Verdict
POLARITY_UNSPECIFIED: Polarity
POLARITY_REWARD: Polarity
POLARITY_PENALTY: Polarity
ID_TYPE_UNSPECIFIED: IdType
ID_TYPE_USCC: IdType
ID_TYPE_ORG_CODE: IdType
ID_TYPE_BUSINESS_REG_NO: IdType
ID_TYPE_RESIDENT_ID: IdType
ID_TYPE_HMT_RESIDENCE_PERMIT: IdType
ID_TYPE_FOREIGNER_PR_ID: IdType
SUBJECT_TYPE_UNSPECIFIED: SubjectType
SUBJECT_TYPE_ENTERPRISE: SubjectType
SUBJECT_TYPE_PERSON: SubjectType
SUBJECT_TYPE_SOCIAL_ORGANISATION: SubjectType
SUBJECT_TYPE_PUBLIC_INSTITUTION: SubjectType
SUBJECT_TYPE_GOVERNMENT_AGENCY: SubjectType
ROLE_UNSPECIFIED: Role
ROLE_SUBJECT: Role
ROLE_LEGAL_REPRESENTATIVE: Role
ROLE_PRINCIPAL_RESPONSIBLE: Role
ROLE_ACTUAL_CONTROLLER: Role
ROLE_DIRECTLY_RESPONSIBLE: Role
OUTCOME_UNSPECIFIED: Outcome
OUTCOME_APPLIED: Outcome
OUTCOME_NOT_APPLIED: Outcome
OUTCOME_PARTIALLY_APPLIED: Outcome
OUTCOME_OBJECTED: Outcome

class Subject(_message.Message):
    __slots__ = ("id", "id_type", "name", "subject_type", "role")
    ID_FIELD_NUMBER: _ClassVar[int]
    ID_TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    id_type: IdType
    name: str
    subject_type: SubjectType
    role: Role
    def __init__(self, id: _Optional[str] = ..., id_type: _Optional[_Union[IdType, str]] = ..., name: _Optional[str] = ..., subject_type: _Optional[_Union[SubjectType, str]] = ..., role: _Optional[_Union[Role, str]] = ...) -> None: ...

class CheckRequest(_message.Message):
    __slots__ = ("request_id", "department", "matter", "scene", "subjects", "as_of", "min_data_version")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    MATTER_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    MIN_DATA_VERSION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    department: str
    matter: str
    scene: str
    subjects: _containers.RepeatedCompositeFieldContainer[Subject]
    as_of: _timestamp_pb2.Timestamp
    min_data_version: int
    def __init__(self, request_id: _Optional[str] = ..., department: _Optional[str] = ..., matter: _Optional[str] = ..., scene: _Optional[str] = ..., subjects: _Optional[_Iterable[_Union[Subject, _Mapping]]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., min_data_version: _Optional[int] = ...) -> None: ...

class ListEntry(_message.Message):
    __slots__ = ("entry_id", "list", "polarity", "authority", "document_no", "level", "start", "end", "reason", "severity", "subject_name", "matched_by", "subject_id", "revoked_at", "revoke_reason", "revoke_document_no", "revoke_kind", "reinstated_at", "reinstate_reason", "reinstate_document_no", "reinstated_revocation_at", "reinstated_revocation_document_no")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    LIST_FIELD_NUMBER: _ClassVar[int]
    POLARITY_FIELD_NUMBER: _ClassVar[int]
    AUTHORITY_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NO_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    MATCHED_BY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKE_REASON_FIELD_NUMBER: _ClassVar[int]
    REVOKE_DOCUMENT_NO_FIELD_NUMBER: _ClassVar[int]
    REVOKE_KIND_FIELD_NUMBER: _ClassVar[int]
    REINSTATED_AT_FIELD_NUMBER: _ClassVar[int]
    REINSTATE_REASON_FIELD_NUMBER: _ClassVar[int]
    REINSTATE_DOCUMENT_NO_FIELD_NUMBER: _ClassVar[int]
    REINSTATED_REVOCATION_AT_FIELD_NUMBER: _ClassVar[int]
    REINSTATED_REVOCATION_DOCUMENT_NO_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    list: str
    polarity: Polarity
    authority: str
    document_no: str
    level: str
    start: str
    end: str
    reason: str
    severity: str
    subject_name: str
    matched_by: str
    subject_id: str
    revoked_at: _timestamp_pb2.Timestamp
    revoke_reason: str
    revoke_document_no: str
    revoke_kind: str
    reinstated_at: _timestamp_pb2.Timestamp
    reinstate_reason: str
    reinstate_document_no: str
    reinstated_revocation_at: _timestamp_pb2.Timestamp
    reinstated_revocation_document_no: str
    def __init__(self, entry_id: _Optional[str] = ..., list: _Optional[str] = ..., polarity: _Optional[_Union[Polarity, str]] = ..., authority: _Optional[str] = ..., document_no: _Optional[str] = ..., level: _Optional[str] = ..., start: _Optional[str] = ..., end: _Optional[str] = ..., reason: _Optional[str] = ..., severity: _Optional[str] = ..., subject_name: _Optional[str] = ..., matched_by: _Optional[str] = ..., subject_id: _Optional[str] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoke_reason: _Optional[str] = ..., revoke_document_no: _Optional[str] = ..., revoke_kind: _Optional[str] = ..., reinstated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reinstate_reason: _Optional[str] = ..., reinstate_document_no: _Optional[str] = ..., reinstated_revocation_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reinstated_revocation_document_no: _Optional[str] = ...) -> None: ...

class Measure(_message.Message):
    __slots__ = ("measure_id", "polarity", "action", "title", "legal_basis", "mandatory", "entry_ids", "source")
    MEASURE_ID_FIELD_NUMBER: _ClassVar[int]
    POLARITY_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    MANDATORY_FIELD_NUMBER: _ClassVar[int]
    ENTRY_IDS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    measure_id: str
    polarity: Polarity
    action: str
    title: str
    legal_basis: str
    mandatory: bool
    entry_ids: _containers.RepeatedScalarFieldContainer[str]
    source: str
    def __init__(self, measure_id: _Optional[str] = ..., polarity: _Optional[_Union[Polarity, str]] = ..., action: _Optional[str] = ..., title: _Optional[str] = ..., legal_basis: _Optional[str] = ..., mandatory: _Optional[bool] = ..., entry_ids: _Optional[_Iterable[str]] = ..., source: _Optional[str] = ...) -> None: ...

class WithheldMeasure(_message.Message):
    __slots__ = ("measure", "reason")
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    measure: Measure
    reason: str
    def __init__(self, measure: _Optional[_Union[Measure, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class SubjectResult(_message.Message):
    __slots__ = ("id", "subject_type", "entries", "measures", "withheld", "index", "id_type", "role", "verdict", "notes")
    ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ID_TYPE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    subject_type: SubjectType
    entries: _containers.RepeatedCompositeFieldContainer[ListEntry]
    measures: _containers.RepeatedCompositeFieldContainer[Measure]
    withheld: _containers.RepeatedCompositeFieldContainer[WithheldMeasure]
    index: int
    id_type: IdType
    role: Role
    verdict: Verdict
    notes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., subject_type: _Optional[_Union[SubjectType, str]] = ..., entries: _Optional[_Iterable[_Union[ListEntry, _Mapping]]] = ..., measures: _Optional[_Iterable[_Union[Measure, _Mapping]]] = ..., withheld: _Optional[_Iterable[_Union[WithheldMeasure, _Mapping]]] = ..., index: _Optional[int] = ..., id_type: _Optional[_Union[IdType, str]] = ..., role: _Optional[_Union[Role, str]] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., notes: _Optional[_Iterable[str]] = ...) -> None: ...

class CheckResponse(_message.Message):
    __slots__ = ("check_id", "verdict", "subjects", "catalogue_version", "data_version", "evaluated_at", "request_id", "as_of", "data_age_seconds", "notes", "receipt")
    CHECK_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    CATALOGUE_VERSION_FIELD_NUMBER: _ClassVar[int]
    DATA_VERSION_FIELD_NUMBER: _ClassVar[int]
    EVALUATED_AT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    DATA_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    check_id: str
    verdict: Verdict
    subjects: _containers.RepeatedCompositeFieldContainer[SubjectResult]
    catalogue_version: str
    data_version: str
    evaluated_at: _timestamp_pb2.Timestamp
    request_id: str
    as_of: _timestamp_pb2.Timestamp
    data_age_seconds: int
    notes: _containers.RepeatedScalarFieldContainer[str]
    receipt: Receipt
    def __init__(self, check_id: _Optional[str] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., subjects: _Optional[_Iterable[_Union[SubjectResult, _Mapping]]] = ..., catalogue_version: _Optional[str] = ..., data_version: _Optional[str] = ..., evaluated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_age_seconds: _Optional[int] = ..., notes: _Optional[_Iterable[str]] = ..., receipt: _Optional[_Union[Receipt, _Mapping]] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("ledger_seq", "ledger_hash", "algorithm")
    LEDGER_SEQ_FIELD_NUMBER: _ClassVar[int]
    LEDGER_HASH_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    ledger_seq: int
    ledger_hash: str
    algorithm: str
    def __init__(self, ledger_seq: _Optional[int] = ..., ledger_hash: _Optional[str] = ..., algorithm: _Optional[str] = ...) -> None: ...

class ItemError(_message.Message):
    __slots__ = ("code", "message", "field_violations")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    field_violations: _containers.RepeatedCompositeFieldContainer[FieldViolation]
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., field_violations: _Optional[_Iterable[_Union[FieldViolation, _Mapping]]] = ...) -> None: ...

class FieldViolation(_message.Message):
    __slots__ = ("field", "description")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class BatchCheckRequest(_message.Message):
    __slots__ = ("requests", "min_data_version")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    MIN_DATA_VERSION_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CheckRequest]
    min_data_version: int
    def __init__(self, requests: _Optional[_Iterable[_Union[CheckRequest, _Mapping]]] = ..., min_data_version: _Optional[int] = ...) -> None: ...

class BatchCheckResult(_message.Message):
    __slots__ = ("response", "error")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    response: CheckResponse
    error: ItemError
    def __init__(self, response: _Optional[_Union[CheckResponse, _Mapping]] = ..., error: _Optional[_Union[ItemError, _Mapping]] = ...) -> None: ...

class BatchCheckResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchCheckResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BatchCheckResult, _Mapping]]] = ...) -> None: ...

class FeedbackOutcome(_message.Message):
    __slots__ = ("measure_id", "subject_id", "outcome", "reason")
    MEASURE_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    measure_id: str
    subject_id: str
    outcome: Outcome
    reason: str
    def __init__(self, measure_id: _Optional[str] = ..., subject_id: _Optional[str] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class FeedbackRequest(_message.Message):
    __slots__ = ("check_id", "outcomes", "department")
    CHECK_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    check_id: str
    outcomes: _containers.RepeatedCompositeFieldContainer[FeedbackOutcome]
    department: str
    def __init__(self, check_id: _Optional[str] = ..., outcomes: _Optional[_Iterable[_Union[FeedbackOutcome, _Mapping]]] = ..., department: _Optional[str] = ...) -> None: ...

class FeedbackResponse(_message.Message):
    __slots__ = ("feedback_id", "duplicate", "recorded_at")
    FEEDBACK_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    feedback_id: str
    duplicate: bool
    recorded_at: _timestamp_pb2.Timestamp
    def __init__(self, feedback_id: _Optional[str] = ..., duplicate: _Optional[bool] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetCheckRequest(_message.Message):
    __slots__ = ("check_id",)
    CHECK_ID_FIELD_NUMBER: _ClassVar[int]
    check_id: str
    def __init__(self, check_id: _Optional[str] = ...) -> None: ...

class FeedbackRecord(_message.Message):
    __slots__ = ("feedback_id", "outcomes", "recorded_at")
    FEEDBACK_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    feedback_id: str
    outcomes: _containers.RepeatedCompositeFieldContainer[FeedbackOutcome]
    recorded_at: _timestamp_pb2.Timestamp
    def __init__(self, feedback_id: _Optional[str] = ..., outcomes: _Optional[_Iterable[_Union[FeedbackOutcome, _Mapping]]] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CheckRecord(_message.Message):
    __slots__ = ("check_id", "department", "matter", "scene", "request_id", "response", "feedback", "recorded_at", "ledger_seq", "ledger_hash", "request_fingerprint")
    CHECK_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    MATTER_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    LEDGER_SEQ_FIELD_NUMBER: _ClassVar[int]
    LEDGER_HASH_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    check_id: str
    department: str
    matter: str
    scene: str
    request_id: str
    response: CheckResponse
    feedback: _containers.RepeatedCompositeFieldContainer[FeedbackRecord]
    recorded_at: _timestamp_pb2.Timestamp
    ledger_seq: int
    ledger_hash: str
    request_fingerprint: str
    def __init__(self, check_id: _Optional[str] = ..., department: _Optional[str] = ..., matter: _Optional[str] = ..., scene: _Optional[str] = ..., request_id: _Optional[str] = ..., response: _Optional[_Union[CheckResponse, _Mapping]] = ..., feedback: _Optional[_Iterable[_Union[FeedbackRecord, _Mapping]]] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ledger_seq: _Optional[int] = ..., ledger_hash: _Optional[str] = ..., request_fingerprint: _Optional[str] = ...) -> None: ...
