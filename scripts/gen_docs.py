"""Regenerate what is generated from the code (docs/ and the served spec): python scripts/gen_docs.py."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generated() -> dict[Path, str]:
    """Every generated file and the text it must hold."""
    from checkd.gateway import descriptors, reference

    found = descriptors.compile_set()
    files = {
        ROOT / "docs" / "errors.md": reference.errors_markdown(),
        ROOT / "docs" / "api.md": reference.api_markdown(found),
    }
    try:
        from checkd.gateway import openapi
    except ImportError:  # before the gateway's OpenAPI generator exists
        return files
    spec = openapi.spec_text(found)
    files[ROOT / "docs" / "openapi.json"] = spec
    files[ROOT / "checkd" / "gateway" / "static" / "openapi.json"] = spec
    return files


if __name__ == "__main__":
    for path, text in generated().items():
        path.write_text(text)
        print(path.relative_to(ROOT))
