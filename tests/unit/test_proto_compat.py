"""The protos keep every message, field and method of each released descriptor set (proto/compat/)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _comparer() -> Any:
    spec = importlib.util.spec_from_file_location("proto_compat", ROOT / "scripts" / "proto_compat.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_current_protos_keep_every_release() -> None:
    """No field renumbered, renamed or retyped, no message, enum value, service or method dropped."""
    compat = _comparer()
    releases = sorted((ROOT / "proto" / "compat").glob("*.binpb"))
    assert releases, "no released descriptor set is committed under proto/compat/"
    now = compat.current()
    for release in releases:
        assert compat.breaks(compat.load(release), now) == [], release.name


def test_the_comparer_sees_each_kind_of_break() -> None:
    """A renamed field, a retyped field, a dropped enum value and a dropped method are all reported."""
    compat = _comparer()
    release = compat.load(ROOT / "proto" / "compat" / "v0.1.0.binpb")
    broken = type(release)()
    broken.CopyFrom(release)
    check = next(f for f in broken.file if f.name == "checkd/v1/check.proto")
    request = next(m for m in check.message_type if m.name == "CheckRequest")
    request.field[0].name = "idempotency_key"
    request.field[1].type = request.field[1].TYPE_BYTES
    verdict = next(e for e in check.enum_type if e.name == "Verdict")
    del verdict.value[-1]
    del check.service[0].method[-1]
    found = compat.breaks(release, broken)
    assert any("field 1 (request_id): name" in p for p in found), found
    assert any("field 2 (department): type" in p for p in found), found
    assert any("enum checkd.v1.Verdict value" in p for p in found), found
    assert any("CheckService.GetCheck removed" in p for p in found), found
