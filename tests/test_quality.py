"""ruff and mypy stay clean: the suite fails when either finds a problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_ruff_is_clean() -> None:
    """ruff, configured in pyproject.toml, reports nothing."""
    result = subprocess.run([str(BIN / "ruff"), "check", "checkd", "tests", "scripts", "bench"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    """mypy --strict, configured in pyproject.toml, reports nothing on the package."""
    result = subprocess.run([str(BIN / "mypy")], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
