"""Build hooks (the rest of the build is in pyproject.toml).

The wheel carries the top-level rules/ as `checkd/bundled_rules` and proto/ as `checkd/bundled_proto`
(the directories stay where the design puts them), and records the commit it was built from in
`checkd/BUILD_COMMIT` ($CHECKD_BUILD_COMMIT, else git; an editable install reads git at run time).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

_BUNDLED = {"checkd.bundled_rules": "rules", "checkd.bundled_proto": "proto"}


class _BuildRecordingCommit(build_py):
    """build_py that also writes the source commit into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        commit = os.environ.get("CHECKD_BUILD_COMMIT", "")  # a build from a tarball names its commit
        if not commit:
            try:
                found = subprocess.run(
                    ["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=False
                )
                commit = found.stdout.strip() if found.returncode == 0 else ""
            except OSError:
                commit = ""
        target = Path(self.build_lib) / "checkd" / "BUILD_COMMIT"
        target.write_text(commit or "unknown")


setup(
    packages=[*find_packages(include=["checkd*"]), *_BUNDLED, "checkd.bundled_rules.measures"],
    package_dir=dict(_BUNDLED),
    cmdclass={"build_py": _BuildRecordingCommit},
)
