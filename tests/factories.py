"""Deterministic makers of valid identifiers, list-entry rows and the sample world for tests."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass
from typing import Any

from bench.synth import BENCH_SECRET, ROOT, SCALES, Population
from checkd.decide.index import Index
from checkd.loop.interchange import parse_entries
from checkd.rules.catalogue import Catalogue, load_catalogue
from checkd.subjects.ids import org_code_check_char, resident_check_char, uscc_check_char
from checkd.subjects.keys import SubjectKeyer

_counter = itertools.count(1)


def uscc(prefix: str = "91", division: str = "330402") -> str:
    """A fresh valid USCC (with a valid embedded organisation code)."""
    body = f"MA{next(_counter):06d}"
    first17 = prefix + division + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


def resident_id(birth: str = "19800101", address: str = "330402") -> str:
    """A fresh valid 18-digit resident identity number."""
    first17 = f"{address}{birth}{next(_counter) % 1000:03d}"
    return first17 + resident_check_char(first17)


def entry_row(entry_id: str, subject_id: str, list_id: str, **extra: Any) -> dict[str, Any]:
    """An interchange row with sensible defaults for every required field."""
    row: dict[str, Any] = {
        "entry_id": entry_id,
        "subject_id": subject_id,
        "subject_name": extra.pop("subject_name", "嘉兴市测试科技有限公司"),
        "list": list_id,
        "authority": "嘉兴市市场监督管理局",
        "document_no": f"嘉市监〔2025〕{entry_id}号",
        "level": "municipal",
        "start": "2025-01-01",
        "end": "",
        "reason": "test fixture",
        "severity": "",
    }
    row.update(extra)
    return row


def entry_input(row: dict[str, Any]) -> Any:
    """An interchange row as a RegistryService EntryInput (enum-valued fields converted)."""
    from checkd.api.v1 import registry_pb2 as reg

    fields = dict(row)
    if fields.get("subject_type"):
        fields["subject_type"] = f"SUBJECT_TYPE_{fields['subject_type'].upper()}"
    else:
        fields.pop("subject_type", None)
    if fields.get("id_type"):
        fields["id_type"] = f"ID_TYPE_{fields['id_type'].upper()}"
    else:
        fields.pop("id_type", None)
    return reg.EntryInput(**fields)


@dataclass(frozen=True)
class SampleWorld:
    """The bench's sample population indexed as the daemon indexes it, with the rules and the keyer."""

    catalogue: Catalogue
    keyer: SubjectKeyer
    population: Population
    index: Index


def sample_world(now: dt.datetime) -> SampleWorld:
    """The sample population (seed 1) read through the importer's parser into an index current at `now`."""
    catalogue = load_catalogue(ROOT / "rules")
    keyer = SubjectKeyer(BENCH_SECRET.encode())
    population = Population(SCALES["sample"], seed=1)
    rows = (("synth", json.loads(line)) for line in population.entries())
    index = Index(parse_entries(rows, catalogue, keyer), "v-test", now - dt.timedelta(minutes=5))
    return SampleWorld(catalogue, keyer, population, index)
