"""The daemon takes its settings from a TOML file and CHECKD_* variables and logs them, secrets masked."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from checkd.api.v1 import check_pb2 as pb
from tests.daemon import start_daemon


def test_serve_reads_the_file_and_the_environment_and_masks_secrets(db_url: str, tmp_path: Path) -> None:
    """max_batch from the file, overdue_days from CHECKD_*; the password and the secret never logged."""
    url = db_url.replace("postgres@", "postgres:pg-password-42@")  # trust auth ignores the password
    settings = tmp_path / "checkd.toml"
    settings.write_text("max_batch = 2\noverdue_days = 45\n")
    daemon = start_daemon(url, tmp_path, "--config", str(settings), env={"CHECKD_OVERDUE_DAYS": "12"})
    try:
        events = [
            pb.CheckRequest(department="market_regulation", subjects=[pb.Subject(id="91330402MA2B8K1C34")])
            for _ in range(3)
        ]
        with pytest.raises(grpc.RpcError) as refused:
            daemon.check.BatchCheck(pb.BatchCheckRequest(requests=events), timeout=10)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "exceed the maximum batch size 2" in (refused.value.details() or "")
    finally:
        assert daemon.stop() == 0, daemon.log_text()
    logged = daemon.log_text()
    (line,) = [line for line in logged.splitlines() if "configuration" in line]
    assert "max_batch=2" in line and "overdue_days=12" in line, line
    assert "secret=***" in line and "test-secret" not in logged
    assert "pg-password-42" not in logged
