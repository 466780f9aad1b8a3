"""Prints what the check path makes of the bench mix, for comparing the compiled and interpreted builds.

    python -m tests.integration.compiled_answers    # one JSON line: the modules' files, digest, shapes

Fixed instant and check ids, so two runs of the same program print the same digest; the digest covers
each answer's bytes, its stored record, its ledger chain hash and the rows the ledger writer stores.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import sys

from bench.mix import Mix
from checkd import compiled
from checkd.api.v1 import check_pb2 as pb
from checkd.decide.engine import decide
from checkd.evidence import answers
from checkd.evidence.ledger import chain_hash
from checkd.loop.checks import request_fingerprint
from checkd.server import convert
from checkd.store import LedgerRecord, records
from tests.daemon import ROOT
from tests.factories import sample_world

NOW = dt.datetime(2026, 11, 30, 9, 15, 30, 123456, tzinfo=dt.UTC)
REQUESTS = 3000


def main() -> int:
    """Decide, assemble, chain and lay out the rows of the mix; print the digest of it all."""
    world = sample_world(NOW)
    catalogue, keyer, population, index = world.catalogue, world.keyer, world.population, world.index
    digest = hashlib.sha256()
    shapes = {"hit": 0, "withheld": 0, "notes": 0, "stale": 0, "refused": 0}
    chained: list[LedgerRecord] = []
    prev = ""
    for number, request in enumerate(Mix(population, ROOT / "rules", seed=7).requests(REQUESTS)):
        if number % 7 == 2:
            for subject in request.subjects:
                subject.name = "某某另一家有限公司"
        if number % 17 == 5:
            request.subjects[0].id = request.subjects[0].id[:-1] + "?"  # a refusal names the field
        age = dt.timedelta(hours=3) if number % 13 == 4 else None
        try:
            case = convert.check_case(request, catalogue, keyer, NOW)
        except Exception as exc:  # the refusal itself is part of what must match
            shapes["refused"] += 1
            digest.update(repr(exc).encode())
            continue
        decision = decide(case, index, catalogue, NOW, data_age=age, max_data_age=dt.timedelta(hours=1))
        fingerprint = request_fingerprint(case, request.HasField("as_of"))
        check_id = f"{number:032x}"
        draft = answers.draft_check(
            decision,
            catalogue,
            check_id,
            request.request_id,
            case.as_of,
            int(age.total_seconds()) if age else 0,
            department=case.department,
            matter=case.matter,
            scene=case.scene,
            fingerprint=fingerprint,
        )
        digest.update(draft.record)
        digest.update(draft.answered(number + 1, "ab" * 32, "sha256").payload)
        seq = len(chained) + 1
        link = chain_hash(prev, seq, "check", check_id, NOW, draft.record)
        chained.append(LedgerRecord(seq, "check", check_id, NOW, draft.record, prev, link, check=draft.ref))
        prev = link
        response = pb.CheckResponse.FromString(draft.response)
        shapes["hit"] += any(s.measures for s in response.subjects)
        shapes["withheld"] += any(s.withheld for s in response.subjects)
        shapes["notes"] += any(s.notes for s in response.subjects)
        shapes["stale"] += bool(response.notes)
    for table, columns, table_rows in records._rows(chained, str):
        digest.update(repr((table.__tablename__, columns, table_rows)).encode())
    files = {name: importlib.import_module(name).__file__ or "" for name in compiled.COMPILED_MODULES}
    print(json.dumps({"files": files, "digest": digest.hexdigest(), "shapes": shapes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
