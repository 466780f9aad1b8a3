"""Build metadata: the installed version (package metadata) and the source commit it was built from."""

from __future__ import annotations

import subprocess
from functools import cache
from importlib import metadata, resources
from pathlib import Path

from checkd import compiled


@cache
def version() -> str:
    """The version of the installed checkd distribution."""
    try:
        return metadata.version("checkd")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


@cache
def commit() -> str:
    """The commit built from: recorded in the wheel at build time, else the checkout's, else unknown."""
    recorded = resources.files("checkd").joinpath("BUILD_COMMIT")
    if recorded.is_file():
        return recorded.read_text().strip() or "unknown"
    source = Path(__file__).resolve().parent.parent.parent
    try:
        found = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except OSError:  # no git on this machine
        return "unknown"
    return found.stdout.strip() if found.returncode == 0 and found.stdout.strip() else "unknown"


def build_info() -> str:
    """`VERSION (commit C; N of M hot-path modules compiled)` as `checkd --version` prints it."""
    return f"{version()} (commit {commit()}; {compiled.summary()})"
