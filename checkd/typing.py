"""Shared aliases and the small interfaces the inner layers are given: the clock and the check counters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from checkd.values import quick_init

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The wall clock, in UTC: the one clock the daemon and the commands are given."""
    return dt.datetime.now(dt.UTC)


@quick_init
@dataclass(frozen=True, slots=True)
class CheckFigures:
    """What durable checks found and pushed: subjects hit by polarity, measures by kind."""

    hits_penalty: int = 0
    hits_reward: int = 0
    mandatory: int = 0
    discretionary: int = 0

    def __add__(self, other: CheckFigures) -> CheckFigures:
        """The figures of both sets of checks."""
        return CheckFigures(
            self.hits_penalty + other.hits_penalty,
            self.hits_reward + other.hits_reward,
            self.mandatory + other.mandatory,
            self.discretionary + other.discretionary,
        )


class CheckCounters(Protocol):
    """What the use cases count; `checkd.ops.metrics.Metrics` implements it for Prometheus."""

    def check_recorded(
        self, department: str, scene: str, verdict: str, *, measures: int, count: int = 1
    ) -> None:
        """Count durable checks."""

    def figures_recorded(self, department: str, figures: CheckFigures) -> None:
        """Count the hits and pushed measures of durable checks."""

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

    def figures_recorded(self, department: str, figures: CheckFigures) -> None:
        """Count nothing."""

    def check_recorded_measures(self) -> None:
        """Note nothing."""

    def feedback_recorded(self, department: str, outcomes: Iterable[str]) -> None:
        """Count nothing."""


NO_COUNTERS = NullCounters()  # stateless, so one is shared by every use case built without metrics
