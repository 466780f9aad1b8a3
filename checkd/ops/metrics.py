"""The daemon's Prometheus metrics (checkd_*, grpc_server_*, process): one registry per daemon."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from checkd import compiled
from checkd.loop.statistics import FollowUp
from checkd.ops import log
from checkd.ops.build import commit as build_commit
from checkd.ops.build import version as build_version
from checkd.typing import CheckFigures

# RPC latencies: a check is ~1 ms of work, a batch of 1000 can take seconds.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
_COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


@dataclass(frozen=True, slots=True)
class LiveFigures:
    """What the daemon reads at scrape time: the snapshots in force and the ledger queue."""

    index_entries: int
    data_version: str
    data_age_seconds: float
    catalogue_version: str
    ledger_queue_depth: int


class Metrics:
    """Every `checkd_` metric of one daemon, registered in the daemon's own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.checks = Counter(
            "checkd_checks",
            "Checks recorded, by department, scene and verdict.",
            ["department", "scene", "verdict"],
            registry=reg,
        )
        # The names and labels of go-grpc-prometheus / py-grpc-prometheus, so stock gRPC dashboards work.
        self.rpc_started = Counter(
            "grpc_server_started",
            "RPCs started on the server.",
            ["grpc_service", "grpc_method", "grpc_type"],
            registry=reg,
        )
        self.rpc_handled = Counter(
            "grpc_server_handled",
            "RPCs completed on the server, whatever their status code.",
            ["grpc_service", "grpc_method", "grpc_type", "grpc_code"],
            registry=reg,
        )
        self.rpc_handling = Histogram(
            "grpc_server_handling_seconds",
            "Time from the start of an RPC to its end (the last response of a stream) on the server.",
            ["grpc_service", "grpc_method", "grpc_type"],
            buckets=_LATENCY_BUCKETS,
            registry=reg,
        )
        self.hits = Counter(
            "checkd_subjects_hit",
            "Checked subjects with an entry in force, by department and polarity (penalty, reward).",
            ["department", "polarity"],
            registry=reg,
        )
        self.measures = Counter(
            "checkd_measures_pushed",
            "Measures pushed by checks, by department and whether mandatory or discretionary.",
            ["department", "kind"],
            registry=reg,
        )
        self.batch_size = Histogram(
            "checkd_batch_size", "Items per BatchCheck call.", buckets=_BATCH_BUCKETS, registry=reg
        )
        self.ledger_commit = Histogram(
            "checkd_ledger_commit_seconds",
            "Time to commit one ledger batch.",
            buckets=_COMMIT_BUCKETS,
            registry=reg,
        )
        self.ledger_batch = Histogram(
            "checkd_ledger_commit_records",
            "Records per ledger group commit.",
            buckets=_BATCH_BUCKETS,
            registry=reg,
        )
        self.feedback = Counter(
            "checkd_feedback_outcomes",
            "Reported measure outcomes, by outcome.",
            ["department", "outcome"],
            registry=reg,
        )
        self.log_write_failures = Counter(
            "checkd_log_write_failures",
            "Log lines dropped because they could not be written (log disk full, closed pipe).",
            registry=reg,
        )
        log.on_write_failure(self.log_write_failures.inc)  # the log layer drops and reports them here
        self.person_probe_refusals = Counter(
            "checkd_person_probe_refusals",
            "Checks refused because the department passed its limit of "
            "distinct invalid or unlisted person numbers (an identity search?).",
            ["department"],
            registry=reg,
        )
        build = Gauge(
            "checkd_build_info",
            "Always 1; the labels name the running build.",
            ["version", "commit"],
            registry=reg,
        )
        build.labels(build_version(), build_commit()).set(1)
        running = Gauge(
            "checkd_compiled_modules",
            "Hot-path modules running compiled; fewer than checkd_compiled_modules_total means the "
            "others run interpreted, at a higher CPU cost per check.",
            registry=reg,
        )
        running.set(compiled.compiled_count(compiled.loaded()))
        Gauge("checkd_compiled_modules_total", "Hot-path modules the build compiles.", registry=reg).set(
            len(compiled.COMPILED_MODULES)
        )
        # Standard process figures (CPU, memory, open files), the collector's passes per generation
        # and the Python build, as every exporter has.
        ProcessCollector(registry=reg)
        GCCollector(registry=reg)
        PlatformCollector(registry=reg)
        self._follow_up_dirty = threading.Event()

    def check_recorded(
        self, department: str, scene: str, verdict: str, *, measures: int, count: int = 1
    ) -> None:
        """Count durable checks (replays of a stored answer are not counted again)."""
        self.checks.labels(department, scene or "-", verdict).inc(count)
        if measures:
            self.check_recorded_measures()

    def figures_recorded(self, department: str, figures: CheckFigures) -> None:
        """Count the hits and the pushed measures of durable checks."""
        for polarity, hits in (("penalty", figures.hits_penalty), ("reward", figures.hits_reward)):
            if hits:
                self.hits.labels(department, polarity).inc(hits)
        for kind, pushed in (("mandatory", figures.mandatory), ("discretionary", figures.discretionary)):
            if pushed:
                self.measures.labels(department, kind).inc(pushed)

    def check_recorded_measures(self) -> None:
        """Note that checks pushed measures: the awaiting-feedback figures must be recounted."""
        self._follow_up_dirty.set()

    def feedback_recorded(self, department: str, outcomes: Iterable[str]) -> None:
        """Count each outcome of a durable feedback."""
        for outcome in outcomes:
            self.feedback.labels(department, outcome).inc()
        self._follow_up_dirty.set()

    def person_probe_refused(self, department: str) -> None:
        """Count a check refused by the person-number probe limit (an alert signal)."""
        self.person_probe_refusals.labels(department).inc()

    def watch_person_probes(self, distinct: Callable[[], dict[str, int]]) -> None:
        """Register the gauge of distinct invalid or unlisted person numbers per department in window."""
        self.registry.register(_ProbeCollector(distinct))

    def ledger_committed(self, records: int, seconds: float) -> None:
        """Observe one group commit (called by the ledger writer)."""
        self.ledger_commit.observe(seconds)
        self.ledger_batch.observe(records)

    def watch(
        self,
        live: Callable[[], LiveFigures | None],
        follow_up: Callable[[], FollowUp],
        *,
        min_interval: float = 2.0,
        max_interval: float = 60.0,
    ) -> None:
        """Register the scrape-time gauges: snapshots, ledger queue, feedback follow-up."""
        self.registry.register(
            _LiveCollector(live, _FollowUpCache(follow_up, self._follow_up_dirty, min_interval, max_interval))
        )


