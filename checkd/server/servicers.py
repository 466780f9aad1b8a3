"""gRPC servicers: protobuf in, protobuf out; limits and error mapping, no business logic."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator

import grpc
import structlog

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import check_pb2_grpc, registry_pb2_grpc
from checkd.api.v1 import registry_pb2 as reg
from checkd.errors import CheckdError, InvalidArgument, MalformedRequest, Violation
from checkd.evidence import answers
from checkd.evidence.ledger import Pending
from checkd.evidence.verification import StoreVerification, parse_seq_hash
from checkd.loop.checks import Checker
from checkd.loop.registry import Registry
from checkd.loop.statistics import Statistics, check_overdue_days
from checkd.loop.tally import Tally
from checkd.model import SubjectType
from checkd.server import convert
from checkd.server.auth import current_caller
from checkd.server.catalogue_view import catalogue_view
from checkd.server.decoding import Undecodable
from checkd.server.status import abort, deadline_passed, guarded, status_of

log = structlog.get_logger(__name__)
STREAM_WINDOW = 256  # stream items decided ahead of the one being answered
# A long stream logs and counts its answers every this many, or at least this often (metrics stay live).
STREAM_TALLY, STREAM_TALLY_SECONDS = 1000, 5.0
# A stream item's position and its answer-to-be, its error, or None at the end of the stream.
StreamSlot = tuple[int, Callable[[], answers.Answer] | Exception | None]
# How long a stream's reader and consumer wait on each other before looking whether the call is over.
STREAM_WAIT_SECONDS = 0.25
_ENTRY_ENUM_FIELDS = ("id_type", "subject_type")
_ENTRY_TEXT_FIELDS = [f for f in reg.EntryInput.DESCRIPTOR.fields if f.name not in _ENTRY_ENUM_FIELDS]


class CheckService(check_pb2_grpc.CheckServiceServicer):
    """checkd.v1.CheckService."""

    def __init__(
        self, checker: Checker, max_batch: int, require_version: Callable[[int], None] = lambda _: None
    ) -> None:
        self._checker = checker
        self._max_batch = max_batch
        # Waits briefly for a data version a caller requires, else raises DataStale.
        self._require_version = require_version

    @guarded
    def Check(self, request: pb.CheckRequest, context: grpc.ServicerContext) -> bytes:
        """One check, answered with the serialised CheckResponse as it was recorded."""
        self._require_version(request.min_data_version)
        return self._checker.check(convert.check_input(request)).payload

    @guarded
    def BatchCheck(self, request: pb.BatchCheckRequest, context: grpc.ServicerContext) -> bytes:
        """Many checks; each item answered or failed in its own slot, in order."""
        if len(request.requests) > self._max_batch:
            raise InvalidArgument(
                [
                    Violation(
                        "requests",
                        f"{len(request.requests)} items exceed the maximum batch size {self._max_batch}",
                    )
                ]
            )
        self._require_version(
            max([request.min_data_version, *(i.min_data_version for i in request.requests)])
        )
        # Decide every item, then queue their records together so a single group commit covers them.
        tally = self._checker.tally()
        pending: list[Callable[[], answers.Answer] | CheckdError] = []
        held: list[Pending] = []
        for item in request.requests:
            try:
                pending.append(self._checker.check_async(convert.check_input(item), tally, held))
            except CheckdError as exc:
                pending.append(exc)
        self._checker.submit_held(held)
        results: list[bytes | pb.ItemError] = []
        for slot in pending:
            if isinstance(slot, CheckdError):
                results.append(_item_error(slot))
                continue
            try:
                results.append(slot().payload)
            except CheckdError as exc:
                results.append(_item_error(exc))
        tally.close()
        return convert.batch_response(results)

    @guarded
    def StreamCheck(
        self, request_iterator: Iterator[pb.CheckRequest], context: grpc.ServicerContext
    ) -> Iterator[bytes]:
        """A stream of checks, answered in order; a bad item ends the stream naming its position.

        A reader thread decides and queues items while earlier ones are being committed, so a
        burst shares group commits instead of paying one commit per item. Both sides wait with
        timeouts and stop once the call is over (cancelled, past its deadline, the client gone,
        or answered), so an abandoned stream frees its worker and its --max-concurrent-rpcs slot.
        """
        window: queue.Queue[StreamSlot] = queue.Queue(maxsize=STREAM_WINDOW)
        over = threading.Event()  # set when the call terminates or the consumer stops
        context.add_callback(over.set)

        def put(slot: StreamSlot) -> bool:
            while not over.is_set():  # nobody will take it once the call is over
                with contextlib.suppress(queue.Full):
                    window.put(slot, timeout=STREAM_WAIT_SECONDS)
                    return True
            return False

        def read() -> None:
            position = -1
            try:
                for item in request_iterator:
                    position += 1
                    if over.is_set() or deadline_passed(context):
                        return
                    if isinstance(item, Undecodable):
                        raise MalformedRequest([Violation("(request)", f"not a valid {item.type_name}")])
                    self._require_version(item.min_data_version)
                    if not put((position, self._checker.check_async(convert.check_input(item), tally))):
                        return
            except grpc.RpcError:  # the caller went away; nothing more to answer
                return
            except Exception as exc:  # handed to the consumer, which answers it under `guarded`
                put((position, exc))
                return
            put((position, None))

        tally = self._checker.tally()
        threading.Thread(target=read, name="stream-reader", daemon=True).start()
        try:
            yield from self._answers(window, tally, context, over)
        finally:
            over.set()  # the reader stops at its next item or queue wait
            tally.close()

    @staticmethod
    def _answers(
        window: queue.Queue[StreamSlot], tally: Tally, context: grpc.ServicerContext, over: threading.Event
    ) -> Iterator[bytes]:
        """The stream's answers in order, as the reader queued them, tallied in steps."""
        while True:
            try:
                position, slot = window.get(timeout=STREAM_WAIT_SECONDS)
            except queue.Empty:
                if over.is_set() or not context.is_active():
                    return  # cancelled, past its deadline or disconnected: nobody to answer
                continue
            if slot is None:
                return
            try:
                if isinstance(slot, Exception):
                    raise slot
                yield slot().payload
                if tally.due(STREAM_TALLY, STREAM_TALLY_SECONDS):
                    tally.close()
            except InvalidArgument as exc:
                abort(
                    context,
                    InvalidArgument(
                        [Violation(f"stream[{position}].{v.field}", v.description) for v in exc.violations]
                    ),
                )

    @guarded
    def SubmitFeedback(
        self, request: pb.FeedbackRequest, context: grpc.ServicerContext
    ) -> pb.FeedbackResponse:
        """Feedback on a check's measures."""
        return convert.feedback_response(self._checker.feedback(convert.feedback_input(request)))

    @guarded
    def GetCheck(self, request: pb.GetCheckRequest, context: grpc.ServicerContext) -> bytes:
        """A stored check with its feedback (the serialised CheckRecord)."""
        return self._checker.get_check(request.check_id).payload


