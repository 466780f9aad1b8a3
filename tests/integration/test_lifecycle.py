"""The daemon's one composition root and lifecycle, through the real daemon and the real CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from checkd.api.v1 import registry_pb2 as reg
from checkd.store import Database, LedgerRepository
from tests.daemon import ROOT, TEST_SECRET, RunningDaemon, run_cli, start_daemon


def _reload_callers(db_url: str) -> list[str]:
    database = Database(db_url)
    try:
        payloads = [
            json.loads(r.payload) for r in LedgerRepository(database).iter_records() if r.kind == "admin"
        ]
    finally:
        database.close()
    return [str(p["caller"]) for p in payloads if p.get("action") == "reload"]


def test_sighup_and_the_reload_rpc_take_one_audited_path(daemon: RunningDaemon, db_url: str) -> None:
    """A Reload RPC and a SIGHUP each leave an admin `reload` record naming who asked."""
    before = _reload_callers(db_url)
    daemon.registry.Reload(reg.ReloadRequest(), timeout=60)
    daemon.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 60
    while len(_reload_callers(db_url)) < len(before) + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    added = _reload_callers(db_url)[len(before) :]
    assert len(added) == 2, (added, daemon.log_text())
    assert "signal:SIGHUP" in added and any(caller != "signal:SIGHUP" for caller in added), added


def test_close_runs_in_reverse_build_order(db_url: str, tmp_path: Path) -> None:
    """SIGTERM drains, then closes what build() opened in reverse: the last records are checkpointed."""
    key = tmp_path / "checkpoint.key"
    assert run_cli("ledger", "key", "new", "--out", str(key), workdir=tmp_path).returncode == 0
    running = start_daemon(db_url, tmp_path, "--checkpoint-key", str(key), "--checkpoint-seconds", "3600")
    try:
        running.registry.Reload(reg.ReloadRequest(), timeout=60)  # a record after the first checkpoint
    finally:
        assert running.stop() == 0, running.log_text()
    verified = run_cli(
        "ledger", "verify", "--db", db_url, "--checkpoint-pubkeys", f"{key}.pub", workdir=tmp_path
    )
    assert verified.returncode == 0 and "ledger ok: " in verified.stdout, verified.stdout + verified.stderr


def test_a_port_in_use_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """`serve` on a taken port says it cannot bind that address and exits non-zero, without a traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        result = run_cli(
            "serve",
            "--rules",
            str(ROOT / "rules"),
            "--db",
            f"sqlite:///{tmp_path / 'x.db'}",
            "--listen",
            listen,
            workdir=tmp_path,
        )
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert f"cannot bind {listen}" in result.stderr, result.stderr


def test_an_unsupported_database_url_is_named_by_every_command(tmp_path: Path) -> None:
    """A URL of a backend checkd does not store in (or no URL at all) is refused plainly, password hidden."""
    day = ("--from", "2026-01-01", "--to", "2026-01-31")
    commands = {
        "serve": ("serve", "--rules", str(ROOT / "rules"), "--db", "mysql://clerk:hunter2@db.example/checkd"),
        "report": ("report", "--db", "mysql://clerk:hunter2@db.example/checkd", *day),
        "verify": ("ledger", "verify", "--db", "mysql://clerk:hunter2@db.example/checkd"),
        "import": (
            "import",
            "--rules",
            str(ROOT / "rules"),
            "--db",
            "not a url",
            str(ROOT / "pyproject.toml"),
        ),
    }
    for name, args in commands.items():
        result = run_cli(*args, workdir=tmp_path)
        assert result.returncode != 0 and "Traceback" not in result.stderr, (name, result.stderr)
        assert "unsupported database" in result.stderr or "not a URL" in result.stderr, (name, result.stderr)
        assert "hunter2" not in result.stderr, (name, result.stderr)


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    """A reader that goes away (`checkd rules schema | head -0`) ends the command without a traceback."""
    environment = {**os.environ, "CHECKD_SECRET": TEST_SECRET}
    reader, writer = os.pipe()
    os.close(reader)  # gone before the command writes a byte
    try:
        process = subprocess.run(
            [sys.executable, "-m", "checkd", "rules", "schema"],
            cwd=ROOT,
            env=environment,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(writer)
    assert "Traceback" not in process.stderr and "BrokenPipe" not in process.stderr, process.stderr
    assert process.returncode != 0
