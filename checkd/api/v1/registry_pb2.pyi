import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from checkd.api.v1 import check_pb2 as _check_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EntryInput(_message.Message):
    __slots__ = ("entry_id", "subject_id", "id_type", "subject_name", "subject_type", "list", "authority", "document_no", "level", "start", "end", "reason", "severity", "legal_representative_id", "legal_representative_name", "registration_no", "principal_responsible_id", "principal_responsible_name", "actual_controller_id", "actual_controller_name", "directly_responsible_id", "directly_responsible_name")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIST_FIELD_NUMBER: _ClassVar[int]
    AUTHORITY_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NO_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    LEGAL_REPRESENTATIVE_ID_FIELD_NUMBER: _ClassVar[int]
    LEGAL_REPRESENTATIVE_NAME_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_NO_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_RESPONSIBLE_ID_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_RESPONSIBLE_NAME_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_CONTROLLER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_CONTROLLER_NAME_FIELD_NUMBER: _ClassVar[int]
    DIRECTLY_RESPONSIBLE_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTLY_RESPONSIBLE_NAME_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    subject_id: str
    id_type: _check_pb2.IdType
    subject_name: str
    subject_type: _check_pb2.SubjectType
    list: str
    authority: str
    document_no: str
    level: str
    start: str
    end: str
    reason: str
    severity: str
    legal_representative_id: str
    legal_representative_name: str
    registration_no: str
    principal_responsible_id: str
    principal_responsible_name: str
    actual_controller_id: str
    actual_controller_name: str
    directly_responsible_id: str
    directly_responsible_name: str
    def __init__(self, entry_id: _Optional[str] = ..., subject_id: _Optional[str] = ..., id_type: _Optional[_Union[_check_pb2.IdType, str]] = ..., subject_name: _Optional[str] = ..., subject_type: _Optional[_Union[_check_pb2.SubjectType, str]] = ..., list: _Optional[str] = ..., authority: _Optional[str] = ..., document_no: _Optional[str] = ..., level: _Optional[str] = ..., start: _Optional[str] = ..., end: _Optional[str] = ..., reason: _Optional[str] = ..., severity: _Optional[str] = ..., legal_representative_id: _Optional[str] = ..., legal_representative_name: _Optional[str] = ..., registration_no: _Optional[str] = ..., principal_responsible_id: _Optional[str] = ..., principal_responsible_name: _Optional[str] = ..., actual_controller_id: _Optional[str] = ..., actual_controller_name: _Optional[str] = ..., directly_responsible_id: _Optional[str] = ..., directly_responsible_name: _Optional[str] = ...) -> None: ...

