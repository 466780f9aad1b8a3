"""The latch each record's caller waits on: one result or error, every waiter woken, a bounded wait."""

from __future__ import annotations

import threading

import pytest

from checkd.evidence.latch import Latch


def test_every_waiter_gets_the_result_once_it_is_set() -> None:
    latch: Latch[int] = Latch()
    got: list[int] = []
    waiters = [threading.Thread(target=lambda: got.append(latch.result(timeout=30))) for _ in range(5)]
    for waiter in waiters:
        waiter.start()
    assert not latch.done()
    latch.set_result(7)
    for waiter in waiters:
        waiter.join(30)
    assert got == [7] * 5
    assert latch.done()
    assert latch.result(timeout=0) == 7  # and again, without waiting


def test_an_error_is_raised_to_every_waiter() -> None:
    latch: Latch[int] = Latch()
    latch.set_exception(ValueError("refused"))
    for _ in range(2):
        with pytest.raises(ValueError, match="refused"):
            latch.result(timeout=1)


def test_a_wait_past_its_timeout_raises_and_a_late_result_still_arrives() -> None:
    latch: Latch[str] = Latch()
    with pytest.raises(TimeoutError):
        latch.result(timeout=0.05)
    latch.set_result("late")
    assert latch.result(timeout=1) == "late"


def test_a_latch_is_settled_once() -> None:
    latch: Latch[int] = Latch()
    latch.set_result(1)
    with pytest.raises(RuntimeError, match="settled once"):
        latch.set_exception(ValueError("second"))
    assert latch.result(timeout=0) == 1
