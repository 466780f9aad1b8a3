"""The per-check modules run compiled, answer exactly as interpreted, and a stale build is never loaded."""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from checkd import compiled
from tests.daemon import ROOT


@pytest.fixture(autouse=True)
def _as_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the tests below find depends on the build, not on a switch set where they run."""
    monkeypatch.delenv(compiled.INTERPRETED_ENV, raising=False)


def _answers(**env: str) -> tuple[list[str], str, dict[str, int]]:
    """What `tests.integration.compiled_answers` prints, run in a fresh interpreter: files, digest, shapes."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.compiled_answers"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != compiled.INTERPRETED_ENV}, **env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    return list(found["files"].values()), found["digest"], found["shapes"]


def test_the_installed_build_runs_every_hot_path_module_compiled() -> None:
    """The README's `pip install -e` compiled them, and each loads from its extension."""
    assert compiled.loaded() == dict.fromkeys(compiled.COMPILED_MODULES, "compiled"), compiled.summary()
    for name in compiled.COMPILED_MODULES:
        origin = importlib.import_module(name).__file__ or ""
        assert origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), f"{name} loaded from {origin}"


@pytest.mark.timeout(600)
def test_compiled_and_interpreted_builds_answer_the_bench_mix_byte_for_byte() -> None:
    """3,000 requests of the mix: every answer, stored record, chain hash and ledger row is the same."""
    built_files, built, shapes = _answers()
    interpreted_files, interpreted, _ = _answers(**{compiled.INTERPRETED_ENV: "1"})
    assert all(path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)) for path in built_files)
    assert all(path.endswith(".py") for path in interpreted_files)
    assert built == interpreted
    # The mix reached every shape of answer (and refusals), or the comparison proved less than it says.
    assert all(count > 0 for count in shapes.values()), shapes


def _package(tmp_path: Path, current: bool) -> Path:
    """A package directory holding checkd.days's source, an extension beside it, and a manifest."""
    source = compiled.source_path("checkd.days", tmp_path)
    source.write_bytes(b'"""Days."""\n')
    source.with_suffix(importlib.machinery.EXTENSION_SUFFIXES[0]).write_bytes(b"\x7fELF")
    recorded = compiled.source_digest(source) if current else "0" * 64  # another source's digest
    (tmp_path / compiled.MANIFEST).write_text(json.dumps({"checkd.days": recorded}))
    return tmp_path


def test_an_extension_built_from_the_source_beside_it_is_loaded(tmp_path: Path) -> None:
    """The manifest names the source's digest: the extension is current."""
    package = _package(tmp_path, current=True)
    assert compiled.why_interpreted("checkd.days", package) == ""


def test_an_extension_built_from_another_source_is_not_loaded(tmp_path: Path) -> None:
    """An edited source after `pip install -e .`: its edit runs, not the old extension, and why is said."""
    package = _package(tmp_path, current=False)
    assert "source changed since it was compiled" in compiled.why_interpreted("checkd.days", package)
    (package / compiled.MANIFEST).unlink()
    assert "source changed since it was compiled" in compiled.why_interpreted("checkd.days", package)


def test_a_module_with_no_extension_runs_interpreted(tmp_path: Path) -> None:
    """A pure build (CHECKD_PURE_BUILD=1): every module from its source, and the summary says so."""
    compiled.source_path("checkd.days", tmp_path).write_bytes(b"")
    assert "not compiled" in compiled.why_interpreted("checkd.days", tmp_path)


def test_the_interpreted_switch_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    """CHECKD_INTERPRETED=1 sends every compiled module to its source (for py-spy, which reads frames)."""
    monkeypatch.setenv(compiled.INTERPRETED_ENV, "1")
    assert set(compiled.loaded().values()) == {f"{compiled.INTERPRETED_ENV} is set"}
    assert compiled.summary() == (
        f"0 of {len(compiled.COMPILED_MODULES)} hot-path modules compiled ({compiled.INTERPRETED_ENV} is set)"
    )