class UpsertEntriesRequest(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[EntryInput]
    def __init__(self, entries: _Optional[_Iterable[_Union[EntryInput, _Mapping]]] = ...) -> None: ...

class UpsertEntriesResponse(_message.Message):
    __slots__ = ("upserted", "data_version", "kept_revoked", "kept_revoked_entries")
    UPSERTED_FIELD_NUMBER: _ClassVar[int]
    DATA_VERSION_FIELD_NUMBER: _ClassVar[int]
    KEPT_REVOKED_FIELD_NUMBER: _ClassVar[int]
    KEPT_REVOKED_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    upserted: int
    data_version: str
    kept_revoked: int
    kept_revoked_entries: _containers.RepeatedCompositeFieldContainer[KeptRevoked]
    def __init__(self, upserted: _Optional[int] = ..., data_version: _Optional[str] = ..., kept_revoked: _Optional[int] = ..., kept_revoked_entries: _Optional[_Iterable[_Union[KeptRevoked, _Mapping]]] = ...) -> None: ...

class KeptRevoked(_message.Message):
    __slots__ = ("entry_id", "revoked_at", "revoke_document_no", "revoke_kind")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKE_DOCUMENT_NO_FIELD_NUMBER: _ClassVar[int]
    REVOKE_KIND_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    revoked_at: _timestamp_pb2.Timestamp
    revoke_document_no: str
    revoke_kind: str
    def __init__(self, entry_id: _Optional[str] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoke_document_no: _Optional[str] = ..., revoke_kind: _Optional[str] = ...) -> None: ...

class RevokeEntryRequest(_message.Message):
    __slots__ = ("entry_id", "reason", "document_no", "kind")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NO_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    reason: str
    document_no: str
    kind: str
    def __init__(self, entry_id: _Optional[str] = ..., reason: _Optional[str] = ..., document_no: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class RevokeEntryResponse(_message.Message):
    __slots__ = ("data_version", "revoked_at")
    DATA_VERSION_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    data_version: str
    revoked_at: _timestamp_pb2.Timestamp
    def __init__(self, data_version: _Optional[str] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReinstateEntryRequest(_message.Message):
    __slots__ = ("entry_id", "reason", "document_no")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NO_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    reason: str
    document_no: str
    def __init__(self, entry_id: _Optional[str] = ..., reason: _Optional[str] = ..., document_no: _Optional[str] = ...) -> None: ...

class ReinstateEntryResponse(_message.Message):
    __slots__ = ("data_version", "reinstated_at", "revoked_at", "revoke_document_no")
    DATA_VERSION_FIELD_NUMBER: _ClassVar[int]
    REINSTATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKE_DOCUMENT_NO_FIELD_NUMBER: _ClassVar[int]
    data_version: str
    reinstated_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    revoke_document_no: str
    def __init__(self, data_version: _Optional[str] = ..., reinstated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoke_document_no: _Optional[str] = ...) -> None: ...

class GetSubjectRequest(_message.Message):
    __slots__ = ("id", "id_type")
    ID_FIELD_NUMBER: _ClassVar[int]
    ID_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    id_type: _check_pb2.IdType
    def __init__(self, id: _Optional[str] = ..., id_type: _Optional[_Union[_check_pb2.IdType, str]] = ...) -> None: ...

class GetSubjectResponse(_message.Message):
    __slots__ = ("id", "subject_type", "entries", "recent_checks", "recent_checks_scanned", "relations")
    ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    RECENT_CHECKS_FIELD_NUMBER: _ClassVar[int]
    RECENT_CHECKS_SCANNED_FIELD_NUMBER: _ClassVar[int]
    RELATIONS_FIELD_NUMBER: _ClassVar[int]
    id: str
    subject_type: _check_pb2.SubjectType
    entries: _containers.RepeatedCompositeFieldContainer[_check_pb2.ListEntry]
    recent_checks: _containers.RepeatedCompositeFieldContainer[SubjectCheck]
    recent_checks_scanned: int
    relations: _containers.RepeatedCompositeFieldContainer[RoleRelation]
    def __init__(self, id: _Optional[str] = ..., subject_type: _Optional[_Union[_check_pb2.SubjectType, str]] = ..., entries: _Optional[_Iterable[_Union[_check_pb2.ListEntry, _Mapping]]] = ..., recent_checks: _Optional[_Iterable[_Union[SubjectCheck, _Mapping]]] = ..., recent_checks_scanned: _Optional[int] = ..., relations: _Optional[_Iterable[_Union[RoleRelation, _Mapping]]] = ...) -> None: ...

class RoleRelation(_message.Message):
    __slots__ = ("entry_id", "role", "person_id", "person_name", "queried")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_NAME_FIELD_NUMBER: _ClassVar[int]
    QUERIED_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    role: _check_pb2.Role
    person_id: str
    person_name: str
    queried: bool
    def __init__(self, entry_id: _Optional[str] = ..., role: _Optional[_Union[_check_pb2.Role, str]] = ..., person_id: _Optional[str] = ..., person_name: _Optional[str] = ..., queried: _Optional[bool] = ...) -> None: ...

class SubjectCheck(_message.Message):
    __slots__ = ("check_id", "department", "matter", "scene", "recorded_at", "verdict", "entry_ids")
    CHECK_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    MATTER_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    ENTRY_IDS_FIELD_NUMBER: _ClassVar[int]
    check_id: str
    department: str
    matter: str
    scene: str
    recorded_at: _timestamp_pb2.Timestamp
    verdict: _check_pb2.Verdict
    entry_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, check_id: _Optional[str] = ..., department: _Optional[str] = ..., matter: _Optional[str] = ..., scene: _Optional[str] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., verdict: _Optional[_Union[_check_pb2.Verdict, str]] = ..., entry_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReloadRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReloadResponse(_message.Message):
    __slots__ = ("catalogue_version", "data_version", "entries")
    CATALOGUE_VERSION_FIELD_NUMBER: _ClassVar[int]
    DATA_VERSION_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    catalogue_version: str
    data_version: str
    entries: int
    def __init__(self, catalogue_version: _Optional[str] = ..., data_version: _Optional[str] = ..., entries: _Optional[int] = ...) -> None: ...

class GetCatalogueRequest(_message.Message):
    __slots__ = ("department", "scene", "matter")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    MATTER_FIELD_NUMBER: _ClassVar[int]
    department: str
    scene: str
    matter: str
    def __init__(self, department: _Optional[str] = ..., scene: _Optional[str] = ..., matter: _Optional[str] = ...) -> None: ...

class NamedItem(_message.Message):
    __slots__ = ("id", "name")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListTypeInfo(_message.Message):
    __slots__ = ("id", "name", "polarity", "subject_types", "default_months", "max_months", "repairable", "severities", "severity_polarity")
    class SeverityPolarityEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _check_pb2.Polarity
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_check_pb2.Polarity, str]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    POLARITY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_TYPES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_MONTHS_FIELD_NUMBER: _ClassVar[int]
    MAX_MONTHS_FIELD_NUMBER: _ClassVar[int]
    REPAIRABLE_FIELD_NUMBER: _ClassVar[int]
    SEVERITIES_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_POLARITY_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    polarity: _check_pb2.Polarity
    subject_types: _containers.RepeatedScalarFieldContainer[_check_pb2.SubjectType]
    default_months: int
    max_months: int
    repairable: bool
    severities: _containers.RepeatedScalarFieldContainer[str]
    severity_polarity: _containers.ScalarMap[str, _check_pb2.Polarity]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., polarity: _Optional[_Union[_check_pb2.Polarity, str]] = ..., subject_types: _Optional[_Iterable[_Union[_check_pb2.SubjectType, str]]] = ..., default_months: _Optional[int] = ..., max_months: _Optional[int] = ..., repairable: _Optional[bool] = ..., severities: _Optional[_Iterable[str]] = ..., severity_polarity: _Optional[_Mapping[str, _check_pb2.Polarity]] = ...) -> None: ...

class TriggerInfo(_message.Message):
    __slots__ = ("list", "severities")
    LIST_FIELD_NUMBER: _ClassVar[int]
    SEVERITIES_FIELD_NUMBER: _ClassVar[int]
    list: str
    severities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, list: _Optional[str] = ..., severities: _Optional[_Iterable[str]] = ...) -> None: ...

