"""Durable, hash-chained evidence of every check and feedback, written by group commit."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import structlog
import uuid_utils

from checkd.errors import CheckdError, CommitTimeout, QueueFull, ShuttingDown, Unavailable
from checkd.evidence.latch import Latch
from checkd.evidence.storage import ChainStore
from checkd.model import RecordKind
from checkd.store import CheckRef, DuplicateKey, FeedbackRef, LedgerRecord, Tx
from checkd.typing import Clock
from checkd.values import quick_init

log = structlog.get_logger(__name__)

T = TypeVar("T")


# The chain hash algorithms a store can be written with (hashlib names); the one in force is
# recorded in the store's meta when the store is first opened for writing.
CHAIN_ALGORITHMS = ("sha256", "sm3")


def chain_hash(
    prev_hash: str,
    seq: int,
    kind: str,
    ref_id: str,
    recorded_at: dt.datetime,
    payload: bytes,
    algorithm: str = "sha256",
) -> str:
    """The hash that links a record to its predecessor over its canonical content."""
    header = f"{prev_hash}\n{seq}\n{kind}\n{ref_id}\n{recorded_at.isoformat()}\n".encode()
    return hashlib.new(algorithm, header + payload).hexdigest()


@quick_init
@dataclass(frozen=True, slots=True)
class Pending:
    """A record waiting for the writer, with the future its caller blocks on."""

    kind: str
    ref_id: str
    payload: bytes
    check: CheckRef | None
    feedback: FeedbackRef | None
    future: Latch[LedgerRecord]


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A registry change waiting for the writer, with what makes its admin records from its result."""

    apply: Callable[[Tx], Any]
    describe: Callable[[Any], Iterable[bytes]]
    future: Latch[tuple[Any, LedgerRecord | None]]


