"""Shared fixtures: a fresh store per backend (SQLite file, real PostgreSQL) and a running daemon."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.daemon import RunningDaemon, start_daemon

PG_ADMIN = os.environ.get("CHECKD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database (dropped afterwards), as a SQLAlchemy URL."""
    name = f"checkd_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store URL for each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'checkd.db'}"
    else:
        yield from pg_database()


@pytest.fixture
def daemon(db_url: str, tmp_path: Path) -> Iterator[RunningDaemon]:
    """A running daemon on an empty store of each backend."""
    running = start_daemon(db_url, tmp_path)
    try:
        yield running
    finally:
        code = running.stop()
        assert code == 0, running.log_text()