class MeasureInfo(_message.Message):
    __slots__ = ("measure_id", "title", "polarity", "action", "departments", "scenes", "matters", "triggers", "subject_types", "roles", "mandatory", "legal_basis", "effective_from", "effective_to", "source", "uncertain")
    MEASURE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    POLARITY_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    SCENES_FIELD_NUMBER: _ClassVar[int]
    MATTERS_FIELD_NUMBER: _ClassVar[int]
    TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_TYPES_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    MANDATORY_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_TO_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    UNCERTAIN_FIELD_NUMBER: _ClassVar[int]
    measure_id: str
    title: str
    polarity: _check_pb2.Polarity
    action: str
    departments: _containers.RepeatedScalarFieldContainer[str]
    scenes: _containers.RepeatedScalarFieldContainer[str]
    matters: _containers.RepeatedScalarFieldContainer[str]
    triggers: _containers.RepeatedCompositeFieldContainer[TriggerInfo]
    subject_types: _containers.RepeatedScalarFieldContainer[_check_pb2.SubjectType]
    roles: _containers.RepeatedScalarFieldContainer[_check_pb2.Role]
    mandatory: bool
    legal_basis: str
    effective_from: str
    effective_to: str
    source: str
    uncertain: str
    def __init__(self, measure_id: _Optional[str] = ..., title: _Optional[str] = ..., polarity: _Optional[_Union[_check_pb2.Polarity, str]] = ..., action: _Optional[str] = ..., departments: _Optional[_Iterable[str]] = ..., scenes: _Optional[_Iterable[str]] = ..., matters: _Optional[_Iterable[str]] = ..., triggers: _Optional[_Iterable[_Union[TriggerInfo, _Mapping]]] = ..., subject_types: _Optional[_Iterable[_Union[_check_pb2.SubjectType, str]]] = ..., roles: _Optional[_Iterable[_Union[_check_pb2.Role, str]]] = ..., mandatory: _Optional[bool] = ..., legal_basis: _Optional[str] = ..., effective_from: _Optional[str] = ..., effective_to: _Optional[str] = ..., source: _Optional[str] = ..., uncertain: _Optional[str] = ...) -> None: ...

