"""Request reading and identifier check characters: the same results as before, clean input or not."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest

from bench.mix import Mix
from bench.synth import BENCH_SECRET, ROOT, SCALES, Population
from checkd.api.v1 import check_pb2 as pb
from checkd.errors import InvalidArgument
from checkd.model import CheckCase
from checkd.rules.catalogue import load_catalogue
from checkd.server import convert
from checkd.subjects import ids
from checkd.subjects.keys import SubjectKeyer
from tests.unit import reading_reference

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def _read(read: object, request: pb.CheckRequest) -> CheckCase | tuple[str, list[tuple[str, str]]]:
    """The case, or the refusal's type and violations."""
    catalogue, keyer = _CATALOGUE, _KEYER
    try:
        return read(request, catalogue, keyer, NOW)  # type: ignore[operator,no-any-return]
    except InvalidArgument as exc:
        return type(exc).__name__, [(v.field, v.description) for v in exc.violations]


_CATALOGUE = load_catalogue(ROOT / "rules")
_KEYER = SubjectKeyer(BENCH_SECRET.encode())
NASTY = (
    "",
    "x" * 65,
    "x" * 129,
    "x" * 257,
    "a\x00b",
    "\x7f",
    "\t",
    " padded ",
    "a\x1fb",
)


def test_the_bench_mix_and_damaged_requests_are_read_as_before() -> None:
    """Mix requests as they are, then with each text field replaced by an odd value."""
    rng = random.Random(11)
    requests = Mix(Population(SCALES["sample"], 1), ROOT / "rules", 4).requests(3_000)
    for number, request in enumerate(requests):
        variants = [request]
        for field in ("request_id", "department", "scene", "matter"):
            damaged = pb.CheckRequest()
            damaged.CopyFrom(request)
            setattr(damaged, field, rng.choice(NASTY))
            variants.append(damaged)
        if number % 10 == 0:
            empty = pb.CheckRequest()
            empty.CopyFrom(request)
            del empty.subjects[:]
            variants.append(empty)
        for variant in variants:
            assert _read(convert.check_case, variant) == _read(reading_reference.check_case, variant)


def _old_uscc(first17: str) -> str:
    total = sum(ids._USCC_VALUE[c] * w for c, w in zip(first17, ids._USCC_WEIGHTS, strict=True))
    return ids.USCC_ALPHABET[(31 - total % 31) % 31]


def _old_org(body8: str) -> str:
    total = sum(ids._ORG_ALPHABET.index(c) * w for c, w in zip(body8, ids._ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _old_resident(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, ids._RESIDENT_WEIGHTS, strict=True))
    return ids._RESIDENT_CHECK[total % 11]


@pytest.mark.parametrize("seed", range(4))
def test_check_characters_are_computed_as_before(seed: int) -> None:
    """GB 32100, GB 11714 and GB 11643 check characters over random valid bodies."""
    rng = random.Random(seed)
    for _ in range(5_000):
        uscc = "".join(rng.choice(ids.USCC_ALPHABET) for _ in range(17))
        org = "".join(rng.choice(ids._ORG_ALPHABET) for _ in range(8))
        person = "".join(rng.choice("0123456789") for _ in range(17))
        assert ids.uscc_check_char(uscc) == _old_uscc(uscc)
        assert ids.org_code_check_char(org) == _old_org(org)
        assert ids.resident_check_char(person) == _old_resident(person)


def test_cases_stay_values() -> None:
    """A case read twice is equal (the reading is deterministic)."""
    request = Mix(Population(SCALES["sample"], 1), ROOT / "rules", 4).request()
    first, second = (
        convert.check_case(request, _CATALOGUE, _KEYER, NOW),
        convert.check_case(request, _CATALOGUE, _KEYER, NOW),
    )
    assert first == second and dataclasses.is_dataclass(first)
