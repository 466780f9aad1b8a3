"""A one-shot result that the ledger writer settles and a caller waits for: each record's commit."""

from __future__ import annotations

import _thread
from typing import Generic, TypeVar

T = TypeVar("T")


class Latch(Generic[T]):
    """Settled once with a result or an error; `result` blocks until then.

    What concurrent.futures.Future does for a record's commit, at a fraction of its cost: a Future
    builds a Condition on an RLock, and a wait allocates a lock of its own and takes the Condition
    again on waking, so a waiter woken while the writer still holds it sleeps once more. Here the
    waiter blocks on one plain lock that settling releases: one wake-up per waiter. Every check
    waits on one, so this is on the per-check path (bench/RESULTS.md, 2026-12-03 (evening)).
    """

    __slots__ = ("_error", "_gate", "_settled", "_value")

    def __init__(self) -> None:
        self._gate = _thread.allocate_lock()
        self._gate.acquire()  # held until settled: waiting is acquiring it
        self._settled = False
        self._value: T | None = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        """True once settled (a flag, not the gate: a waiter holds the gate for an instant)."""
        return self._settled

    def set_result(self, value: T) -> None:
        """Settle with a result and wake every waiter."""
        self._settle(value, None)

    def set_exception(self, error: BaseException) -> None:
        """Settle with an error that every waiter raises."""
        self._settle(None, error)

    def _settle(self, value: T | None, error: BaseException | None) -> None:
        if self._settled:
            raise RuntimeError("a latch is settled once")
        self._value, self._error = value, error
        self._settled = True
        self._gate.release()

    def result(self, timeout: float | None = None) -> T:
        """The result once settled (or its error raised); TimeoutError after `timeout` seconds."""
        if not self._settled:
            if not self._gate.acquire(timeout=-1 if timeout is None else timeout):
                raise TimeoutError("not settled in time")
            self._gate.release()  # the next waiter passes too
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # settled without an error: a T