class Ledger:
    """Appends records through one writer thread that commits them in batches.

    A caller is answered only after its record's batch is committed, so an acknowledged
    check or feedback survives a crash; batching makes that durability cheap under load.
    """

    def __init__(
        self,
        repository: ChainStore,
        clock: Clock,
        *,
        max_batch: int = 512,
        max_pending: int = 20_000,
        on_commit: Callable[[int, float], None] | None = None,
        anchor_seconds: float = 60.0,
        algorithm: str = "sha256",
    ) -> None:
        self._repo = repository
        self.algorithm = algorithm  # the chain hash of the store (see chain_algorithm)
        self._on_commit = on_commit  # (records, seconds) of each committed batch, for metrics
        self._clock = clock
        self._max_batch = max_batch
        # A batch call's records travel as one list (see submit_all), so one commit covers them.
        # SimpleQueue is C and hands over with one lock, where queue.Queue takes a Condition per
        # put and per wake-up; every check passes through it. Its bound is kept in _enqueue.
        self._max_pending = max_pending
        self._queue: queue.SimpleQueue[Pending | list[Pending] | PendingChange | None] = queue.SimpleQueue()
        self._head: tuple[int, str] | None = None
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._closed = False
        self._anchor_seconds = anchor_seconds
        self._last_anchor = time.monotonic()

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def depth(self) -> int:
        """Entries waiting to be committed (a batch call's records count as one)."""
        return self._queue.qsize()

    def submit(
        self,
        kind: RecordKind,
        ref_id: str,
        payload: bytes,
        *,
        check: CheckRef | None = None,
        feedback: FeedbackRef | None = None,
    ) -> Latch[LedgerRecord]:
        """Queue a record; the future resolves once it is durable (or fails with the reason)."""
        pending = self.pending(kind, ref_id, payload, check=check, feedback=feedback)
        self._enqueue(pending)
        return pending.future

    def pending(
        self,
        kind: RecordKind,
        ref_id: str,
        payload: bytes,
        *,
        check: CheckRef | None = None,
        feedback: FeedbackRef | None = None,
    ) -> Pending:
        """A record to queue later with others (`submit_all`); its future resolves once it is durable."""
        return Pending(kind.value, ref_id, payload, check, feedback, Latch())

    def submit_all(self, records: list[Pending]) -> None:
        """Queue records together: the writer takes them at once, so one group commit covers them all.

        A batch call decides every item before any is committed; queued one by one, the writer
        would commit its first items while the rest were still being decided, a commit (and its
        fsync) per few items. When the ledger refuses them, every record's future fails with why.
        """
        if not records:
            return
        try:
            self._enqueue(records)
        except CheckdError as exc:
            for record in records:
                record.future.set_exception(exc)

    def _enqueue(self, item: Pending | list[Pending] | PendingChange) -> None:
        """Hand work to the writer, or refuse it at once when the ledger is closed or full."""
        if self._closed:
            raise ShuttingDown("ledger is closed: the daemon is stopping")
        # Checked, then put: callers racing past a full queue by a few entries is harmless.
        if self._queue.qsize() >= self._max_pending:
            raise QueueFull("ledger queue is full; retry later")
        self._queue.put(item)

    def append(
        self,
        kind: RecordKind,
        ref_id: str,
        payload: bytes,
        *,
        check: CheckRef | None = None,
        feedback: FeedbackRef | None = None,
        timeout: float | None = 30.0,
    ) -> LedgerRecord:
        """Queue a record and wait until it is durable."""
        future = self.submit(kind, ref_id, payload, check=check, feedback=feedback)
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            raise CommitTimeout("ledger commit timed out") from None

    def record_change(
        self, apply: Callable[[Tx], T], describe: Callable[[T], Iterable[bytes]], *, timeout: float = 120.0
    ) -> tuple[T, LedgerRecord | None]:
        """Have the writer commit a store change and its admin records in one transaction; wait for it.

        The change's own refusals (NotFound, FailedPrecondition, ...) reach the caller as raised,
        with nothing committed.
        """
        future: Latch[tuple[Any, LedgerRecord | None]] = Latch()
        self._enqueue(PendingChange(apply, cast(Callable[[Any], Iterable[bytes]], describe), future))
        try:
            result, last = future.result(timeout=timeout)
        except TimeoutError:
            raise CommitTimeout("ledger commit timed out") from None
        return cast(T, result), last

    def commit_change(
        self, apply: Callable[[Tx], T], describe: Callable[[T], Iterable[bytes]]
    ) -> tuple[T, LedgerRecord | None]:
        """Apply a change and append its admin records in ONE transaction, on the head read inside it.

        Runs in the calling thread: the writer's, or a process that has no writer (`checkd import`).
        The store holds the chain head for the transaction, so no other process can take it between.
        `describe` may yield its payloads one by one: they are chained and inserted as they come,
        so a change of millions of entries never holds all its records at once. Returns the last.
        """
        try:
            result, last = self._repo.commit_change(self._change_work(apply, describe))
        except DuplicateKey as exc:
            raise Unavailable(f"ledger append failed, the change was not applied: {exc}") from None
        if last is not None:
            self._head = (last.seq, last.hash)
        return result, last

    def _change_work(
        self, apply: Callable[[Tx], T], describe: Callable[[T], Iterable[bytes]]
    ) -> Callable[[Tx, tuple[int, str]], tuple[T, Iterator[LedgerRecord]]]:
        """The transaction body of a change: apply it, then chain its records on the head held."""

        def work(tx: Tx, head: tuple[int, str]) -> tuple[T, Iterator[LedgerRecord]]:
            result = apply(tx)
            pending = (
                Pending(RecordKind.ADMIN.value, uuid_utils.uuid7().hex, payload, None, None, Latch())
                for payload in describe(result)
            )
            return result, self._chained(pending, head)

        return work

    def close(self, timeout: float = 30.0) -> None:
        """Stop accepting records, commit all queued ones, stop the writer."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout)
        self._maybe_anchor(force=True)

    def _maybe_anchor(self, force: bool = False) -> None:
        # The chain head, logged with the time: kept outside the store, it lets `checkd ledger
        # verify --anchor SEQ:HASH` detect a tail deleted after the fact.
        now = time.monotonic()
        if self._head is None or self._head[0] == 0:
            return
        if force or now - self._last_anchor >= self._anchor_seconds:
            self._last_anchor = now
            log.info("ledger_anchor", seq=self._head[0], hash=self._head[1], at=self._clock().isoformat())

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            if isinstance(first, PendingChange):
                self._commit_change(first)
                continue
            batch = list(first) if isinstance(first, list) else [first]
            change = None  # a registry change is committed in its own transaction, in queue order
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                if isinstance(item, PendingChange):
                    change = item
                    break
                if isinstance(item, list):
                    batch.extend(item)
                else:
                    batch.append(item)
            try:
                self._commit(batch)
            except BaseException as exc:  # the writer outlives anything a batch raises
                self._head = None
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(Unavailable(f"ledger write failed: {exc!r}"))
            if change is not None:
                self._commit_change(change)

    def _commit_change(self, pending: PendingChange) -> None:
        try:
            outcome = self.commit_change(pending.apply, pending.describe)
        except CheckdError as exc:  # refused by the change itself, or the store is down
            if isinstance(exc, Unavailable):
                self._head = None
            pending.future.set_exception(exc)
        except BaseException as exc:  # never let the writer die: fail the caller, keep serving
            self._head = None
            with contextlib.suppress(Exception):  # a log that cannot be written must not stop the writer
                log.exception("ledger_change_error")
            pending.future.set_exception(Unavailable(f"registry change failed: {exc!r}"))
        else:
            pending.future.set_result(outcome)

    def _commit(self, batch: list[Pending]) -> None:
        try:
            started = time.perf_counter()
            try:
                records = self._repo.append(lambda head: self._chain(batch, head))
            except DuplicateKey:
                # A retried idempotency key raced its twin (here or at another replica): commit one
                # by one, so only the true duplicates fail and their callers read back the original.
                self._commit_one_by_one(batch)
                return
            self._head = (records[-1].seq, records[-1].hash)
            if self._on_commit is not None:
                self._on_commit(len(records), time.perf_counter() - started)
            for pending, record in zip(batch, records, strict=True):
                pending.future.set_result(record)
            self._maybe_anchor()
        except Unavailable as exc:
            with contextlib.suppress(Exception):  # a log that cannot be written must not stop the writer
                log.warning("ledger_commit_failed", error=exc.message, records=len(batch))
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
        except Exception as exc:  # never let the writer die: fail the callers, keep serving
            with contextlib.suppress(Exception):
                log.exception("ledger_writer_error", records=len(batch))
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(Unavailable(f"ledger write failed: {exc}"))

    def _commit_one_by_one(self, batch: list[Pending]) -> None:
        for pending in batch:
            try:
                (record,) = self._repo.append(functools.partial(self._chain, [pending]))
            except DuplicateKey as exc:
                pending.future.set_exception(exc)
            else:
                self._head = (record.seq, record.hash)
                pending.future.set_result(record)

    def _chain(self, batch: Iterable[Pending], head: tuple[int, str]) -> list[LedgerRecord]:
        return list(self._chained(batch, head))

    def _chained(self, batch: Iterable[Pending], head: tuple[int, str]) -> Iterator[LedgerRecord]:
        """The records of `batch` chained on `head`, made one at a time as they are asked for."""
        seq, prev = head
        now = self._clock()
        for pending in batch:
            seq += 1
            digest = chain_hash(prev, seq, pending.kind, pending.ref_id, now, pending.payload, self.algorithm)
            yield (
                LedgerRecord(
                    seq,
                    pending.kind,
                    pending.ref_id,
                    now,
                    pending.payload,
                    prev,
                    digest,
                    check=pending.check,
                    feedback=pending.feedback,
                )
            )
            prev = digest


def record_admin(ledger: Ledger, action: str, caller: str, **facts: Any) -> LedgerRecord:
    """Record an administrative act (import, revoke, reload, rekey) with who did it."""
    payload = json.dumps(
        {"action": action, "caller": caller, **facts}, ensure_ascii=False, sort_keys=True, default=str
    ).encode()
    return ledger.append(RecordKind.ADMIN, uuid_utils.uuid7().hex, payload)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of verification: the chain, its checkpoints, receipts and derived rows."""

    records: int
    head_seq: int
    head_hash: str
    problem: str = ""  # the first break of the chain itself
    problems: tuple[str, ...] = ()  # derived rows, checkpoints and receipts that do not agree
    notes: tuple[str, ...] = ()  # what was confirmed, and what is not yet covered
    algorithm: str = "sha256"
    checkpoints: int = 0  # signed checkpoints the chain reaches with the same hash
    last_checkpoint: int = 0  # the seq of the newest of them
    uncovered: int = 0  # records after it, that no signature vouches for yet

    @property
    def ok(self) -> bool:
        """True when the chain and everything checked against it verified."""
        return not self.problem and not self.problems

    def all_problems(self) -> tuple[str, ...]:
        """The chain break (if any) first, then every other problem."""
        return ((self.problem,) if self.problem else ()) + self.problems


