"""The realistic request mix: 31 departments with the scenes their measures use, Zipf-distributed subjects.

Shared by the bench, the year replay and the locustfile so that all three drive the same traffic.
"""

from __future__ import annotations

import itertools
import random
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.synth import Population
from checkd.api.v1 import check_pb2 as pb
from checkd.rules.catalogue import load_catalogue

DEPARTMENTS = 31
ZIPF_S = 1.1
ORG_SHARE = 0.7  # share of checks about an organisation; the rest are about a person
WITH_REPRESENTATIVE = 0.2  # share of organisation checks that also name the legal representative
# Share of checks about a subject already on a penalty list: listed subjects keep applying (and get
# re-checked) more than the population at large; this brings the hit share to about 5%.
LISTED_SHARE = 0.08


@dataclass(frozen=True, slots=True)
class Desk:
    """One department and the scenes its measures apply in, with its share of the traffic."""

    department: str
    scenes: tuple[str, ...]
    weight: int


def desks(rules_dir: Path, count: int = DEPARTMENTS) -> tuple[Desk, ...]:
    """The `count` departments with the most measures, weighted by how many measures they hold."""
    catalogue = load_catalogue(rules_dir)
    measures: Counter[str] = Counter()
    scenes: dict[str, set[str]] = {}
    for measure in catalogue.measures:
        for department in measure.departments:
            measures[department] += 1
            scenes.setdefault(department, set()).update(measure.scenes)
    return tuple(Desk(d, tuple(sorted(scenes[d])), n) for d, n in measures.most_common(count))


class ZipfIndex:
    """Draws ranks 0..n-1 with P(rank r) ~ 1/(r+1)^s, mapped through a fixed permutation of indices.

    Uses the inverse of the continuous power-law CDF, so it needs no table (36 million persons at
    province scale would otherwise take a gigabyte of cumulative weights).
    """

    def __init__(self, n: int, s: float = ZIPF_S) -> None:
        self.n = n
        self._exponent = 1.0 - s
        self._span = (n + 1) ** self._exponent - 1.0
        self._stride = _coprime_stride(n)

    def draw(self, rng: random.Random) -> int:
        """One index; popular ranks are spread over the population, not the first indices."""
        x = (1.0 + rng.random() * self._span) ** (1.0 / self._exponent)
        rank = min(int(x) - 1, self.n - 1)
        return (rank * self._stride + 7) % self.n


def _coprime_stride(n: int) -> int:
    from math import gcd

    stride = max(1, int(n * 0.618_033_988_7)) | 1
    while gcd(stride, n) != 1:
        stride += 2
    return stride


class Mix:
    """Builds CheckRequests of the realistic mix, deterministically from a seed."""

    def __init__(self, population: Population, rules_dir: Path, seed: int = 1) -> None:
        self.population = population
        self.desks = desks(rules_dir)
        self._desk_weights = list(itertools.accumulate(d.weight for d in self.desks))
        self._orgs = ZipfIndex(population.scale.orgs)
        self._persons = ZipfIndex(population.scale.persons)
        self._rng = random.Random(seed)
        self._listed_orgs = population.penalised_orgs()
        self._listed_persons = population.defaulter_persons()
        self._serial = itertools.count(1)
        self.request_prefix = f"r{seed}-"  # request_ids are this plus a serial number

    def request(self) -> pb.CheckRequest:
        """The next check of the mix (with a unique request_id)."""
        rng = self._rng
        desk = self.desks[bisect_left(self._desk_weights, rng.random() * self._desk_weights[-1])]
        scene = desk.scenes[int(rng.random() * len(desk.scenes))]
        subjects = []
        listed = rng.random() < LISTED_SHARE
        if listed and rng.random() < 0.5 and self._listed_persons:
            person = self._listed_persons[int(rng.random() * len(self._listed_persons))]
            subjects.append(
                pb.Subject(id=self.population.person_id(person), name=self.population.person_name(person))
            )
        elif listed or rng.random() < ORG_SHARE:
            if listed and self._listed_orgs:
                org = self._listed_orgs[int(rng.random() * len(self._listed_orgs))]
            else:
                org = self._orgs.draw(rng)
            subjects.append(pb.Subject(id=self.population.org_id(org), name=self.population.org_name(org)))
            if rng.random() < WITH_REPRESENTATIVE:
                rep = self.population.legal_representative(org)
                subjects.append(
                    pb.Subject(
                        id=self.population.person_id(rep),
                        name=self.population.person_name(rep),
                        role=pb.ROLE_LEGAL_REPRESENTATIVE,
                    )
                )
        else:
            person = self._persons.draw(rng)
            subjects.append(
                pb.Subject(id=self.population.person_id(person), name=self.population.person_name(person))
            )
        return pb.CheckRequest(
            request_id=f"{self.request_prefix}{next(self._serial)}",
            department=desk.department,
            scene=scene,
            subjects=subjects,
        )

    def requests(self, count: int) -> list[pb.CheckRequest]:
        """`count` requests of the mix."""
        return [self.request() for _ in range(count)]


def pushed(response: pb.CheckResponse) -> bool:
    """True when the answer pushed at least one measure (a hit that calls for feedback)."""
    return any(subject.measures for subject in response.subjects)


def feedback_for(response: pb.CheckResponse, department: str) -> pb.FeedbackRequest:
    """The department's report: every pushed measure applied, as a department system would send it."""
    outcomes = [
        pb.FeedbackOutcome(measure_id=measure.measure_id, subject_id=subject.id, outcome=pb.OUTCOME_APPLIED)
        for subject in response.subjects
        for measure in subject.measures
    ]
    return pb.FeedbackRequest(check_id=response.check_id, outcomes=outcomes, department=department)


def wants_feedback(check_id: str, share: float = 0.9) -> bool:
    """Deterministic 90% choice of the hit checks that get feedback (by check id, so retries agree)."""
    return int(check_id[-6:], 16) / 0xFFFFFF < share
