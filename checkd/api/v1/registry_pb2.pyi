import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from checkd.api.v1 import check_pb2 as _check_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EntryInput(_message.Message):
    __slots__ = ("entry_id", "subject_id", "id_type", "subject_name", "subject_type", "list", "authority", "document_no", "level", "start", "end", "reason", "severity", "legal_representative_id", "legal_representative_name")
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
    def __init__(self, entry_id: _Optional[str] = ..., subject_id: _Optional[str] = ..., id_type: _Optional[_Union[_check_pb2.IdType, str]] = ..., subject_name: _Optional[str] = ..., subject_type: _Optional[_Union[_check_pb2.SubjectType, str]] = ..., list: _Optional[str] = ..., authority: _Optional[str] = ..., document_no: _Optional[str] = ..., level: _Optional[str] = ..., start: _Optional[str] = ..., end: _Optional[str] = ..., reason: _Optional[str] = ..., severity: _Optional[str] = ..., legal_representative_id: _Optional[str] = ..., legal_representative_name: _Optional[str] = ...) -> None: ...

class UpsertEntriesRequest(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[EntryInput]
    def __init__(self, entries: _Optional[_Iterable[_Union[EntryInput, _Mapping]]] = ...) -> None: ...

class UpsertEntriesResponse(_message.Message):
    __slots__ = ("upserted", "data_version")
    UPSERTED_FIELD_NUMBER: _ClassVar[int]
    DATA_VERSION_FIELD_NUMBER: _ClassVar[int]
    upserted: int
    data_version: str
    def __init__(self, upserted: _Optional[int] = ..., data_version: _Optional[str] = ...) -> None: ...

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

class GetSubjectRequest(_message.Message):
    __slots__ = ("id", "id_type")
    ID_FIELD_NUMBER: _ClassVar[int]
    ID_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    id_type: _check_pb2.IdType
    def __init__(self, id: _Optional[str] = ..., id_type: _Optional[_Union[_check_pb2.IdType, str]] = ...) -> None: ...

class GetSubjectResponse(_message.Message):
    __slots__ = ("id", "subject_type", "entries")
    ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    id: str
    subject_type: _check_pb2.SubjectType
    entries: _containers.RepeatedCompositeFieldContainer[_check_pb2.ListEntry]
    def __init__(self, id: _Optional[str] = ..., subject_type: _Optional[_Union[_check_pb2.SubjectType, str]] = ..., entries: _Optional[_Iterable[_Union[_check_pb2.ListEntry, _Mapping]]] = ...) -> None: ...

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
