"""The modules built as C extensions, each loaded only when it was compiled from the source beside it."""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

# The per-check path: request reading, keying, the index, the decision, the answer bytes and the
# ledger writer's rows. Compiled by Cython from these very files (setup.py), so there is one source
# and the interpreted build is the same program; it takes CPU off each check (bench/RESULTS.md).
COMPILED_MODULES = (
    "checkd.days",
    "checkd.subjects.ids",
    "checkd.subjects.keys",
    "checkd.decide.index",
    "checkd.decide.snapshot_file",
    "checkd.decide.engine",
    "checkd.evidence.wire",
    "checkd.evidence.answers",
    "checkd.evidence.ledger",
    "checkd.loop.checks",
    "checkd.loop.recent",
    "checkd.loop.tally",
    "checkd.server.convert",
    "checkd.store.bulk",
    "checkd.store.records",
)
_COMPILED_SET = frozenset(COMPILED_MODULES)  # the finder is asked about every import
# Written by the build beside the extensions: the sha256 of each module's source as compiled.
MANIFEST = "compiled.json"
# Set (to anything but "" or "0") to run every module interpreted: for a profiler that reads Python
# frames (py-spy sees none inside an extension), or to compare the two builds.
INTERPRETED_ENV = "CHECKD_INTERPRETED"

_PACKAGE = Path(__file__).resolve().parent


def source_path(module: str, package_dir: Path = _PACKAGE) -> Path:
    """The .py file of one of checkd's modules under a package directory."""
    return package_dir.joinpath(*module.split(".")[1:]).with_suffix(".py")


def source_digest(path: Path) -> str:
    """What the build records of a source file, and what loading compares: its sha256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def interpreted_asked() -> bool:
    """True when the environment asks for every module to run interpreted."""
    return os.environ.get(INTERPRETED_ENV, "") not in ("", "0")


def _built(package_dir: Path) -> dict[str, str]:
    try:
        found = json.loads((package_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _extension(module: str, package_dir: Path) -> Path | None:
    """The module's extension file beside its source, if one was built."""
    source = source_path(module, package_dir)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = source.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def why_interpreted(module: str, package_dir: Path = _PACKAGE, built: dict[str, str] | None = None) -> str:
    """Why `module` would load from its source, or "" when its extension is current.

    `built` is the package's manifest when the caller has read it already (one read for all modules).
    """
    if interpreted_asked():
        return f"{INTERPRETED_ENV} is set"
    if _extension(module, package_dir) is None:
        return "not compiled (an install without the C build)"
    source = source_path(module, package_dir)
    if (_built(package_dir) if built is None else built).get(module) != source_digest(source):
        # An editable install whose source changed since `pip install -e .`: the extension would
        # run the old code, so the edit is what runs until the next install rebuilds it.
        return "its source changed since it was compiled; `pip install -e .` rebuilds it"
    return ""


class _CurrentBuildFinder(importlib.abc.MetaPathFinder):
    """Loads a compiled module's source instead of its extension when the extension is not current."""

    def __init__(self) -> None:
        self._built: dict[str, str] | None = None  # the manifest, read at the first compiled import

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """The source's spec when the extension must not run; None leaves the usual finders to it."""
        if fullname not in _COMPILED_SET:
            return None
        if self._built is None:
            self._built = _built(_PACKAGE)
        if not why_interpreted(fullname, built=self._built):
            return None
        return importlib.util.spec_from_file_location(fullname, source_path(fullname))


def install() -> None:
    """Put the finder ahead of the usual ones (once), before any compiled module is imported."""
    if not any(isinstance(finder, _CurrentBuildFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _CurrentBuildFinder())


def loaded() -> dict[str, str]:
    """Each compiled module: "compiled", or why it runs interpreted (for --version and the log)."""
    built = _built(_PACKAGE)
    return {module: why_interpreted(module, built=built) or "compiled" for module in COMPILED_MODULES}


def compiled_count(states: dict[str, str]) -> int:
    """How many of `loaded()`'s modules run compiled."""
    return sum(state == "compiled" for state in states.values())


def summary() -> str:
    """`N of M modules compiled`, naming why the others are not."""
    states = loaded()
    reasons = sorted({state for state in states.values() if state != "compiled"})
    return f"{compiled_count(states)} of {len(states)} hot-path modules compiled" + (
        f" ({'; '.join(reasons)})" if reasons else ""
    )
