"""Durable, hash-chained evidence of every check and feedback, written by group commit."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import structlog
import uuid_utils

from checkd.errors import ResourceExhausted, Unavailable
from checkd.store import CheckRef, DuplicateKey, FeedbackRef, LedgerRecord, LedgerRepository

log = structlog.get_logger(__name__)

Clock = Callable[[], dt.datetime]


def chain_hash(prev_hash: str, seq: int, kind: str, ref_id: str, recorded_at: dt.datetime,
               payload: bytes) -> str:
    """The hash that links a record to its predecessor over its canonical content."""
    header = f"{prev_hash}\n{seq}\n{kind}\n{ref_id}\n{recorded_at.isoformat()}\n".encode()
    return hashlib.sha256(header + payload).hexdigest()


@dataclass(frozen=True, slots=True)
class Pending:
    """A record waiting for the writer, with the future its caller blocks on."""

    kind: str
    ref_id: str
    payload: bytes
    check: CheckRef | None
    feedback: FeedbackRef | None
    future: Future[LedgerRecord]


class Ledger:
    """Appends records through one writer thread that commits them in batches.

    A caller is answered only after its record's batch is committed, so an acknowledged
    check or feedback survives a crash; batching makes that durability cheap under load.
    """

    def __init__(self, repository: LedgerRepository, clock: Clock, *, max_batch: int = 512,
                 max_pending: int = 20_000,
                 on_commit: Callable[[int, float], None] | None = None,
                 anchor_seconds: float = 60.0) -> None:
        self._repo = repository
        self._on_commit = on_commit  # (records, seconds) of each committed batch, for metrics
        self._clock = clock
        self._max_batch = max_batch
        self._queue: queue.Queue[Pending | None] = queue.Queue(maxsize=max_pending)
        self._head: tuple[int, str] | None = None
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._closed = False
        self._anchor_seconds = anchor_seconds
        self._last_anchor = time.monotonic()

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def depth(self) -> int:
        """Records waiting to be committed."""
        return self._queue.qsize()

    def submit(self, kind: str, ref_id: str, payload: bytes, *, check: CheckRef | None = None,
               feedback: FeedbackRef | None = None) -> Future[LedgerRecord]:
        """Queue a record; the future resolves once it is durable (or fails with the reason)."""
        if self._closed:
            raise Unavailable("ledger is closed: the daemon is stopping")
        future: Future[LedgerRecord] = Future()
        try:
            self._queue.put_nowait(Pending(kind, ref_id, payload, check, feedback, future))
        except queue.Full:
            raise ResourceExhausted("ledger queue is full; retry later") from None
        return future

    def append(self, kind: str, ref_id: str, payload: bytes, *, check: CheckRef | None = None,
               feedback: FeedbackRef | None = None, timeout: float | None = 30.0) -> LedgerRecord:
        """Queue a record and wait until it is durable."""
        future = self.submit(kind, ref_id, payload, check=check, feedback=feedback)
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            raise Unavailable("ledger commit timed out") from None

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
            log.info("ledger_anchor", seq=self._head[0], hash=self._head[1],
                     at=self._clock().isoformat())

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                self._commit(batch)
            except BaseException as exc:  # the writer outlives anything a batch raises
                self._head = None
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(Unavailable(f"ledger write failed: {exc!r}"))

    def _commit(self, batch: list[Pending]) -> None:
        try:
            if self._head is None:
                self._head = self._repo.head()
            records = self._chain(batch, self._head)
            started = time.perf_counter()
            try:
                self._repo.append(records)
            except DuplicateKey:
                # A retried idempotency key raced its twin, or another process (a CLI import's
                # audit record) advanced the chain: re-read the head and commit one by one, so
                # only true duplicates fail and their callers read back the stored original.
                self._head = self._repo.head()
                self._commit_one_by_one(batch)
                return
            self._head = (records[-1].seq, records[-1].hash)
            if self._on_commit is not None:
                self._on_commit(len(records), time.perf_counter() - started)
            for pending, record in zip(batch, records, strict=True):
                pending.future.set_result(record)
            self._maybe_anchor()
        except Unavailable as exc:
            self._head = None  # re-read the head when the store returns
            with contextlib.suppress(Exception):  # a log that cannot be written must not stop the writer
                log.warning("ledger_commit_failed", error=exc.message, records=len(batch))
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
        except Exception as exc:  # never let the writer die: fail the callers, keep serving
            self._head = None
            with contextlib.suppress(Exception):
                log.exception("ledger_writer_error", records=len(batch))
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(Unavailable(f"ledger write failed: {exc}"))

    def _commit_one_by_one(self, batch: list[Pending]) -> None:
        for pending in batch:
            try:
                record = self._append_one(pending)
            except DuplicateKey as exc:
                pending.future.set_exception(exc)
            else:
                pending.future.set_result(record)

    def _append_one(self, pending: Pending) -> LedgerRecord:
        """Append one record; if the chain moved under us meanwhile, once more on the new head."""
        for attempt in range(2):
            assert self._head is not None
            (record,) = self._chain([pending], self._head)
            try:
                self._repo.append([record])
            except DuplicateKey:
                head = self._repo.head()
                if attempt or head == self._head:  # a true duplicate, not a moved chain
                    raise
                self._head = head
                continue
            self._head = (record.seq, record.hash)
            return record
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _chain(self, batch: Iterable[Pending], head: tuple[int, str]) -> list[LedgerRecord]:
        seq, prev = head
        now = self._clock()
        records = []
        for pending in batch:
            seq += 1
            digest = chain_hash(prev, seq, pending.kind, pending.ref_id, now, pending.payload)
            records.append(
                LedgerRecord(seq, pending.kind, pending.ref_id, now, pending.payload, prev, digest,
                             check=pending.check, feedback=pending.feedback)
            )
            prev = digest
        return records


def record_admin(ledger: Ledger, action: str, caller: str, **facts: Any) -> LedgerRecord:
    """Record an administrative act (import, revoke, reload, rekey) with who did it."""
    payload = json.dumps({"action": action, "caller": caller, **facts}, ensure_ascii=False,
                         sort_keys=True, default=str).encode()
    return ledger.append("admin", uuid_utils.uuid7().hex, payload)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of walking the chain: how many records, and the first broken one."""

    records: int
    head_seq: int
    head_hash: str
    problem: str = ""

    @property
    def ok(self) -> bool:
        """True when the whole chain verified."""
        return not self.problem


