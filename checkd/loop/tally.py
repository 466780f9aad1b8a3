"""The checks answered by one batch or stream call, logged and counted once instead of per check."""

from __future__ import annotations

import time
from collections import Counter

import structlog

from checkd.typing import NO_COUNTERS, CheckCounters, CheckFigures

log = structlog.get_logger(__name__)


class Tally:
    """Collects what a call answered; `close` writes one log event and one metrics update.

    At tens of thousands of checks a second a log line per check costs more than the decision
    itself; the ledger already keeps every answer, so a batch logs its figures and the ids of the
    checks that pushed measures (the ones someone will ask about).
    """

    def __init__(self, metrics: CheckCounters = NO_COUNTERS) -> None:
        self._metrics = metrics
        self._started = time.perf_counter()
        self._labels: Counter[tuple[str, str, str]] = Counter()
        self._measures = 0
        self._pushed: list[str] = []
        self._figures: dict[str, CheckFigures] = {}  # per department

    def add(
        self,
        department: str,
        scene: str,
        verdict: str,
        check_id: str,
        measures: int,
        figures: CheckFigures | None = None,
    ) -> None:
        """Count one durable check."""
        self._labels[(department, scene, verdict)] += 1
        if figures is not None:
            so_far = self._figures.get(department)  # no empty figures built per check to add to
            self._figures[department] = figures if so_far is None else so_far + figures
        if measures:
            self._measures += measures
            self._pushed.append(check_id)

    def due(self, answers: int, seconds: float) -> bool:
        """True once `answers` checks were counted or `seconds` passed since the last close."""
        return bool(self._labels) and (
            self._labels.total() >= answers or time.perf_counter() - self._started >= seconds
        )

    def close(self) -> None:
        """Log and count what was collected, then start over (a long stream closes repeatedly)."""
        if not self._labels:
            return
        verdicts: Counter[str] = Counter()
        departments: Counter[str] = Counter()
        for (department, scene, verdict), count in self._labels.items():
            verdicts[verdict] += count
            departments[department] += count
            self._metrics.check_recorded(department, scene, verdict, measures=0, count=count)
        for department, figures in self._figures.items():
            self._metrics.figures_recorded(department, figures)
        if self._measures:
            self._metrics.check_recorded_measures()
        log.info(
            "checks",
            answered=self._labels.total(),
            verdicts=dict(verdicts),
            departments=dict(departments),
            measures=self._measures,
            pushed=self._pushed,
            duration_ms=round((time.perf_counter() - self._started) * 1000, 2),
        )
        self._labels.clear()
        self._figures = {}
        self._pushed = []
        self._measures = 0
        self._started = time.perf_counter()
