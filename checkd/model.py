"""Domain value types: subjects, list entries, measures and decisions (frozen, no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from checkd.days import china_day
from checkd.values import quick_init


class SubjectType(StrEnum):
    """The five subject types of the provincial credit framework."""

    ENTERPRISE = "enterprise"
    PERSON = "person"
    SOCIAL_ORGANISATION = "social_organisation"
    PUBLIC_INSTITUTION = "public_institution"
    GOVERNMENT_AGENCY = "government_agency"


class Polarity(StrEnum):
    """Whether a list or measure rewards or punishes."""

    REWARD = "reward"
    PENALTY = "penalty"


class Role(StrEnum):
    """The role a checked subject plays, or a measure targets."""

    SUBJECT = "subject"  # the listed subject itself (the applicant, bidder, ...)
    LEGAL_REPRESENTATIVE = "legal_representative"
    PRINCIPAL_RESPONSIBLE = "principal_responsible"
    ACTUAL_CONTROLLER = "actual_controller"
    DIRECTLY_RESPONSIBLE = "directly_responsible"


class Verdict(StrEnum):
    """The strongest outcome of a check, weakest first."""

    CLEAR = "clear"
    REWARD = "reward"
    REVIEW = "review"
    RESTRICT = "restrict"
    PROHIBIT = "prohibit"

    @property
    def strength(self) -> int:
        """Rank used to pick the strongest verdict across subjects and measures."""
        return _VERDICT_STRENGTH[self]


_VERDICT_STRENGTH = {verdict: rank for rank, verdict in enumerate(Verdict)}


class Action(StrEnum):
    """What a measure tells a department to do; each maps to the verdict it implies."""

    PROHIBIT = "prohibit"
    RESTRICT = "restrict"
    REVOKE_QUALIFICATION = "revoke_qualification"
    PRUDENT_REVIEW = "prudent_review"
    MORE_INSPECTIONS = "more_inspections"
    PUBLIC_DISCLOSURE = "public_disclosure"
    FEWER_INSPECTIONS = "fewer_inspections"
    GREEN_CHANNEL = "green_channel"
    ACCEPT_WITH_MISSING_DOCUMENTS = "accept_with_missing_documents"
    PRIORITY_HANDLING = "priority_handling"
    DEPOSIT_REDUCTION = "deposit_reduction"
    PREFERENCE = "preference"

    @property
    def verdict(self) -> Verdict:
        """The verdict this action contributes to a check."""
        return _ACTION_VERDICT[self]


_ACTION_VERDICT = {
    Action.PROHIBIT: Verdict.PROHIBIT,
    Action.REVOKE_QUALIFICATION: Verdict.PROHIBIT,
    Action.RESTRICT: Verdict.RESTRICT,
    Action.PRUDENT_REVIEW: Verdict.REVIEW,
    Action.MORE_INSPECTIONS: Verdict.REVIEW,
    Action.PUBLIC_DISCLOSURE: Verdict.REVIEW,
    Action.FEWER_INSPECTIONS: Verdict.REWARD,
    Action.GREEN_CHANNEL: Verdict.REWARD,
    Action.ACCEPT_WITH_MISSING_DOCUMENTS: Verdict.REWARD,
    Action.PRIORITY_HANDLING: Verdict.REWARD,
    Action.DEPOSIT_REDUCTION: Verdict.REWARD,
    Action.PREFERENCE: Verdict.REWARD,
}


class SourceLevel(StrEnum):
    """The administrative level of the authority that published an entry."""

    NATIONAL = "national"
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"
    COUNTY = "county"


class Outcome(StrEnum):
    """What a department reports it did with a pushed measure."""

    APPLIED = "applied"
    NOT_APPLIED = "not_applied"
    PARTIALLY_APPLIED = "partially_applied"
    OBJECTED = "objected"


@quick_init
@dataclass(frozen=True, slots=True)
class RelatedPerson:
    """A person tied to a listed organisation in a role (never a listing of the person)."""

    role: Role
    subject_key: str  # keyed hash of the normalised identity number
    masked_id: str
    name: str


class RevokeKind(StrEnum):
    """Why an entry stopped applying early: an act of the credit office, or the source's withdrawal."""

    REPAIR = "repair"  # credit repair (the credit office)
    OBJECTION = "objection"  # an upheld objection (the credit office)
    WITHDRAWN = "withdrawn"  # the source's complete list (`checkd import --sync`) no longer holds it

    @property
    def by_source(self) -> bool:
        """True for the source's own withdrawal: a later feed that lists the entry again lifts it."""
        return self is RevokeKind.WITHDRAWN


