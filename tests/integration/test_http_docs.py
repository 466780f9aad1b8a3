"""The curl examples of docs/http.md, run in order against a real daemon: each answers as the doc says."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.daemon import ROOT, start_daemon
from tests.integration.test_http_gateway import http_options, http_port

EXAMPLE = re.compile(r"<!-- expect: (\d{3}) -->\n```sh\n(.*?)\n```", re.DOTALL)


def examples() -> list[tuple[int, str]]:
    """(expected HTTP status, shell command) of every runnable example, in document order."""
    return [
        (int(status), command) for status, command in EXAMPLE.findall((ROOT / "docs" / "http.md").read_text())
    ]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_every_route_has_a_running_example(tmp_path: Path) -> None:
    """Each documented command returns its expected status; together they cover every HTTP route."""
    from checkd.gateway.routes import ROUTES

    found = examples()
    documented = "\n".join(command for _, command in found)
    for route in ROUTES:
        path = re.sub(r"\{[a-z_]+\}", "$CHECK_ID", route.template)
        assert path in documented, f"docs/http.md has no example of {route.verb} {route.template}"

    daemon = start_daemon(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, *http_options(tmp_path))
    # curl's own config file adds the status line to every command, leaving the commands as written.
    (tmp_path / ".curlrc").write_text('write-out = "\\n%{http_code}"\n')
    env = {**os.environ, "CURL_HOME": str(tmp_path), "CHECKD": f"http://127.0.0.1:{http_port(tmp_path)}"}
    try:
        for expected, command in found:
            done = subprocess.run(
                ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60, check=False
            )
            body, _, status = done.stdout.rpartition("\n")
            assert done.returncode == 0 and status == str(expected), (
                f"{command}\n-> {done.stdout}{done.stderr}"
            )
            if '/v1/checks"' in command and expected == 200 and "CHECK_ID" not in env:
                env["CHECK_ID"] = json.loads(body)["checkId"]
            if "stream" in command:
                assert all("result" in json.loads(line) for line in body.splitlines()), body
            elif expected == 200:
                assert "code" not in json.loads(body), body
    finally:
        assert daemon.stop() == 0, daemon.log_text()