def _item_error(error: CheckdError) -> pb.ItemError:
    status = status_of(error)
    item = pb.ItemError(code=status.code, message=status.message)
    if isinstance(error, InvalidArgument):
        for violation in error.violations:
            item.field_violations.add(field=violation.field, description=violation.description)
    return item


class RegistryService(registry_pb2_grpc.RegistryServiceServicer):
    """checkd.v1.RegistryService (the credit office)."""

    def __init__(
        self,
        registry: Registry,
        statistics: Statistics,
        checker: Checker,
        verify_ledger: Callable[[list[tuple[int, str]]], StoreVerification],
        max_data_age: float | None = None,
    ) -> None:
        self._registry = registry
        self._statistics = statistics
        self._checker = checker
        self._verify_ledger = verify_ledger  # the store walk of `checkd ledger verify`
        self._max_data_age = max_data_age

    @guarded
    def Stats(self, request: reg.StatsRequest, context: grpc.ServicerContext) -> reg.StatsResponse:
        """Closed-loop statistics per department and month."""
        return convert.stats_response(convert.report_for(self._statistics, request))

    @guarded
    def UpsertEntries(
        self, request: reg.UpsertEntriesRequest, context: grpc.ServicerContext
    ) -> reg.UpsertEntriesResponse:
        """Insert or replace entries, all or nothing."""
        rows = []
        for i, entry in enumerate(request.entries):
            # EntryInput's fields carry the interchange format's column names; only the two
            # enum-valued ones need converting to the format's text values.
            row: dict[str, str] = {field.name: getattr(entry, field.name) for field in _ENTRY_TEXT_FIELDS}
            kind = convert.parse_id_type(entry.id_type, f"entries[{i}].id_type")
            row["id_type"] = kind.value if kind else ""
            try:
                subject_type = answers.from_pb_enum(
                    pb.SubjectType, "SUBJECT_TYPE", entry.subject_type, SubjectType
                )
            except ValueError:
                raise InvalidArgument([Violation(f"entries[{i}].subject_type", "unknown value")]) from None
            row["subject_type"] = subject_type.value if subject_type else ""
            rows.append((f"entries[{i}]", row))
        result, state = self._registry.upsert(rows, caller=_peer(context))
        response = reg.UpsertEntriesResponse(
            upserted=len(result.stored),
            data_version=state.index.version,
            kept_revoked=len(result.kept_revoked),
        )
        for kept in result.kept_revoked:
            assert kept.revocation is not None  # kept_revoked holds revoked entries only
            response.kept_revoked_entries.add(
                entry_id=kept.entry_id,
                revoked_at=answers.timestamp(kept.revocation.at),
                revoke_document_no=kept.revocation.document_no,
                revoke_kind=kept.revocation.kind,
            )
        return response

    @guarded
    def RevokeEntry(
        self, request: reg.RevokeEntryRequest, context: grpc.ServicerContext
    ) -> reg.RevokeEntryResponse:
        """Credit repair or upheld objection."""
        revocation, state = self._registry.revoke(
            request.entry_id, request.reason, request.document_no, request.kind, caller=_peer(context)
        )
        return reg.RevokeEntryResponse(
            data_version=state.index.version, revoked_at=answers.timestamp(revocation.at)
        )

    @guarded
    def ReinstateEntry(
        self, request: reg.ReinstateEntryRequest, context: grpc.ServicerContext
    ) -> reg.ReinstateEntryResponse:
        """Bring a revoked entry back in force (an explicit, audited act)."""
        reinstatement, state = self._registry.reinstate(
            request.entry_id, request.reason, request.document_no, caller=_peer(context)
        )
        return reg.ReinstateEntryResponse(
            data_version=state.index.version,
            reinstated_at=answers.timestamp(reinstatement.at),
            revoked_at=answers.timestamp(reinstatement.lifted_at),
            revoke_document_no=reinstatement.lifted_document_no,
        )

    @guarded
    def GetSubject(
        self, request: reg.GetSubjectRequest, context: grpc.ServicerContext
    ) -> reg.GetSubjectResponse:
        """All entries about a subject."""
        declared = convert.parse_id_type(request.id_type, "id_type")
        identifier, entries = self._registry.subject(request.id, declared)
        catalogue = self._registry.catalogue
        response = reg.GetSubjectResponse(
            id=identifier.masked(),
            subject_type=answers.to_pb_enum(pb.SubjectType, "SUBJECT_TYPE", identifier.subject_type),
        )
        for entry in entries:
            polarity = catalogue.polarity_of(entry.list_id, entry.severity)
            response.entries.append(answers.entry_message(entry, polarity, with_revocation=True))
        for entry_id, person, queried in self._registry.relations(identifier, entries):
            response.relations.add(
                entry_id=entry_id,
                role=answers.to_pb_enum(pb.Role, "ROLE", person.role),
                person_id=person.masked_id,
                person_name=person.name,
                queried=queried,
            )
        hits, scanned = self._checker.recent_hits(entry.entry_id for entry in entries)
        response.recent_checks_scanned = scanned
        for hit in hits:
            response.recent_checks.add(
                check_id=hit.check_id,
                department=hit.department,
                matter=hit.matter,
                scene=hit.scene,
                recorded_at=answers.timestamp(hit.recorded_at),
                verdict=hit.verdict,
                entry_ids=hit.entry_ids,
            )
        return response

    @guarded
    def GetState(self, request: reg.GetStateRequest, context: grpc.ServicerContext) -> reg.StateResponse:
        """The caller as the policy knows it, and the catalogue and data in force."""
        caller = current_caller()
        state = self._registry.state
        age = self._registry.data_age()
        return reg.StateResponse(
            department=caller.department if caller else "",
            via=caller.via if caller else "",
            catalogue_version=state.catalogue.version,
            catalogue_edition=state.catalogue.edition,
            data_version=state.index.version,
            data_age_seconds=-1.0 if age is None else age.total_seconds(),
            entries=state.index.size,
            max_data_age_seconds=self._max_data_age or 0.0,
        )

    @guarded
    def ImportEntries(
        self, request: reg.ImportEntriesRequest, context: grpc.ServicerContext
    ) -> reg.ImportEntriesResponse:
        """Import files exactly as `checkd import` does, recorded under the caller."""
        files = [(item.name, item.content) for item in request.files]
        result, state = self._registry.import_files(files, caller=_peer(context))
        response = reg.ImportEntriesResponse(imported=len(result.stored), data_version=state.index.version)
        for entry in result.stored:
            response.per_list[entry.list_id] = response.per_list.get(entry.list_id, 0) + 1
        for kept in result.kept_revoked:
            assert kept.revocation is not None  # kept_revoked holds revoked entries only
            response.kept_revoked_entries.add(
                entry_id=kept.entry_id,
                revoked_at=answers.timestamp(kept.revocation.at),
                revoke_document_no=kept.revocation.document_no,
                revoke_kind=kept.revocation.kind,
            )
        return response

    @guarded
    def VerifyLedger(
        self, request: reg.VerifyLedgerRequest, context: grpc.ServicerContext
    ) -> reg.VerifyLedgerResponse:
        """The verification of `checkd ledger verify`, on the daemon's store."""
        receipts = []
        problems = []
        for i, text in enumerate(request.receipts):
            pair = parse_seq_hash(text)
            if pair is None:
                problems.append(
                    Violation(f"receipts[{i}]", "not SEQ:HASH (a sequence number and 64 hex digits)")
                )
            else:
                receipts.append(pair)
        if problems:
            raise InvalidArgument(problems)
        outcome = self._verify_ledger(receipts)
        report = outcome.report
        return reg.VerifyLedgerResponse(
            ok=not outcome.problems(),
            records=report.records,
            head_seq=report.head_seq,
            head_hash=report.head_hash,
            algorithm=outcome.algorithm,
            problems=outcome.problems(),
            notes=report.notes,
            checkpoints_stored=outcome.checkpoints_stored,
            checkpoints_verified=report.checkpoints,
            last_checkpoint=report.last_checkpoint,
            uncovered=report.uncovered,
        )

    @guarded
    def GetCheckRecord(self, request: reg.GetCheckRecordRequest, context: grpc.ServicerContext) -> bytes:
        """A stored check of any department, as GetCheck answers it (the serialised CheckRecord)."""
        if request.check_id.strip():
            return self._checker.get_check(request.check_id).payload
        return self._checker.get_check_by_request(request.department, request.request_id).payload

    @guarded
    def ListOverdue(
        self, request: reg.ListOverdueRequest, context: grpc.ServicerContext
    ) -> reg.ListOverdueResponse:
        """Penalty checks still without feedback, oldest first."""
        check_overdue_days(request.days, "days")
        if request.limit < 0:
            raise InvalidArgument([Violation("limit", "must not be negative")])
        items = self._statistics.overdue(
            request.days or None, request.department.strip(), None, request.limit or 1000
        )
        response = reg.ListOverdueResponse(days=request.days or self._statistics.overdue_days)
        for item in items:
            response.items.add(
                check_id=item.check_id,
                department=item.department,
                matter=item.matter,
                scene=item.scene,
                recorded_at=answers.timestamp(item.recorded_at),
                measures=item.measures,
                penalty_measures=item.penalty_measures,
            )
        return response

    @guarded
    def Reload(self, request: reg.ReloadRequest, context: grpc.ServicerContext) -> reg.ReloadResponse:
        """Reload catalogue and index."""
        state = self._registry.reload(caller=_peer(context))
        return reg.ReloadResponse(
            catalogue_version=state.catalogue.version,
            data_version=state.index.version,
            entries=state.index.size,
        )

    @guarded
    def GetCatalogue(
        self, request: reg.GetCatalogueRequest, context: grpc.ServicerContext
    ) -> reg.CatalogueView:
        """The catalogue in force, narrowed to a department / scene / matter."""
        return catalogue_view(self._registry.catalogue, request.department, request.scene, request.matter)


def _peer(context: grpc.ServicerContext) -> str:
    # The authenticated identity when an access policy is in force, else the network peer.
    caller = current_caller()
    return caller.audit_name() if caller is not None else str(context.peer())
