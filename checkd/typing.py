"""Shared aliases and the small interfaces the inner layers are given: the clock and the check counters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Protocol

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The wall clock, in UTC: the one clock the daemon and the commands are given."""
    return dt.datetime.now(dt.UTC)


class CheckCounters(Protocol):
    """What the use cases count; `checkd.ops.metrics.Metrics` implements it for Prometheus."""

    def check_recorded(
        self, department: str, scene: str, verdict: str, *, measures: int, count: int = 1
    ) -> None:
        """Count durable checks."""

    def check_recorded_measures(self) -> None:
        """Note that checks pushed measures."""

    def feedback_recorded(self, department: str, outcomes: Iterable[str]) -> None:
        """Count each outcome of a durable feedback."""


class NullCounters:
    """Counts nothing: the counters of a use case run without metrics (tests, bench, commands)."""

    def check_recorded(
        self, department: str, scene: str, verdict: str, *, measures: int, count: int = 1
    ) -> None:
        """Count nothing."""

    def check_recorded_measures(self) -> None:
        """Note nothing."""

    def feedback_recorded(self, department: str, outcomes: Iterable[str]) -> None:
        """Count nothing."""


NO_COUNTERS = NullCounters()  # stateless, so one is shared by every use case built without metrics