OFFICE_REVOKE_KINDS = (RevokeKind.REPAIR, RevokeKind.OBJECTION)  # what the credit office may record


class RecordKind(StrEnum):
    """The kinds of chained ledger record (stored as their value; part of each record's hash)."""

    CHECK = "check"
    FEEDBACK = "feedback"
    ADMIN = "admin"  # a registry act, reload or re-keying, with who did it


@dataclass(frozen=True, slots=True)
class Revocation:
    """Why and when an entry stopped applying early (credit repair or upheld objection)."""

    at: dt.datetime
    reason: str
    document_no: str
    kind: RevokeKind = RevokeKind.REPAIR


@dataclass(frozen=True, slots=True)
class Reinstatement:
    """An explicit, recorded act bringing a revoked entry back, and the revocation it lifted.

    The entry did not apply from `lifted_at` until `at`, so a check as of that window still sees
    it revoked; only the last reinstatement is kept here (the ledger keeps every act).
    """

    at: dt.datetime
    reason: str
    document_no: str
    lifted_at: dt.datetime  # when the lifted revocation took effect
    lifted_document_no: str


@quick_init
@dataclass(frozen=True, slots=True)
class ListEntry:
    """One subject on one list because of one decision, for a period."""

    entry_id: str
    subject_key: str  # USCC / org code in clear; keyed hash for persons
    display_id: str  # USCC in clear, masked identity number for persons
    subject_type: SubjectType
    subject_name: str
    list_id: str
    authority: str
    document_no: str
    level: SourceLevel
    start: dt.date
    end: dt.date | None
    reason: str
    severity: str = ""
    org_code: str = ""  # the embedded 9-character organisation code, for the cross-walk
    registration_no: str = ""  # a legacy 15-digit business registration number, a secondary key
    related: tuple[RelatedPerson, ...] = ()
    revocation: Revocation | None = None
    reinstatement: Reinstatement | None = None

    def in_force(self, as_of: dt.datetime, day: dt.date | None = None) -> bool:
        """True when the entry applies at `as_of` (CST days, ends inclusive; not revoked at that instant).

        `day` is china_day(as_of) when the caller has it already (one check asks for many entries).
        """
        if day is None:
            day = china_day(as_of)
        if day < self.start or (self.end is not None and day > self.end):
            return False
        reinstated = self.reinstatement
        if reinstated is not None and reinstated.lifted_at <= as_of < reinstated.at:
            return False
        return self.revocation is None or as_of < self.revocation.at


@dataclass(frozen=True, slots=True)
class ListType:
    """A kind of list defined in rules/: its polarity and who it can hold."""

    list_id: str
    name: str
    polarity: Polarity | None  # None: a graded list whose severities carry the polarity
    subject_types: frozenset[SubjectType]
    default_months: int | None
    max_months: int | None
    repairable: bool
    severities: tuple[str, ...] = ()
    severity_polarity: tuple[tuple[str, Polarity | None], ...] = ()

    def polarity_of(self, severity: str) -> Polarity | None:
        """The polarity of an entry on this list (graded lists: by its severity)."""
        if self.polarity is not None:
            return self.polarity
        return dict(self.severity_polarity).get(severity)


@dataclass(frozen=True, slots=True)
class Trigger:
    """A list (and optionally some severities) that triggers a measure."""

    list_id: str
    severities: frozenset[str] = frozenset()  # empty: any severity

    def matches(self, entry: ListEntry) -> bool:
        """True when the entry's list and severity fire this trigger."""
        return self.fires(entry.list_id, entry.severity)

    def fires(self, list_id: str, severity: str) -> bool:
        """True when an entry on `list_id` with `severity` fires this trigger."""
        return list_id == self.list_id and (not self.severities or severity in self.severities)


