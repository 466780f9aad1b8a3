"""The HTTP ops listener under misuse: off-loopback binding, abrupt and idle clients, TLS, a bad key pair."""

from __future__ import annotations

import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.daemon import ROOT, TEST_SECRET
from tests.integration.test_ops import http_get, start_ops
from tests.secure_daemon import Pki, start_secure_daemon

IDLE_LIMIT = 5.0  # the listener's idle timeout (checkd.ops.http.IDLE_TIMEOUT_SECONDS)


def serve_briefly(*args: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """`checkd serve` that is expected to refuse to start: a daemon still running after 30 s is killed."""
    command = [
        sys.executable,
        "-m",
        "checkd",
        "serve",
        "--rules",
        str(ROOT / "rules"),
        "--no-sample",
        "--db",
        f"sqlite:///{workdir / 'c.db'}",
        "--listen",
        "127.0.0.1:0",
        *args,
    ]
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env={**os.environ, "CHECKD_SECRET": TEST_SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"serve {' '.join(args)} did not refuse to start:\n{err[-2000:]}") from None
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def test_ops_listener_off_loopback_needs_insecure_or_tls(tmp_path: Path) -> None:
    """--ops-listen 0.0.0.0 in plain text is refused at start with a message naming the flag."""
    done = serve_briefly("--ops-listen", "0.0.0.0:0", workdir=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "--ops-listen" in done.stderr and "--insecure" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def _abrupt(port: int, kind: int) -> None:
    """Connect and reset the connection: before a request, mid-request, or before reading the answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
    if kind == 1:
        sock.sendall(b"GET /metr")
    elif kind == 2:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: checkd\r\n\r\n")
    elif kind == 3:
        sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: checkd\r\n\r\n" * 20)
    sock.close()


def test_abrupt_disconnects_leave_one_json_object_per_log_line(db_url: str, tmp_path: Path) -> None:
    """300 clients that reset their connection: the daemon keeps answering and every log line is JSON."""
    running = start_ops(db_url, tmp_path, "--log-format", "json")
    port = int(running.base.rsplit(":", 1)[1])
    try:
        for attempt in range(300):
            _abrupt(port, attempt % 4)
        assert http_get(f"{running.base}/readyz")[0] == 200
        assert http_get(f"{running.base}/metrics")[0] == 200
    finally:
        assert running.grpc.stop() == 0, running.grpc.log_text()
    lines = running.grpc.log_text().splitlines()
    bad = []
    for line in lines:
        try:
            assert isinstance(json.loads(line), dict)
        except (ValueError, AssertionError):
            bad.append(line)
    assert not bad, f"{len(bad)} of {len(lines)} log lines are not JSON objects, e.g. {bad[:5]}"


def test_idle_connections_are_closed_and_bounded(tmp_path: Path) -> None:
    """A silent or half-sent connection gets EOF after the idle timeout; beyond the limit, at once."""
    running = start_ops(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, "--log-format", "json")
    port = int(running.base.rsplit(":", 1)[1])
    try:
        silent = socket.create_connection(("127.0.0.1", port), timeout=IDLE_LIMIT * 3)
        half = socket.create_connection(("127.0.0.1", port), timeout=IDLE_LIMIT * 3)
        half.sendall(b"GET /readyz HTTP/1.1\r\n")
        for sock in (silent, half):
            try:
                assert sock.recv(1024) == b""
            except TimeoutError:
                raise AssertionError("an idle connection was still open after 3x the idle timeout") from None
            finally:
                sock.close()
        held = [socket.create_connection(("127.0.0.1", port), timeout=IDLE_LIMIT * 3) for _ in range(50)]
        time.sleep(0.5)  # let the listener accept them all
        for sock in held:
            sock.close()
    finally:
        assert running.grpc.stop() == 0, running.grpc.log_text()
    refused = running.grpc.log_text().count('"ops_connection_refused"')
    assert refused == 50 - 32, f"{refused} connections refused beyond the limit of 32"


def test_a_key_not_matching_its_certificate_is_named_at_start(tmp_path: Path) -> None:
    """serve with one certificate's key under another certificate: both files named, no bind traceback."""
    pki = Pki(tmp_path / "pki")
    first, second = pki.issue("checkd-one", server=True), pki.issue("checkd-two", server=True)
    for extra in ((), ("--ops-listen", "127.0.0.1:0")):
        done = serve_briefly(
            "--tls-cert", str(first.cert), "--tls-key", str(second.key), *extra, workdir=tmp_path
        )
        assert done.returncode != 0, done.stderr
        assert str(first.cert) in done.stderr and str(second.key) in done.stderr, done.stderr
        assert "does not match" in done.stderr, done.stderr
        assert "Failed to bind" not in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_the_ops_listener_serves_tls_with_the_daemons_certificate(tmp_path: Path) -> None:
    """With --tls-cert/--tls-key the ops listener speaks HTTPS: /readyz answers over a verified channel."""
    pki = Pki(tmp_path / "pki")
    server = pki.issue("checkd", server=True)
    ops_port_file = tmp_path / "ops-port"
    daemon = start_secure_daemon(
        f"sqlite:///{tmp_path / 'c.db'}",
        tmp_path,
        "--tls-cert",
        str(server.cert),
        "--tls-key",
        str(server.key),
        "--ops-listen",
        "127.0.0.1:0",
        "--ops-port-file",
        str(ops_port_file),
        ca=pki.ca,
        probe=lambda d: d.connect(),
    )
    try:
        context = ssl.create_default_context(cafile=str(pki.ca))
        url = f"https://127.0.0.1:{int(ops_port_file.read_text())}/readyz"
        with urllib.request.urlopen(url, timeout=10, context=context) as answer:
            assert answer.status == 200 and json.loads(answer.read())["ready"] is True
    finally:
        assert daemon.stop() == 0, daemon.log_text()
