"""Build hooks (the rest of the build is in pyproject.toml).

The wheel carries the top-level rules/ as `checkd/bundled_rules` and proto/ as `checkd/bundled_proto`
(the directories stay where the design puts them), and records the commit it was built from in
`checkd/BUILD_COMMIT` ($CHECKD_BUILD_COMMIT, else git; an editable install reads git at run time).

The per-check modules named in `checkd/compiled.py` are compiled by Cython from their own source
(gcc and the Python headers), with `checkd/compiled.json` recording what each was built from;
CHECKD_PURE_BUILD=1 builds none, and every module then runs interpreted.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path
from types import ModuleType

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext
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


def _compiled_list() -> ModuleType:
    """checkd/compiled.py, read from its file: the build must not import the package it builds."""
    spec = importlib.util.spec_from_file_location("_checkd_compiled", Path("checkd") / "compiled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_COMPILED = _compiled_list()


class _BuildRecordingSources(build_ext):
    """build_ext that also writes, beside the extensions, the digest of the source each was built from."""

    def run(self) -> None:
        super().run()
        if not self.extensions:
            return
        # Where an extension of the checkd package itself lands: in place for `pip install -e`, the
        # build directory for a wheel; the manifest goes beside it, where `checkd.compiled` reads it.
        package_dir = Path(self.get_ext_fullpath("checkd.x")).parent
        built = {
            ext.name: _COMPILED.source_digest(_COMPILED.source_path(ext.name, Path("checkd")))
            for ext in self.extensions
        }
        package_dir.mkdir(parents=True, exist_ok=True)
        (package_dir / _COMPILED.MANIFEST).write_text(json.dumps(built, indent=1, sort_keys=True) + "\n")


def _extensions() -> list[Extension]:
    if os.environ.get("CHECKD_PURE_BUILD", "") not in ("", "0"):
        return []
    from Cython.Build import cythonize  # a build requirement (pyproject.toml)

    sources = [
        Extension(name, [str(_COMPILED.source_path(name, Path("checkd")))])
        for name in _COMPILED.COMPILED_MODULES
    ]
    # annotation_typing off: Cython would otherwise enforce `str` or `list` annotations as exact
    # types at run time (a SQLAlchemy quoted_name, a str subclass, refused); the compiled module
    # must accept exactly what the interpreted one does.
    directives = {"language_level": 3, "annotation_typing": False}
    return list(cythonize(sources, compiler_directives=directives, nthreads=os.cpu_count() or 1, quiet=True))


setup(
    packages=[*find_packages(include=["checkd*"]), *_BUNDLED, "checkd.bundled_rules.measures"],
    package_dir=dict(_BUNDLED),
    ext_modules=_extensions(),
    cmdclass={"build_py": _BuildRecordingCommit, "build_ext": _BuildRecordingSources},
)
