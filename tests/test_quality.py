"""ruff (lint and format), mypy and the layering contract stay clean: the suite fails on any problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_ruff_is_clean() -> None:
    """ruff, configured in pyproject.toml, reports nothing."""
    result = subprocess.run(
        [str(BIN / "ruff"), "check", "checkd", "tests", "scripts", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied() -> None:
    """`ruff format` would change nothing: the tree stays in its one format."""
    result = subprocess.run(
        [str(BIN / "ruff"), "format", "--check", "checkd", "tests", "scripts", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    """mypy --strict, configured in pyproject.toml, reports nothing on the package."""
    result = subprocess.run([str(BIN / "mypy")], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_layering_contract_is_kept() -> None:
    """import-linter's contracts in pyproject.toml hold: dependencies point inward, stubs stay at the edge."""
    result = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_packages_stay_small() -> None:
    """No package of checkd holds more than ten modules: a bigger one is two jobs under one name."""
    crowded = {}
    for package in (ROOT / "checkd").rglob("__init__.py"):
        modules = [p for p in package.parent.glob("*.py") if p.name != "__init__.py"]
        if package.parent != ROOT / "checkd" and len(modules) > 10:
            crowded[str(package.parent.relative_to(ROOT))] = len(modules)
    assert not crowded, crowded