def verify(records: Iterable[LedgerRecord], anchors: Iterable[tuple[int, str]] = ()) -> VerifyReport:
    """Recompute every hash and link; report the first record modified, missing or reordered.

    `anchors` are (seq, hash) chain heads logged earlier: a chain that no longer reaches one of
    them, or reaches it with another hash, was truncated or rewritten after it was anchored.
    """
    expected = dict(anchors)
    count, seq, prev = 0, 0, ""
    for record in records:
        count += 1
        if record.seq != seq + 1:
            return VerifyReport(count, seq, prev, f"record {seq + 1} is missing (next is {record.seq})")
        if record.prev_hash != prev:
            return VerifyReport(count, seq, prev, f"record {record.seq} does not link to record {seq}")
        digest = chain_hash(prev, record.seq, record.kind, record.ref_id, record.recorded_at,
                            record.payload)
        if digest != record.hash:
            return VerifyReport(count, seq, prev, f"record {record.seq} ({record.kind} {record.ref_id}) "
                                "was modified: its hash does not match its content")
        anchored = expected.pop(record.seq, None)
        if anchored is not None and anchored != record.hash:
            return VerifyReport(count, seq, prev, f"record {record.seq} differs from its anchor")
        seq, prev = record.seq, record.hash
    if expected:
        first = min(expected)
        return VerifyReport(count, seq, prev,
                            f"the chain ends at record {seq} but record {first} was anchored: truncated")
    return VerifyReport(count, seq, prev)


__all__ = ["Ledger", "VerifyReport", "chain_hash", "record_admin", "verify"]
