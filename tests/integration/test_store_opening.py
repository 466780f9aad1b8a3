"""Which stores get the sample lists, and read commands that refuse a store that is not there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from checkd.api.v1 import registry_pb2 as reg
from tests.conftest import pg_database
from tests.daemon import run_cli, start_daemon

SAMPLE_SUBJECT = "91330402MA2B8K1C34"  # S0001 of checkd/data/sample_entries.jsonl


def read_commands(db_url: str, workdir: Path) -> dict[str, list[str]]:
    """Every command that reads a store, pointed at `db_url`."""
    old_secret = workdir / "old.secret"
    old_secret.write_text("an-old-secret-0123456789abcdef")
    return {
        "ledger verify": ["ledger", "verify", "--db", db_url],
        "report": ["report", "--db", db_url, "--from", "2026-01-01", "--to", "2026-12-31"],
        "overdue": ["overdue", "--db", db_url],
        "rekey": [
            "rekey",
            "--db",
            db_url,
            "--old-secret-file",
            str(old_secret),
            "--new-secret-file",
            str(workdir / "new.secret"),
        ],
    }


def sample_entries(db_url: str, workdir: Path, sample: bool | None, *extra: str) -> int:
    """Start the daemon with the sample flag as given; how many entries the sample subject has."""
    daemon = start_daemon(db_url, workdir, *extra, sample=sample)
    try:
        found = daemon.registry.GetSubject(reg.GetSubjectRequest(id=SAMPLE_SUBJECT), timeout=10)
        return len(found.entries)
    finally:
        assert daemon.stop() == 0, daemon.log_text()


def test_a_missing_sqlite_store_is_refused_not_created(tmp_path: Path) -> None:
    """ledger verify, report, overdue and rekey on a file that does not exist: non-zero, named, no file."""
    missing = tmp_path / "typo" / "checkd.db"
    url = f"sqlite:///{missing}"
    for name, args in read_commands(url, tmp_path).items():
        done = run_cli(*args, workdir=tmp_path)
        assert done.returncode != 0, (name, done.stdout)
        assert url in done.stderr and "does not exist" in done.stderr, (name, done.stderr)
        assert "ledger ok" not in done.stdout
        assert not missing.exists() and not missing.parent.exists(), name


def test_an_existing_sqlite_store_is_still_read(tmp_path: Path) -> None:
    """A store the daemon wrote is verified and reported on as before."""
    url = f"sqlite:///{tmp_path / 'checkd.db'}"
    sample_entries(url, tmp_path, True)
    verified = run_cli("ledger", "verify", "--db", url, workdir=tmp_path)
    assert verified.returncode == 0 and "\nledger ok: " in f"\n{verified.stdout}", verified.stderr
    report = run_cli(*read_commands(url, tmp_path)["report"], workdir=tmp_path)
    assert report.returncode == 0, report.stderr


@pytest.fixture
def empty_pg() -> Iterator[str]:
    """A fresh PostgreSQL database with no tables, addressed with a password (trust auth ignores it)."""
    for url in pg_database():
        yield url.replace("postgres@", "postgres:hunter2@")


def _tables(url: str) -> list[str]:
    plain = url.replace("postgresql+psycopg://", "postgresql://").replace(":hunter2@", "@")
    with psycopg.connect(plain) as connection:
        rows = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return [row[0] for row in rows]


@pytest.mark.postgres
def test_an_empty_postgresql_database_is_refused(empty_pg: str, tmp_path: Path) -> None:
    """No checkd schema: every read command refuses, names the URL without its password, creates nothing."""
    shown = empty_pg.replace(":hunter2@", ":***@")
    for name, args in read_commands(empty_pg, tmp_path).items():
        done = run_cli(*args, workdir=tmp_path)
        assert done.returncode != 0, (name, done.stdout)
        assert shown in done.stderr and "holds no checkd store" in done.stderr, (name, done.stderr)
        assert "hunter2" not in done.stderr + done.stdout, name
    assert _tables(empty_pg) == []


@pytest.mark.postgres
def test_a_postgresql_store_gets_the_sample_only_when_asked(tmp_path: Path) -> None:
    """Without --sample a PostgreSQL store stays empty; with --sample it is seeded."""
    for url in pg_database():
        assert sample_entries(url, tmp_path, None) == 0
        assert sample_entries(url, tmp_path, True) >= 1


def test_only_the_embedded_default_store_gets_the_sample_by_default(tmp_path: Path) -> None:
    """`checkd serve` on its default --db is seeded (the README's first command); another file is not."""
    assert sample_entries(f"sqlite:///{tmp_path / 'other.db'}", tmp_path, None) == 0
    assert sample_entries("sqlite:///var/checkd.db", tmp_path, None) >= 1  # relative to the daemon's cwd
    assert (tmp_path / "var" / "checkd.db").is_file()
    assert sample_entries(f"sqlite:///{tmp_path / 'other.db'}", tmp_path, False) == 0
