"""The closed loop: check (idempotent, recorded before answering), feedback, read back."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import structlog
import uuid_utils

from checkd.decide.engine import decide
from checkd.decide.snapshots import Snapshots
from checkd.errors import (
    CheckNotFound,
    CommitTimeout,
    IdempotencyKeyReused,
    InvalidArgument,
    Unavailable,
    Violation,
)
from checkd.evidence import answers
from checkd.evidence.answers import feedback_digest, feedback_ref_of
from checkd.evidence.latch import Latch
from checkd.evidence.ledger import Ledger, Pending
from checkd.limits import ID_CHARS, REASON_CHARS, text_problem
from checkd.loop.recent import RecentAnswers
from checkd.loop.storage import AnswerReader
from checkd.loop.tally import Tally
from checkd.model import CheckCase, Decision, Outcome, RecordKind
from checkd.rules.catalogue import Catalogue
from checkd.store import DuplicateKey, LedgerRecord
from checkd.subjects.ids import IdentifierError, parse_identifier
from checkd.subjects.keys import SubjectKeyer
from checkd.typing import NO_COUNTERS, CheckCounters, CheckFigures, Clock
from checkd.values import quick_init

log = structlog.get_logger(__name__)
# How many of the newest checks a subject's look-up searches for the checks that hit it.
RECENT_SCAN = 2000


@quick_init
@dataclass(frozen=True, slots=True)
class CheckInput:
    """A check request as the use case takes it: how to read its case, and its idempotency facts.

    The adapter supplies `read_case` (server/convert.check_case bound to the request); the checker
    calls it with the snapshot's catalogue, the keyer and the instant it decides at, so the case,
    the decision and the record all share one snapshot and one `now`.
    """

    read_case: Callable[[Catalogue, SubjectKeyer, dt.datetime], CheckCase]
    request_id: str
    as_of_given: bool


@dataclass(frozen=True, slots=True)
class GivenOutcome:
    """One outcome of a feedback as the department sent it (the outcome as its wire number)."""

    measure_id: str
    subject_id: str
    outcome: int
    reason: str


@dataclass(frozen=True, slots=True)
class FeedbackInput:
    """A feedback request as the use case takes it."""

    check_id: str
    department: str
    outcomes: tuple[GivenOutcome, ...]


@dataclass(frozen=True, slots=True)
class FeedbackAck:
    """A stored feedback acknowledged (a resend is acknowledged as a duplicate of the stored one)."""

    feedback_id: str
    duplicate: bool
    recorded_at: dt.datetime


class Checker:
    """Runs checks and feedback against the current snapshots and records them in the ledger."""

    def __init__(
        self,
        snapshots: Snapshots,
        ledger: Ledger,
        records: AnswerReader,
        keyer: SubjectKeyer,
        clock: Clock,
        *,
        recent: int = 50_000,
        metrics: CheckCounters = NO_COUNTERS,
        max_data_age: dt.timedelta | None = None,
        on_decided: Sequence[Callable[[CheckCase, Decision], None]] = (),
    ) -> None:
        self._snapshots = snapshots
        self._metrics = metrics
        self._max_data_age = max_data_age
        self._ledger = ledger
        self._records = records
        self._keyer = keyer
        self._clock = clock
        # Recently answered (department, request_id) -> stored record bytes: retries after a
        # timeout usually come within seconds, so most are answered without touching the store.
        self._recent = RecentAnswers(recent)
        # Called with each case and its decision (the access policy's person-number probe count).
        self._on_decided = tuple(on_decided)

    # ----------------------------------------------------------------- checks

    def check(self, given: CheckInput) -> answers.Answer:
        """Decide, record durably, then answer; a repeated request_id gets the original answer."""
        return self.check_async(given)()

    def check_async(
        self, given: CheckInput, tally: Tally | None = None, held: list[Pending] | None = None
    ) -> Callable[[], answers.Answer]:
        """Decide and queue the record now; the returned call waits for durability and answers.

        Batches and streams queue all their items first so one group commit covers them, and
        count their answers in a `tally` that logs once per call; a lone check logs itself.
        Given `held`, the record is added to it instead, for `submit_held` to queue with the
        rest of its batch once all are decided.
        """
        state = self._snapshots.current
        now = self._clock()
        case = given.read_case(state.catalogue, self._keyer, now)
        department, request_id = case.department, given.request_id
        fingerprint = request_fingerprint(case, given.as_of_given)
        if request_id:
            # Only the recent-answers cache is consulted here: an older retry is caught by the
            # store's unique key at commit and answered from the stored original (see finish).
            recent = self._recent.get_entry(department, request_id)
            if recent is not None:
                stored_record = answers.read_check(recent[0])
                _refuse_other_request(stored_record, recent[1], fingerprint)
                original = self._with_receipt(stored_record)
                return lambda: original
        age = self._snapshots.data_age(now)
        decision = decide(
            case, state.index, state.catalogue, now, data_age=age, max_data_age=self._max_data_age
        )
        for hook in self._on_decided:
            hook(case, decision)
        # Time-ordered ids keep the store's check index append-mostly instead of scattering
        # every insert across the whole B-tree.
        check_id = uuid_utils.uuid7().hex
        draft = answers.draft_check(
            decision,
            state.catalogue,
            check_id,
            request_id,
            case.as_of,
            int(age.total_seconds()) if age else 0,
            department=department,
            matter=case.matter,
            scene=case.scene,
            fingerprint=fingerprint,
        )
        ref = draft.ref
        if held is None:
            future = self._ledger.submit(RecordKind.CHECK, check_id, draft.record, check=ref)
        else:
            record = self._ledger.pending(RecordKind.CHECK, check_id, draft.record, check=ref)
            held.append(record)
            future = record.future

        def finish() -> answers.Answer:
            try:
                written = self._wait(future)
            except DuplicateKey:
                # The same request_id raced in at the same time and was recorded first.
                stored = self._stored_by_request(department, request_id)
                if stored is None:
                    raise Unavailable("duplicate request_id could not be read back") from None
                _refuse_other_request(*stored, fingerprint)
                return self._with_receipt(stored[0])
            # The receipt, after commit and outside the hashed payload: where the record sits.
            answer = draft.answered(written.seq, written.hash, self._ledger.algorithm)
            if request_id:
                self._recent.remember(
                    department, request_id, draft.remembered(written.seq, written.hash), fingerprint
                )
            measures = ref.measures_mandatory + ref.measures_discretionary
            figures = CheckFigures(
                ref.subjects_hit_penalty,
                ref.subjects_hit_reward,
                ref.measures_mandatory,
                ref.measures_discretionary,
            )
            if tally is not None:
                tally.add(department, case.scene, decision.verdict.value, check_id, measures, figures)
                return answer
            _log_check(case, decision, check_id, now, self._clock())
            self._metrics.check_recorded(department, case.scene, decision.verdict.value, measures=measures)
            self._metrics.figures_recorded(department, figures)
            return answer

        return finish

    def submit_held(self, held: list[Pending]) -> None:
        """Queue the records a batch held back, together (a refusal fails each of their answers)."""
        self._ledger.submit_all(held)

    def tally(self) -> Tally:
        """A tally for the checks of one batch or stream call."""
        return Tally(self._metrics)

    def _stored_by_request(self, department: str, request_id: str) -> tuple[answers.CheckRecord, str] | None:
        """The stored check of this request_id and the fingerprint of the request it answered."""
        recent = self._recent.get_entry(department, request_id)
        if recent is not None:
            return answers.read_check(recent[0]), recent[1]
        stored = self._records.check_record_by_request(department, request_id)
        if stored is None:
            return None
        record = answers.read_check(stored.payload)
        record.ledger_seq, record.ledger_hash = stored.seq, stored.hash
        return record, record.request_fingerprint

    def _receipt(self, seq: int, digest: str) -> answers.Receipt:
        """The receipt of a record at this position of this daemon's chain."""
        return answers.receipt(seq, digest, self._ledger.algorithm)

    def _with_receipt(self, record: answers.CheckRecord) -> answers.Answer:
        """A stored answer replayed with its receipt (from the record's ledger position)."""
        response = record.response
        if record.ledger_seq:
            response.receipt.CopyFrom(self._receipt(record.ledger_seq, record.ledger_hash))
        return answers.Answer(response.SerializeToString())

    @staticmethod
    def _wait(future: Latch[LedgerRecord]) -> LedgerRecord:
        try:
            return future.result(timeout=30)
        except TimeoutError:
            raise CommitTimeout("ledger commit timed out") from None

    # ----------------------------------------------------------------- feedback

    def feedback(self, request: FeedbackInput) -> FeedbackAck:
        """Validate feedback against what the check pushed, store it once, acknowledge."""
        check_id = _valid_check_id(request.check_id)
        stored = self._records.check_payload(check_id)
        if stored is None:
            raise CheckNotFound(f"check {request.check_id!r} does not exist")
        record = answers.read_check(stored)
        if request.department.strip() and request.department.strip() != record.department:
            raise InvalidArgument([Violation("department", "is not the department that made the check")])
        outcomes = self._validated_outcomes(request, record.response)
        digest = feedback_digest(outcomes)
        existing = self._records.feedback_by_digest(record.check_id, digest)
        if existing is not None:
            return _feedback_ack(existing, duplicate=True)
        feedback_id = uuid_utils.uuid7().hex
        message = answers.feedback_record(feedback_id, outcomes)
        payload = message.SerializeToString(deterministic=True)
        ref = feedback_ref_of(record, message)  # the rows ledger verify re-derives from the record
        facts = ref.outcomes
        try:
            queued = self._ledger.submit(RecordKind.FEEDBACK, record.check_id, payload, feedback=ref)
            written = self._wait(queued)
        except DuplicateKey:
            again = self._records.feedback_by_digest(record.check_id, digest)
            if again is None:
                raise Unavailable("duplicate feedback could not be read back") from None
            return _feedback_ack(again, duplicate=True)
        log.info(
            "feedback",
            check_id=record.check_id,
            department=record.department,
            feedback_id=feedback_id,
            outcomes=[answers.outcome_label(o.outcome) for o in outcomes],
        )
        self._metrics.feedback_recorded(record.department, (fact.outcome for fact in facts))
        return _feedback_ack(written, duplicate=False)

    def _validated_outcomes(
        self, request: FeedbackInput, response: answers.CheckResponse
    ) -> list[answers.FeedbackOutcome]:
        pushed = {
            (subject.id, measure.measure_id) for subject in response.subjects for measure in subject.measures
        }
        problems: list[Violation] = []
        outcomes: list[answers.FeedbackOutcome] = []
        first_given: dict[tuple[str, str], int] = {}  # (shown subject, measure) -> its outcome's index
        if not request.outcomes:
            problems.append(Violation("outcomes", "at least one outcome is required"))
        for i, outcome in enumerate(request.outcomes):
            where = f"outcomes[{i}]"
            shown = self._display_id(outcome.subject_id, f"{where}.subject_id", problems)
            try:
                kind = answers.outcome_of(outcome.outcome)
            except ValueError:
                kind = None
                problems.append(Violation(f"{where}.outcome", f"unknown outcome {outcome.outcome}"))
            else:
                if kind is None:
                    problems.append(Violation(f"{where}.outcome", "required"))
            if kind is Outcome.NOT_APPLIED and not outcome.reason.strip():
                problems.append(Violation(f"{where}.reason", "required when the measure was not applied"))
            reason_problem = text_problem(outcome.reason, REASON_CHARS)
            if reason_problem:
                problems.append(Violation(f"{where}.reason", reason_problem))
            if shown is not None and (shown, outcome.measure_id) not in pushed:
                problems.append(
                    Violation(
                        f"{where}.measure_id",
                        f"measure {outcome.measure_id[:40]!r} was not pushed for this subject by this check",
                    )
                )
            if shown is not None:
                # One outcome per measure and subject per feedback: repeats would inflate the
                # statistics and contradictions would leave them undefined.
                earlier = first_given.setdefault((shown, outcome.measure_id), i)
                if earlier != i:
                    problems.append(
                        Violation(
                            where,
                            f"repeats outcomes[{earlier}] (measure "
                            f"{outcome.measure_id[:40]!r}, same subject): one "
                            "outcome per measure and subject in a feedback",
                        )
                    )
                outcomes.append(
                    answers.feedback_outcome(
                        outcome.measure_id, shown, outcome.outcome, outcome.reason.strip()
                    )
                )
        if problems:
            raise InvalidArgument(problems)
        return outcomes

    @staticmethod
    def _display_id(raw: str, field: str, problems: list[Violation]) -> str | None:
        """The id as the check answer shows it: accepts the clear id or the shown (masked) one."""
        if "*" in raw:
            return raw.strip()
        try:
            return parse_identifier(raw).masked()
        except IdentifierError as exc:
            problems.append(Violation(field, exc.reason))
            return None

    # ----------------------------------------------------------------- read back

    def get_check(self, check_id: str) -> answers.StoredCheck:
        """The stored check exactly as answered, with its feedback and ledger position."""
        stored = self._records.check(_valid_check_id(check_id))
        if stored is None:
            raise CheckNotFound(f"check {check_id!r} does not exist")
        check, feedback = stored
        return answers.stored_check(
            check.payload,
            check.recorded_at,
            check.seq,
            check.hash,
            self._ledger.algorithm,
            [(item.payload, item.recorded_at) for item in feedback],
        )

    def get_check_by_request(self, department: str, request_id: str) -> answers.StoredCheck:
        """The stored check a department made under this request_id, as `get_check` returns it."""
        department, request_id = department.strip(), request_id.strip()
        problems = [
            Violation(f, "required")
            for f, v in (("department", department), ("request_id", request_id))
            if not v
        ]
        if problems:
            raise InvalidArgument(problems)
        stored = self._records.check_record_by_request(department, request_id)
        if stored is None:
            raise CheckNotFound(f"{department} made no check with request_id {request_id!r}")
        return self.get_check(answers.read_check(stored.payload).check_id)

    def recent_hits(self, entry_ids: Iterable[str], scan: int = RECENT_SCAN) -> tuple[list[EntryHit], int]:
        """The checks among the newest `scan` whose answer named one of `entry_ids`, newest first.

        There is no index from entries to checks: the newest check records are read back and
        their answers searched, so a look-up reads at most `scan` records whatever the store holds.
        """
        wanted = frozenset(entry_ids)
        records = self._records.newest_check_records(scan) if wanted else []
        hits = []
        for stored in records:
            record = answers.read_check(stored.payload)
            named = sorted(
                {e.entry_id for s in record.response.subjects for e in s.entries if e.entry_id in wanted}
            )
            if named:
                hits.append(
                    EntryHit(
                        record.check_id,
                        record.department,
                        record.matter,
                        record.scene,
                        stored.recorded_at,
                        record.response.verdict,
                        tuple(named),
                    )
                )
        return hits, len(records)


