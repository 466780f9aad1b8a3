"""Database engine, schema creation and store-wide settings (meta)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from checkd.errors import Unavailable
from checkd.store.tables import Base, MetaRow


class StoreUnavailable(Unavailable):
    """The database cannot be reached or written."""


class Tx:
    """An open store transaction, passed through the ledger writer to a change committed with its record.

    Code outside the store only hands it on; the store's own functions use its session.
    """

    __slots__ = ("session",)

    def __init__(self, session: Session) -> None:
        self.session = session


def utc(value: dt.datetime) -> dt.datetime:
    """The same instant in UTC (SQLite hands back naive UTC, PostgreSQL the session's zone)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Database:
    """One engine and session factory for a database URL; creates the schema on open."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        options: dict[str, Any] = {"future": True}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = {"timeout": 5, "check_same_thread": False}
        else:
            options.update(pool_pre_ping=True, pool_size=8, max_overflow=8, pool_timeout=5,
                           connect_args={"connect_timeout": 5})
        self.engine: Engine = create_engine(url, **options)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        with self.guard():
            Base.metadata.create_all(self.engine)

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn driver-level failures into StoreUnavailable with a clear message."""
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
            raise StoreUnavailable(f"store unavailable: {detail}") from exc
        except PoolTimeout as exc:
            raise StoreUnavailable("store unavailable: no database connection free") from exc

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One session and one transaction; committed on success, rolled back on error."""
        with self.guard(), self._sessions.begin() as session:
            yield session

    def get_meta(self, key: str) -> str | None:
        """A store-wide setting, or None."""
        with self.transaction() as session:
            return session.scalar(select(MetaRow.value).where(MetaRow.key == key))

    def set_meta_if_absent(self, key: str, value: str) -> str:
        """Set a setting unless present; return the value in force."""
        with self.transaction() as session:
            row = session.get(MetaRow, key)
            if row is None:
                session.add(MetaRow(key=key, value=value))
                return value
            return row.value

    def close(self) -> None:
        """Release all connections."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single ledger writer; FULL sync makes an acknowledged
    # commit survive power loss, and group commit keeps that cheap.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
