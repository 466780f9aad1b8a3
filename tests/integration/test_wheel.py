"""The built wheel, installed into a fresh venv, serves from any directory with its bundled rules and data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import check_pb2_grpc
from checkd.compiled import COMPILED_MODULES
from tests.daemon import ROOT, wait_until_serving

SAMPLE_SUBJECT = "91330402MA2B8K1C34"  # S0001 of the bundled sample lists
COMMIT = "0123abcd4567"  # recorded at build time (CHECKD_BUILD_COMMIT), as a release build would


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _source_copy(target: Path) -> Path:
    """The working tree's files as git sees them (tracked and new, not ignored): no stale build/."""
    listed = _run("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


@pytest.mark.slow
@pytest.mark.timeout(900)  # installs every dependency into a fresh venv: minutes on a loaded machine
def test_the_installed_wheel_serves_from_an_empty_directory(tmp_path: Path) -> None:
    """pip wheel, a plain venv, pip install of the wheel; then --version and serve from a temp directory."""
    source = _source_copy(tmp_path / "src")
    wheels = tmp_path / "wheels"
    build_env = {**os.environ, "CHECKD_BUILD_COMMIT": COMMIT}
    build = ("wheel", "-q", "--no-deps", "--no-build-isolation", "-w", wheels, source)
    _run(sys.executable, "-m", "pip", *build, cwd=tmp_path, env=build_env)
    (wheel,) = wheels.glob("checkd-*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    _run(venv / "bin" / "pip", "install", "-q", wheel, cwd=tmp_path)

    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHECKD_", "PYTHON", "XDG_"))}
    env.update(HOME=str(home), CHECKD_SECRET="wheel-test-secret-0123456789abcdef")
    checkd = venv / "bin" / "checkd"
    assert _run(checkd, "--version", cwd=elsewhere, env=env).strip() == (
        f"checkd 0.2.0 (commit {COMMIT}; {len(COMPILED_MODULES)} of {len(COMPILED_MODULES)} hot-path modules "
        "compiled)"
    )
    assert "bundled_rules" in _run(checkd, "serve", "--help", cwd=elsewhere, env=env)

    port_file, ops_port_file = elsewhere / "port", elsewhere / "ops-port"
    log_path = tmp_path / "daemon.log"
    ops = ("--ops-listen", "127.0.0.1:0", "--ops-port-file", ops_port_file)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [checkd, "serve", "--listen", "127.0.0.1:0", "--port-file", port_file, *ops],
            cwd=elsewhere,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while not port_file.exists() or not port_file.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        with grpc.insecure_channel(f"127.0.0.1:{port_file.read_text()}") as channel:
            wait_until_serving(health_pb2_grpc.HealthStub(channel))
            answer = check_pb2_grpc.CheckServiceStub(channel).Check(
                pb.CheckRequest(
                    department="public_resource_trading",
                    scene="public_resource_trading",
                    matter="public_resource_trading.construction_bidding",
                    subjects=[pb.Subject(id=SAMPLE_SUBJECT)],
                ),
                timeout=10,
            )
        assert answer.subjects[0].measures, "the bundled sample lists and rules give this subject measures"
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{ops_port_file.read_text()}/metrics", timeout=10)
        assert f'checkd_build_info{{commit="{COMMIT}",version="0.2.0"}} 1.0' in metrics.read().decode()
    finally:
        process.terminate()
        assert process.wait(60) == 0, log_path.read_text()
    store = home / ".local" / "share" / "checkd" / "checkd.db"
    assert store.is_file(), "the embedded store lives in the user's data directory"
    assert not any(elsewhere.glob("var*")), "nothing is written into the working directory"
    logged = log_path.read_text()
    assert "configuration" in logged and f"commit={COMMIT}" in logged and "secret=***" in logged