def verify(
    records: Iterable[LedgerRecord],
    anchors: Iterable[tuple[int, str]] = (),
    *,
    algorithm: str = "sha256",
    checkpoints: Iterable[tuple[int, str]] = (),
    receipts: Iterable[tuple[int, str]] = (),
    derived: Iterable[Callable[[], Iterable[object]]] = (),
) -> VerifyReport:
    """Recompute every hash and link; report the first record modified, missing or reordered.

    `anchors` are (seq, hash) chain heads logged earlier, `checkpoints` the (seq, hash) of
    checkpoints whose signature verified: a chain that no longer reaches one of them, or reaches
    it with another hash, was truncated or rewritten after it. `receipts` are (seq, hash) pairs
    a department was answered with. Each `derived` checker yields the derived rows that do not
    agree with their records; the records after the last checkpoint are counted as uncovered.
    """
    expected = dict(anchors)
    signed: dict[int, list[str]] = {}
    for at, digest in checkpoints:  # several keys (replicas, a rotation) may sign one head
        signed.setdefault(at, []).append(digest)
    wanted = dict(receipts)
    found: dict[int, str] = {}
    reached: list[int] = []
    count, seq, prev = 0, 0, ""
    problem = ""
    for record in records:
        count += 1
        points = signed.pop(record.seq, [])
        if record.seq != seq + 1:
            problem = f"record {seq + 1} is missing (next is {record.seq})"
        elif record.prev_hash != prev:
            problem = f"record {record.seq} does not link to record {seq}"
        elif (
            chain_hash(
                prev, record.seq, record.kind, record.ref_id, record.recorded_at, record.payload, algorithm
            )
            != record.hash
        ):
            problem = (
                f"record {record.seq} ({record.kind} {record.ref_id}) was modified: its hash does "
                "not match its content"
            )
        elif expected.pop(record.seq, record.hash) != record.hash:
            problem = f"record {record.seq} differs from its anchor"
        elif any(point != record.hash for point in points):
            problem = f"record {record.seq} differs from its signed checkpoint: the chain was rewritten"
        if problem:
            break
        reached.extend(record.seq for _ in points)
        if record.seq in wanted:
            found[record.seq] = record.hash
        seq, prev = record.seq, record.hash
    if not problem and expected:
        first = min(expected)
        problem = f"the chain ends at record {seq} but record {first} was anchored: truncated"
    if not problem and signed:
        first = min(signed)
        problem = f"the chain ends at record {seq} but record {first} was checkpointed: truncated"
    problems: list[str] = []
    notes: list[str] = []
    for at, digest in sorted(wanted.items()):
        if found.get(at) == digest:
            notes.append(f"receipt {at}:{digest} confirmed")
        else:
            problems.append(f"receipt {at}:{digest} is not in the verified chain")
    for checker in derived:
        problems.extend(str(item) for item in checker())
    last = max(reached, default=0)
    return VerifyReport(
        count,
        seq,
        prev,
        problem,
        tuple(problems),
        tuple(notes),
        algorithm,
        len(reached),
        last,
        max(seq - last, 0),
    )


__all__ = ["CHAIN_ALGORITHMS", "Ledger", "VerifyReport", "chain_hash", "record_admin", "verify"]