class CatalogueView(_message.Message):
    __slots__ = ("version", "edition", "scenes", "departments", "list_types", "measures")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EDITION_FIELD_NUMBER: _ClassVar[int]
    SCENES_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    LIST_TYPES_FIELD_NUMBER: _ClassVar[int]
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    version: str
    edition: str
    scenes: _containers.RepeatedCompositeFieldContainer[NamedItem]
    departments: _containers.RepeatedCompositeFieldContainer[NamedItem]
    list_types: _containers.RepeatedCompositeFieldContainer[ListTypeInfo]
    measures: _containers.RepeatedCompositeFieldContainer[MeasureInfo]
    def __init__(self, version: _Optional[str] = ..., edition: _Optional[str] = ..., scenes: _Optional[_Iterable[_Union[NamedItem, _Mapping]]] = ..., departments: _Optional[_Iterable[_Union[NamedItem, _Mapping]]] = ..., list_types: _Optional[_Iterable[_Union[ListTypeInfo, _Mapping]]] = ..., measures: _Optional[_Iterable[_Union[MeasureInfo, _Mapping]]] = ...) -> None: ...

class StatsRequest(_message.Message):
    __slots__ = ("from_date", "to_date", "department", "overdue_days", "as_of")
    FROM_DATE_FIELD_NUMBER: _ClassVar[int]
    TO_DATE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_DAYS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    from_date: str
    to_date: str
    department: str
    overdue_days: int
    as_of: str
    def __init__(self, from_date: _Optional[str] = ..., to_date: _Optional[str] = ..., department: _Optional[str] = ..., overdue_days: _Optional[int] = ..., as_of: _Optional[str] = ...) -> None: ...

class StatsRow(_message.Message):
    __slots__ = ("department", "month", "checks", "subjects_checked", "subjects_hit_penalty", "subjects_hit_reward", "measures_mandatory", "measures_discretionary", "feedback_applied", "feedback_not_applied", "feedback_partially_applied", "feedback_objected", "checks_missing_feedback", "penalty_checks_overdue", "restrictions_applied", "checks_with_measures")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_HIT_PENALTY_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_HIT_REWARD_FIELD_NUMBER: _ClassVar[int]
    MEASURES_MANDATORY_FIELD_NUMBER: _ClassVar[int]
    MEASURES_DISCRETIONARY_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_APPLIED_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_NOT_APPLIED_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_PARTIALLY_APPLIED_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_OBJECTED_FIELD_NUMBER: _ClassVar[int]
    CHECKS_MISSING_FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    PENALTY_CHECKS_OVERDUE_FIELD_NUMBER: _ClassVar[int]
    RESTRICTIONS_APPLIED_FIELD_NUMBER: _ClassVar[int]
    CHECKS_WITH_MEASURES_FIELD_NUMBER: _ClassVar[int]
    department: str
    month: str
    checks: int
    subjects_checked: int
    subjects_hit_penalty: int
    subjects_hit_reward: int
    measures_mandatory: int
    measures_discretionary: int
    feedback_applied: int
    feedback_not_applied: int
    feedback_partially_applied: int
    feedback_objected: int
    checks_missing_feedback: int
    penalty_checks_overdue: int
    restrictions_applied: int
    checks_with_measures: int
    def __init__(self, department: _Optional[str] = ..., month: _Optional[str] = ..., checks: _Optional[int] = ..., subjects_checked: _Optional[int] = ..., subjects_hit_penalty: _Optional[int] = ..., subjects_hit_reward: _Optional[int] = ..., measures_mandatory: _Optional[int] = ..., measures_discretionary: _Optional[int] = ..., feedback_applied: _Optional[int] = ..., feedback_not_applied: _Optional[int] = ..., feedback_partially_applied: _Optional[int] = ..., feedback_objected: _Optional[int] = ..., checks_missing_feedback: _Optional[int] = ..., penalty_checks_overdue: _Optional[int] = ..., restrictions_applied: _Optional[int] = ..., checks_with_measures: _Optional[int] = ...) -> None: ...

class StatsResponse(_message.Message):
    __slots__ = ("rows", "total", "plan_checks_per_year")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PLAN_CHECKS_PER_YEAR_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[StatsRow]
    total: StatsRow
    plan_checks_per_year: int
    def __init__(self, rows: _Optional[_Iterable[_Union[StatsRow, _Mapping]]] = ..., total: _Optional[_Union[StatsRow, _Mapping]] = ..., plan_checks_per_year: _Optional[int] = ...) -> None: ...

class GetStateRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StateResponse(_message.Message):
    __slots__ = ("department", "via", "catalogue_version", "catalogue_edition", "data_version", "data_age_seconds", "entries", "max_data_age_seconds")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    VIA_FIELD_NUMBER: _ClassVar[int]
    CATALOGUE_VERSION_FIELD_NUMBER: _ClassVar[int]
    CATALOGUE_EDITION_FIELD_NUMBER: _ClassVar[int]
    DATA_VERSION_FIELD_NUMBER: _ClassVar[int]
    DATA_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    MAX_DATA_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    department: str
    via: str
    catalogue_version: str
    catalogue_edition: str
    data_version: str
    data_age_seconds: float
    entries: int
    max_data_age_seconds: float
    def __init__(self, department: _Optional[str] = ..., via: _Optional[str] = ..., catalogue_version: _Optional[str] = ..., catalogue_edition: _Optional[str] = ..., data_version: _Optional[str] = ..., data_age_seconds: _Optional[float] = ..., entries: _Optional[int] = ..., max_data_age_seconds: _Optional[float] = ...) -> None: ...

class ImportFile(_message.Message):
    __slots__ = ("name", "content")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    name: str
    content: bytes
    def __init__(self, name: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class ImportEntriesRequest(_message.Message):
    __slots__ = ("files",)
    FILES_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[ImportFile]
    def __init__(self, files: _Optional[_Iterable[_Union[ImportFile, _Mapping]]] = ...) -> None: ...

class ImportEntriesResponse(_message.Message):
    __slots__ = ("imported", "data_version", "per_list", "kept_revoked_entries")
    class PerListEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    DATA_VERSION_FIELD_NUMBER: _ClassVar[int]
    PER_LIST_FIELD_NUMBER: _ClassVar[int]
    KEPT_REVOKED_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    imported: int
    data_version: str
    per_list: _containers.ScalarMap[str, int]
    kept_revoked_entries: _containers.RepeatedCompositeFieldContainer[KeptRevoked]
    def __init__(self, imported: _Optional[int] = ..., data_version: _Optional[str] = ..., per_list: _Optional[_Mapping[str, int]] = ..., kept_revoked_entries: _Optional[_Iterable[_Union[KeptRevoked, _Mapping]]] = ...) -> None: ...

class VerifyLedgerRequest(_message.Message):
    __slots__ = ("receipts",)
    RECEIPTS_FIELD_NUMBER: _ClassVar[int]
    receipts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, receipts: _Optional[_Iterable[str]] = ...) -> None: ...

class VerifyLedgerResponse(_message.Message):
    __slots__ = ("ok", "records", "head_seq", "head_hash", "algorithm", "problems", "notes", "checkpoints_stored", "checkpoints_verified", "last_checkpoint", "uncovered")
    OK_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    HEAD_SEQ_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINTS_STORED_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINTS_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    UNCOVERED_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    records: int
    head_seq: int
    head_hash: str
    algorithm: str
    problems: _containers.RepeatedScalarFieldContainer[str]
    notes: _containers.RepeatedScalarFieldContainer[str]
    checkpoints_stored: int
    checkpoints_verified: int
    last_checkpoint: int
    uncovered: int
    def __init__(self, ok: _Optional[bool] = ..., records: _Optional[int] = ..., head_seq: _Optional[int] = ..., head_hash: _Optional[str] = ..., algorithm: _Optional[str] = ..., problems: _Optional[_Iterable[str]] = ..., notes: _Optional[_Iterable[str]] = ..., checkpoints_stored: _Optional[int] = ..., checkpoints_verified: _Optional[int] = ..., last_checkpoint: _Optional[int] = ..., uncovered: _Optional[int] = ...) -> None: ...

class GetCheckRecordRequest(_message.Message):
    __slots__ = ("check_id", "department", "request_id")
    CHECK_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    check_id: str
    department: str
    request_id: str
    def __init__(self, check_id: _Optional[str] = ..., department: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListOverdueRequest(_message.Message):
    __slots__ = ("department", "days", "limit")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    department: str
    days: int
    limit: int
    def __init__(self, department: _Optional[str] = ..., days: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class OverdueCheck(_message.Message):
    __slots__ = ("check_id", "department", "matter", "scene", "recorded_at", "measures", "penalty_measures")
    CHECK_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    MATTER_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    PENALTY_MEASURES_FIELD_NUMBER: _ClassVar[int]
    check_id: str
    department: str
    matter: str
    scene: str
    recorded_at: _timestamp_pb2.Timestamp
    measures: int
    penalty_measures: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, check_id: _Optional[str] = ..., department: _Optional[str] = ..., matter: _Optional[str] = ..., scene: _Optional[str] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., measures: _Optional[int] = ..., penalty_measures: _Optional[_Iterable[str]] = ...) -> None: ...

class ListOverdueResponse(_message.Message):
    __slots__ = ("items", "days")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[OverdueCheck]
    days: int
    def __init__(self, items: _Optional[_Iterable[_Union[OverdueCheck, _Mapping]]] = ..., days: _Optional[int] = ...) -> None: ...
