"""The stored-answer format: what a check answered and a feedback said, as the ledger keeps them.

A check is recorded as the serialised `CheckRecord` (with the `CheckResponse` the caller received)
and a feedback as a `FeedbackRecord`; `GetCheck` returns those bytes as they were answered and
`ledger verify` re-derives the lookup rows from them. This module is the one owner of that format
outside the gRPC adapter, so it is the one inner module allowed to import the generated stubs
(the layering contract in pyproject.toml names it): the server builds answers with it, the use
cases record and read them back with it, and the verifier derives rows from it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from checkd.api.v1 import check_pb2 as pb
from checkd.evidence import wire
from checkd.model import (
    Decision,
    ListEntry,
    Measure,
    MeasureHit,
    Outcome,
    Polarity,
    Role,
    SubjectDecision,
    SubjectType,
    Verdict,
    WithheldMeasure,
)
from checkd.rules.catalogue import Catalogue
from checkd.store import CheckRef, FeedbackRef, OutcomeFact
from checkd.subjects.ids import IdKind
from checkd.values import quick_init

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_E = TypeVar("_E", bound=StrEnum)

ID_TYPES: dict[int, IdKind | None] = {
    pb.ID_TYPE_UNSPECIFIED: None,
    pb.ID_TYPE_USCC: IdKind.USCC,
    pb.ID_TYPE_ORG_CODE: IdKind.ORG_CODE,
    pb.ID_TYPE_BUSINESS_REG_NO: IdKind.BUSINESS_REG_NO,
    pb.ID_TYPE_RESIDENT_ID: IdKind.RESIDENT_ID,
    pb.ID_TYPE_HMT_RESIDENCE_PERMIT: IdKind.HMT_RESIDENCE_PERMIT,
    pb.ID_TYPE_FOREIGNER_PR_ID: IdKind.FOREIGNER_PR_ID,
}
_ID_TYPE_OF_KIND: dict[IdKind, Any] = {kind: number for number, kind in ID_TYPES.items() if kind}


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
    seconds, nanos = _seconds_nanos(value)
    return Timestamp(seconds=seconds, nanos=nanos)


def _seconds_nanos(value: dt.datetime) -> tuple[int, int]:
    # Exact integer arithmetic; Timestamp.FromDatetime costs several times more per call.
    since = value - _EPOCH
    return since.days * 86_400 + since.seconds, since.microseconds * 1000


def from_timestamp(stamp: Timestamp) -> dt.datetime:
    """A protobuf Timestamp as an aware UTC datetime."""
    return stamp.ToDatetime(tzinfo=dt.UTC)


def check_response(
    decision: Decision,
    catalogue: Catalogue,
    check_id: str,
    request_id: str,
    as_of: dt.datetime,
    data_age_seconds: int = 0,
) -> pb.CheckResponse:
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
            result.entries.append(entry_message(hit.entry, polarity, hit.label))
        for measure_hit in subject.measures:
            result.measures.append(measure_message(measure_hit.measure, measure_hit.entry_ids))
        for withheld in subject.withheld:
            result.withheld.add(
                measure=measure_message(withheld.measure, withheld.entry_ids), reason=withheld.reason
            )
    return response


def entry_message(
    entry: ListEntry, polarity: Polarity | None, matched_by: str = "", with_revocation: bool = False
) -> pb.ListEntry:
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


# ------------------------------------------------------------------ answers assembled from bytes
#
# The check path writes the CheckResponse and its CheckRecord straight from the Decision as wire
# bytes (checkd/evidence/wire.py): no message objects for the ~95% of subjects on no list, and each
# measure's fields serialised once per catalogue. The bytes are those check_response/check_record
# serialise to (tests/unit/test_answer_bytes.py and the differential test hold them equal).

_VERDICT_NO = {v: to_pb_enum(pb.Verdict, "VERDICT", v) for v in Verdict}
_ROLE_NO = {r: to_pb_enum(pb.Role, "ROLE", r) for r in Role}
_SUBJECT_TYPE_NO = {t: to_pb_enum(pb.SubjectType, "SUBJECT_TYPE", t) for t in SubjectType}
_POLARITY_NO = {p: to_pb_enum(pb.Polarity, "POLARITY", p) for p in (*Polarity, None)}
_ID_TYPE_NO: dict[str, int] = {kind.value: int(number) for kind, number in _ID_TYPE_OF_KIND.items()}


@quick_init
@dataclass(frozen=True, slots=True)
class Answer:
    """A check as the caller receives it: the serialised CheckResponse, receipt included."""

    payload: bytes


@quick_init
@dataclass(frozen=True, slots=True)
class DraftCheck:
    """A decided check before commit: the record to chain and the answer that waits for its receipt."""

    response: bytes  # the CheckResponse without its receipt
    record: bytes  # the CheckRecord chained in the ledger (response embedded)
    ref: CheckRef

    def answered(self, seq: int, digest: str, algorithm: str) -> Answer:
        """The answer with its receipt (the receipt is CheckResponse's last field: appended)."""
        return Answer(self.response + receipt_bytes(seq, digest, algorithm))

    def remembered(self, seq: int, digest: str) -> bytes:
        """The record with its ledger position, as the recent-answers cache keeps it."""
        return self.record + wire.number(9, seq) + wire.text(10, digest)


def draft_check(
    decision: Decision,
    catalogue: Catalogue,
    check_id: str,
    request_id: str,
    as_of: dt.datetime,
    data_age_seconds: int,
    *,
    department: str,
    matter: str,
    scene: str,
    fingerprint: str,
) -> DraftCheck:
    """A decision as its answer bytes, its record bytes and its `checks` row, in one pass."""
    parts = [wire.text(1, check_id), wire.number(2, _VERDICT_NO[decision.verdict])]
    evaluated_at = _stamp(decision.evaluated_at)  # as_of is the same instant unless the caller gave one
    hit_penalty = hit_reward = mandatory = discretionary = 0
    has_penalty = False
    for subject in decision.subjects:
        if subject.hits:
            polarities = [catalogue.polarity_of(h.entry.list_id, h.entry.severity) for h in subject.hits]
            hit_penalty += Polarity.PENALTY in polarities
            hit_reward += Polarity.REWARD in polarities
        else:
            polarities = []
        parts.append(wire.length_delimited(3, _subject_bytes(subject, polarities)))
        for measure_hit in subject.measures:
            measure = measure_hit.measure
            mandatory += measure.mandatory
            discretionary += not measure.mandatory
            has_penalty = has_penalty or measure.polarity is Polarity.PENALTY
    parts += (
        wire.text(4, decision.catalogue_version),
        wire.text(5, decision.data_version),
        wire.length_delimited(6, evaluated_at),
        wire.text(7, request_id),
        wire.length_delimited(8, evaluated_at if as_of == decision.evaluated_at else _stamp(as_of)),
        wire.number(9, data_age_seconds),
        wire.texts(10, decision.notes),
    )
    response = b"".join(parts)
    record = b"".join(
        (
            wire.text(1, check_id),
            wire.text(2, department),
            wire.text(3, matter),
            wire.text(4, scene),
            wire.text(5, request_id),
            wire.length_delimited(6, response),
            wire.text(11, fingerprint),
        )
    )
    ref = CheckRef(
        check_id,
        department,
        request_id or None,
        matter,
        scene,
        decision.verdict.value,
        subjects=len(decision.subjects),
        subjects_hit_penalty=hit_penalty,
        subjects_hit_reward=hit_reward,
        measures_mandatory=mandatory,
        measures_discretionary=discretionary,
        has_penalty=has_penalty,
        fingerprint=fingerprint,
    )
    return DraftCheck(response, record, ref)


def _stamp(value: dt.datetime) -> bytes:
    """A Timestamp message's bytes."""
    seconds, nanos = _seconds_nanos(value)
    return wire.number(1, seconds) + wire.number(2, nanos)


def _subject_bytes(subject: SubjectDecision, polarities: list[Polarity | None]) -> bytes:
    """One SubjectResult; a subject on no list is its identity and verdict only."""
    query = subject.query
    head = wire.text(1, query.display_id) + wire.number(2, _SUBJECT_TYPE_NO[query.subject_type])
    tail = (
        wire.number(6, query.index)
        + wire.number(7, _ID_TYPE_NO[query.id_kind] if query.id_kind else 0)
        + wire.number(8, _ROLE_NO[query.role])
        + wire.number(9, _VERDICT_NO[subject.verdict])
        + wire.texts(10, subject.notes)
    )
    if not (subject.hits or subject.measures or subject.withheld):
        return head + tail
    body = [head]
    hits = zip(subject.hits, polarities, strict=True)
    body.extend(_entry_bytes(hit.entry, polarity, hit.label) for hit, polarity in hits)
    body.extend(wire.length_delimited(4, _measure_bytes(m)) for m in subject.measures)
    body.extend(wire.length_delimited(5, _withheld_bytes(w)) for w in subject.withheld)
    body.append(tail)
    return b"".join(body)


# SubjectResult.entries items by (entry identity, polarity, how matched): entries never change once
# loaded (a change is a new ListEntry), and the same listed subjects come back check after check.
# Each value keeps its entry alive, so an id cannot be reused for another entry while it is cached.
_ENTRY_BYTES: dict[tuple[int, Polarity | None, str], tuple[ListEntry, bytes]] = {}
_ENTRY_BYTES_KEPT = 50_000  # some 25 MB at most; emptied when full (the hot entries come back first)


def _entry_bytes(entry: ListEntry, polarity: Polarity | None, matched_by: str) -> bytes:
    key = (id(entry), polarity, matched_by)
    cached = _ENTRY_BYTES.get(key)
    if cached is not None and cached[0] is entry:
        return cached[1]
    data = wire.length_delimited(3, entry_message(entry, polarity, matched_by).SerializeToString())
    if len(_ENTRY_BYTES) >= _ENTRY_BYTES_KEPT:
        _ENTRY_BYTES.clear()
    _ENTRY_BYTES[key] = (entry, data)
    return data


def _measure_bytes(hit: MeasureHit | WithheldMeasure) -> bytes:
    before, after = _measure_fragments(hit.measure)
    return before + wire.texts(7, hit.entry_ids) + after


def _withheld_bytes(withheld: WithheldMeasure) -> bytes:
    return wire.length_delimited(1, _measure_bytes(withheld)) + wire.text(2, withheld.reason)


@functools.lru_cache(maxsize=4096)  # the measures of the catalogues in force: a few hundred
def _measure_fragments(measure: Measure) -> tuple[bytes, bytes]:
    """A Measure message's bytes before and after its entry ids (field 7), serialised once."""
    before = (
        wire.text(1, measure.measure_id)
        + wire.number(2, _POLARITY_NO[measure.polarity])
        + wire.text(3, measure.action.value)
        + wire.text(4, measure.title)
        + wire.text(5, measure.legal_basis)
        + wire.number(6, measure.mandatory)
    )
    return before, wire.text(8, measure.source)


def receipt_bytes(seq: int, digest: str, algorithm: str) -> bytes:
    """The receipt as CheckResponse's field 11."""
    return wire.length_delimited(11, wire.number(1, seq) + wire.text(2, digest) + wire.text(3, algorithm))


def verdict_of(response: pb.CheckResponse) -> Verdict:
    """The verdict of a stored response as a model value."""
    value = from_pb_enum(pb.Verdict, "VERDICT", response.verdict, Verdict)
    return value or Verdict.CLEAR


def check_ref_of(record: pb.CheckRecord) -> CheckRef:
    """The `checks` lookup row of a stored CheckRecord, with the figures the statistics count."""
    hit_penalty = hit_reward = mandatory = discretionary = 0
    has_penalty = False
    for subject in record.response.subjects:
        polarities = {entry.polarity for entry in subject.entries}
        hit_penalty += pb.POLARITY_PENALTY in polarities
        hit_reward += pb.POLARITY_REWARD in polarities
        for measure in subject.measures:
            mandatory += measure.mandatory
            discretionary += not measure.mandatory
            has_penalty = has_penalty or measure.polarity == pb.POLARITY_PENALTY
    return CheckRef(
        record.check_id,
        record.department,
        record.request_id or None,
        record.matter,
        record.scene,
        verdict_of(record.response).value,
        subjects=len(record.response.subjects),
        subjects_hit_penalty=hit_penalty,
        subjects_hit_reward=hit_reward,
        measures_mandatory=mandatory,
        measures_discretionary=discretionary,
        has_penalty=has_penalty,
        fingerprint=record.request_fingerprint,
    )


def feedback_digest(outcomes: Iterable[pb.FeedbackOutcome]) -> str:
    """The content digest that makes a resent feedback be stored once."""
    canonical = sorted((o.measure_id, o.subject_id, o.outcome, o.reason) for o in outcomes)
    return hashlib.sha256(repr(canonical).encode()).hexdigest()


def feedback_ref_of(check: pb.CheckRecord, feedback: pb.FeedbackRecord) -> FeedbackRef:
    """The `feedback` and `feedback_outcomes` rows of a stored FeedbackRecord on its check."""
    actions = {m.measure_id: m.action for s in check.response.subjects for m in s.measures}
    facts = tuple(
        OutcomeFact(o.measure_id, o.subject_id, _outcome_name(o.outcome), actions.get(o.measure_id, ""))
        for o in feedback.outcomes
    )
    return FeedbackRef(feedback.feedback_id, check.check_id, feedback_digest(feedback.outcomes), facts)


def _outcome_name(number: int) -> str:
    """The model name of a stored outcome number (an unknown one named as such)."""
    try:
        outcome = from_pb_enum(pb.Outcome, "OUTCOME", number, Outcome)
    except ValueError:
        return f"unknown:{number}"
    return outcome.value if outcome else ""


# The stored records' types, named through their owner so the use cases need not import the stubs.
CheckRecord = pb.CheckRecord
CheckResponse = pb.CheckResponse
FeedbackRecord = pb.FeedbackRecord
FeedbackOutcome = pb.FeedbackOutcome
Receipt = pb.Receipt


def check_record(
    check_id: str,
    department: str,
    matter: str,
    scene: str,
    request_id: str,
    response: pb.CheckResponse,
    fingerprint: str,
) -> pb.CheckRecord:
    """The record a check is chained as: the answer with who asked, in which matter and scene."""
    return pb.CheckRecord(
        check_id=check_id,
        department=department,
        matter=matter,
        scene=scene,
        request_id=request_id,
        response=response,
        request_fingerprint=fingerprint,
    )


def receipt(seq: int, digest: str, algorithm: str) -> pb.Receipt:
    """Where a record sits in the chain (given after commit, outside the hashed payload)."""
    return pb.Receipt(ledger_seq=seq, ledger_hash=digest, algorithm=algorithm)


def outcome_of(number: int) -> Outcome | None:
    """A stored outcome number as the model's Outcome (UNSPECIFIED: None); ValueError when unknown."""
    return from_pb_enum(pb.Outcome, "OUTCOME", number, Outcome)


def outcome_label(number: int) -> str:
    """The wire name of an outcome number, as the feedback log shows it."""
    return str(pb.Outcome.Name(number))


def feedback_outcome(measure_id: str, subject_id: str, outcome: int, reason: str) -> pb.FeedbackOutcome:
    """One outcome as a feedback record keeps it."""
    return pb.FeedbackOutcome(measure_id=measure_id, subject_id=subject_id, outcome=outcome, reason=reason)  # type: ignore[arg-type]  # a checked number


def feedback_record(feedback_id: str, outcomes: Iterable[pb.FeedbackOutcome]) -> pb.FeedbackRecord:
    """The record a feedback is chained as."""
    return pb.FeedbackRecord(feedback_id=feedback_id, outcomes=outcomes)


@dataclass(frozen=True, slots=True)
class StoredCheck:
    """A stored check as GetCheck returns it: the serialised CheckRecord with feedback and position."""

    payload: bytes


def stored_check(
    payload: bytes,
    recorded_at: dt.datetime,
    seq: int,
    digest: str,
    algorithm: str,
    feedback: Iterable[tuple[bytes, dt.datetime]],
) -> StoredCheck:
    """The record as answered, with when and where it was chained and the feedback on it."""
    record = read_check(payload)
    record.recorded_at.CopyFrom(timestamp(recorded_at))
    record.ledger_seq = seq
    record.ledger_hash = digest
    record.response.receipt.CopyFrom(receipt(seq, digest, algorithm))
    for item, item_recorded_at in feedback:
        message = read_feedback(item)
        message.recorded_at.CopyFrom(timestamp(item_recorded_at))
        record.feedback.append(message)
    return StoredCheck(record.SerializeToString())


def read_check(payload: bytes) -> pb.CheckRecord:
    """A stored check record from its ledger payload."""
    return pb.CheckRecord.FromString(payload)


def read_feedback(payload: bytes) -> pb.FeedbackRecord:
    """A stored feedback record from its ledger payload."""
    return pb.FeedbackRecord.FromString(payload)


def penalty_measures(payload: bytes) -> tuple[str, ...]:
    """The penalty measure ids a stored check answer pushed, in order, once each (for the statistics)."""
    response = pb.CheckRecord.FromString(payload).response
    seen: dict[str, None] = {}
    for subject in response.subjects:
        for measure in subject.measures:
            if measure.polarity == pb.POLARITY_PENALTY:
                seen.setdefault(measure.measure_id, None)
    return tuple(seen)