@dataclass(frozen=True, slots=True)
class EntryHit:
    """A stored check whose answer named some of a subject's entries."""

    check_id: str
    department: str
    matter: str
    scene: str
    recorded_at: dt.datetime
    verdict: int  # the answer's Verdict as stored
    entry_ids: tuple[str, ...]


def request_fingerprint(case: CheckCase, as_of_given: bool) -> str:
    """sha256 of the canonical request: what an idempotency key is bound to (AIP-155, Stripe).

    Subjects as normalised (persons by their keyed hash, never in clear), in order, with role,
    type and name; department, matter, scene; as_of when the caller gave one (else "now", so a
    retry of a request without as_of is the same request). The canonical text is the compact,
    key-sorted JSON of those fields (`canonical_request` is its reference form), written here
    directly with the JSON string encoder: the same text, for a fraction of json.dumps's cost.
    """
    quote = _json_string
    as_of = quote(case.as_of.astimezone(dt.UTC).isoformat()) if as_of_given else '"now"'
    subjects = ",".join(
        f"[{quote(s.key)},{quote(s.org_code)},{quote(s.role.value)},{quote(s.subject_type.value)},"
        f"{quote(s.name.strip())}]"
        for s in case.subjects
    )
    text = (
        f'{{"as_of":{as_of},"department":{quote(case.department)},"matter":{quote(case.matter)},'
        f'"scene":{quote(case.scene)},"subjects":[{subjects}]}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


_json_string = json.encoder.encode_basestring  # JSON string literal, non-ASCII kept (ensure_ascii=False)


def canonical_request(case: CheckCase, as_of_given: bool) -> str:
    """The canonical request text as json.dumps writes it: what request_fingerprint hashes."""
    canonical = {
        "department": case.department,
        "matter": case.matter,
        "scene": case.scene,
        "as_of": case.as_of.astimezone(dt.UTC).isoformat() if as_of_given else "now",
        "subjects": [
            [s.key, s.org_code, s.role.value, s.subject_type.value, s.name.strip()] for s in case.subjects
        ],
    }
    return json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _refuse_other_request(original: answers.CheckRecord, original_fingerprint: str, fingerprint: str) -> None:
    """Refuse a request_id reused for another request than the one it first answered."""
    # An empty stored fingerprint is a check recorded before fingerprints were kept: answered as before.
    if original_fingerprint and original_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"request_id {original.request_id[:64]!r} was first used for another request (check "
            f"{original.check_id}); a different request needs a new request_id",
            subject=f"request_id {original.request_id[:64]}",
        )


def _valid_check_id(raw: str) -> str:
    """A check id fit to look up, or InvalidArgument saying why not."""
    check_id = raw.strip()
    problem = "required" if not check_id else text_problem(check_id, ID_CHARS)
    if problem:
        raise InvalidArgument([Violation("check_id", problem)])
    return check_id


def _feedback_ack(record: LedgerRecord, *, duplicate: bool) -> FeedbackAck:
    return FeedbackAck(answers.read_feedback(record.payload).feedback_id, duplicate, record.recorded_at)


def _log_check(
    case: CheckCase, decision: Decision, check_id: str, started: dt.datetime, finished: dt.datetime
) -> None:
    log.info(
        "check",
        check_id=check_id,
        department=case.department,
        matter=case.matter,
        scene=case.scene,
        verdict=decision.verdict.value,
        subjects=[s.query.display_id for s in decision.subjects],
        entries_hit=sum(len(s.hits) for s in decision.subjects),
        measures=sum(len(s.measures) for s in decision.subjects),
        withheld=sum(len(s.withheld) for s in decision.subjects),
        data_version=decision.data_version,
        duration_ms=round((finished - started).total_seconds() * 1000, 2),
    )
