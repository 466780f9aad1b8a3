"""The generated references (error reasons, API reference, OpenAPI) must be what the code generates."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generated() -> dict[Path, str]:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generated()  # type: ignore[no-any-return]


def test_generated_references_are_fresh() -> None:
    """docs/errors.md, docs/api.md, docs/openapi.json (and the served copy) match their sources."""
    files = _generated()
    assert {p.name for p in files} >= {"errors.md", "api.md"}
    for path, text in files.items():
        assert path.exists(), f"{path.relative_to(ROOT)} is not committed: run `python scripts/gen_docs.py`"
        assert path.read_text() == text, (
            f"{path.relative_to(ROOT)} is stale: run `python scripts/gen_docs.py`"
        )
