"""The committed gRPC stubs must be exactly what the .proto files generate."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "scripts" / "gen_proto.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_are_fresh(tmp_path: Path) -> None:
    """Regenerating into a temp dir gives identical files: no hand edits, no forgotten regeneration."""
    written = _generator().generate(tmp_path)  # type: ignore[attr-defined]
    committed = ROOT / "checkd" / "api" / "v1"
    assert written, "the generator produced nothing"
    for fresh in written:
        stale = committed / fresh.name
        assert stale.exists(), f"{fresh.name} is not committed"
        assert stale.read_text() == fresh.read_text(), (
            f"checkd/api/v1/{fresh.name} is stale: run `python scripts/gen_proto.py`"
        )
    expected = {p.name for p in written}
    extra = {p.name for p in committed.glob("*_pb2*.py*")} - expected
    assert not extra, f"stubs without a .proto: {extra}"