@dataclass(frozen=True, slots=True)
class Measure:
    """A whitelisted reward or penalty measure with its legal basis."""

    measure_id: str
    title: str
    polarity: Polarity
    action: Action
    departments: frozenset[str]
    scenes: frozenset[str]
    matters: frozenset[str]
    triggers: tuple[Trigger, ...]
    subject_types: frozenset[SubjectType]
    roles: frozenset[Role]
    mandatory: bool
    legal_basis: str
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    source: str = ""

    def in_effect(self, day: dt.date) -> bool:
        """True when the measure itself is valid on `day` (a CST calendar day, both ends inclusive)."""
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_to is None or day <= self.effective_to

    def applies_to_case(self, department: str, matter: str, scene: str) -> bool:
        """True when this department, in this matter and scene, may apply the measure."""
        if self.departments and department not in self.departments:
            return False
        return self.in_scope(matter, scene)

    def in_scope(self, matter: str, scene: str) -> bool:
        """True when a case in `matter` / `scene` ("" = not given) lies inside the measure's scope.

        The basis bounds the reach (惩戒过当 otherwise): a measure naming matters applies only in
        those matters, so a case without a matter never gets it; one naming scenes applies only in
        those scenes. Naming both means those matters within those scenes; a case that gives the
        matter but no scene is placed by its matter, which the measure names inside its scenes.
        """
        if self.matters and matter not in self.matters:
            return False
        if not self.scenes:
            return True
        return scene in self.scenes or (not scene and bool(self.matters))


@quick_init
@dataclass(frozen=True, slots=True)
class SubjectQuery:
    """A normalised subject of a check request."""

    index: int
    key: str  # lookup key (clear for organisations, keyed hash for persons)
    display_id: str
    org_code: str
    subject_type: SubjectType
    role: Role
    name: str
    id_kind: str = ""  # how the caller identified the subject (uscc, resident_id, ...)


@quick_init
@dataclass(frozen=True, slots=True)
class CheckCase:
    """What the engine decides on: who is checked, by whom, for what, as of when."""

    department: str
    matter: str
    scene: str
    subjects: tuple[SubjectQuery, ...]
    as_of: dt.datetime


class MatchedBy(StrEnum):
    """Through what a list entry matched a subject: one of its keys, or a relation (with its role)."""

    USCC = "uscc"
    ORG_CODE = "org_code"  # the code itself, or the cross-walk between a USCC and its code
    BUSINESS_REG_NO = "business_reg_no"
    RESIDENT_ID = "resident_id"
    ID = "id"  # an organisation key of no known length
    RELATED = "related"  # a person tied to a listed organisation; the role says how


@quick_init
@dataclass(frozen=True, slots=True)
class EntryHit:
    """A list entry that matched a subject, and through which key or relation."""

    entry: ListEntry
    matched_by: MatchedBy
    role: Role

    @property
    def label(self) -> str:
        """How the match is written in answers: the key kind, or `related:<role>` for a relation."""
        if self.matched_by is MatchedBy.RELATED:
            return f"{MatchedBy.RELATED.value}:{self.role.value}"
        return self.matched_by.value


@quick_init
@dataclass(frozen=True, slots=True)
class MeasureHit:
    """A measure pushed to the department, and the entries that triggered it."""

    measure: Measure
    entry_ids: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class WithheldMeasure:
    """A measure that would have applied but was suppressed, and why."""

    measure: Measure
    entry_ids: tuple[str, ...]
    reason: str


@quick_init
@dataclass(frozen=True, slots=True)
class SubjectDecision:
    """The result for one subject of a check."""

    query: SubjectQuery
    hits: tuple[EntryHit, ...]
    measures: tuple[MeasureHit, ...]
    withheld: tuple[WithheldMeasure, ...]
    verdict: Verdict
    notes: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's whole answer to a check case, with the versions it used."""

    verdict: Verdict
    subjects: tuple[SubjectDecision, ...]
    catalogue_version: str
    data_version: str
    evaluated_at: dt.datetime
    notes: tuple[str, ...] = field(default=())