class _FollowUpCache:
    """Recomputes the follow-up counts (a store query) only when they may have moved.

    Feedback or a check with measures marks them dirty; time alone moves checks into
    'overdue', so they are recomputed at least every max_interval seconds too.
    """

    def __init__(
        self,
        compute: Callable[[], FollowUp],
        dirty: threading.Event,
        min_interval: float,
        max_interval: float,
    ) -> None:
        self._compute = compute
        self._dirty = dirty
        self._min = min_interval
        self._max = max_interval
        self._lock = threading.Lock()
        self._value: FollowUp | None = None
        self._at = 0.0

    def get(self) -> FollowUp | None:
        """The latest counts; a concurrent scrape gets the previous value instead of waiting."""
        age = time.monotonic() - self._at
        due = self._value is None or age >= self._max or (self._dirty.is_set() and age >= self._min)
        if due and self._lock.acquire(blocking=False):
            try:
                self._dirty.clear()
                self._value = self._compute()
                self._at = time.monotonic()
            except Exception:  # a store outage must not break /metrics: keep the last value
                self._dirty.set()
            finally:
                self._lock.release()
        return self._value


class _LiveCollector(Collector):
    """Gauges read at scrape time, so they always show the state in force."""

    def __init__(self, live: Callable[[], LiveFigures | None], follow_up: _FollowUpCache) -> None:
        self._live = live
        self._follow_up = follow_up

    def describe(self) -> Iterable[Metric]:
        """No fixed description: the families are produced at collect time."""
        return ()

    def collect(self) -> Iterator[Metric]:
        """Yield the current gauges."""
        figures = self._live()
        if figures is not None:
            yield _gauge("checkd_index_entries", "List entries in the index in force.", figures.index_entries)
            # A number, not a label per version: one series that rises, which `changes()` can count.
            yield _gauge(
                "checkd_data_version",
                "Data version in force (N of dN).",
                _version_number(figures.data_version),
            )
            yield _gauge(
                "checkd_data_age_seconds",
                "Seconds since the source (an import or upsert) last confirmed the data.",
                figures.data_age_seconds,
            )
            catalogue = GaugeMetricFamily(
                "checkd_catalogue_info", "Catalogue version in force.", labels=["version"]
            )
            catalogue.add_metric([figures.catalogue_version], 1)
            yield catalogue
            yield _gauge(
                "checkd_ledger_queue_depth",
                "Records waiting for the ledger writer.",
                figures.ledger_queue_depth,
            )
        follow_up = self._follow_up.get()
        if follow_up is not None:
            yield _gauge(
                "checkd_checks_awaiting_feedback",
                "Checks that pushed measures and have no feedback.",
                follow_up.awaiting,
            )
            yield _gauge(
                "checkd_checks_overdue_feedback",
                "Penalty checks with no feedback after the configured number of days.",
                follow_up.overdue,
            )


class _ProbeCollector(Collector):
    """The per-department count of distinct invalid or unlisted person numbers, read at scrape time."""

    def __init__(self, distinct: Callable[[], dict[str, int]]) -> None:
        self._distinct = distinct

    def describe(self) -> Iterable[Metric]:
        """No fixed description: the family is produced at collect time."""
        return ()

    def collect(self) -> Iterator[Metric]:
        """Yield the gauge, one sample per department that checked persons."""
        family = GaugeMetricFamily(
            "checkd_person_probe_numbers",
            "Distinct invalid or unlisted person numbers a department checked within its probe window.",
            labels=["department"],
        )
        for department, count in sorted(self._distinct().items()):
            family.add_metric([department], count)
        yield family


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _version_number(version: str) -> float:
    digits = version.lstrip("d")
    return float(digits) if digits.isdigit() else 0.0
