"""Database engine, schema creation and store-wide settings (meta)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from checkd.errors import FailedPrecondition, NotFound, Unavailable
from checkd.store.migrations.versioning import CORE_TABLES, open_schema, require_head
from checkd.store.tables import MetaRow

_PROBE_KEY = "readiness_probe"  # never stored: the probe's UPDATE matches no row
# The PostgreSQL advisory lock every ledger append holds until its commit (an arbitrary constant
# that names checkd's chain head; "checkd" in ASCII), so writers of every replica take turns.
CHAIN_LOCK_KEY = 0x636865636B64
SCHEMA_LOCK_KEY = CHAIN_LOCK_KEY + 1  # held while tables or indexes are created
# How long an append waits for another replica's turn before it is refused as unavailable: far
# above a group commit, well below a caller's patience.
CHAIN_LOCK_WAIT = "10s"


class StoreUnavailable(Unavailable):
    """The database cannot be reached or written."""


class Tx:
    """An open store transaction, passed through the ledger writer to a change committed with its record.

    Opaque outside the store: code there only hands it on. Each store has its own kind (the SQL
    one below, the in-memory twin's in `store/memory`), and a change reads it back with its
    store's accessor, so a change can never run on another store's transaction.
    """

    __slots__ = ()


class SessionTx(Tx):
    """A transaction of the SQL store: the SQLAlchemy session it runs in."""

    __slots__ = ("session",)

    def __init__(self, session: Session) -> None:
        self.session = session


def session_of(tx: Tx) -> Session:
    """The session of a SQL store's transaction (TypeError for another store's)."""
    if not isinstance(tx, SessionTx):
        raise TypeError(f"a SQL store change was given a {type(tx).__name__}, not a SQL transaction")
    return tx.session


def utc(value: dt.datetime) -> dt.datetime:
    """The same instant in UTC (SQLite hands back naive UTC, PostgreSQL the session's zone)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class UnsupportedStore(FailedPrecondition):
    """A database URL checkd cannot open: not a URL, or a backend other than SQLite and PostgreSQL."""


_BACKENDS = ("sqlite", "postgresql")
_URL_HINT = "use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"


def _parsed_url(url: str) -> Any:
    """The parsed URL of a backend checkd supports, or UnsupportedStore saying which ones are."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UnsupportedStore(f"the database URL is not a URL; {_URL_HINT}") from None
    if parsed.get_backend_name() not in _BACKENDS:
        raise UnsupportedStore(
            f"unsupported database {shown_url(url)}: checkd stores in SQLite or PostgreSQL; {_URL_HINT}"
        )
    return parsed


class StoreMissing(NotFound):
    """A command that reads a store was pointed at one that does not exist or is not checkd's."""


class Database:
    """One engine and session factory for a database URL.

    On open (unless told not to) an empty database is given checkd's schema at the newest revision,
    and a store at another revision is refused (SchemaMismatch, naming `checkd db upgrade`).
    """

    def __init__(self, url: str, *, create: bool = True, make_directory: bool = False) -> None:
        parsed = _parsed_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        options: dict[str, Any] = {"future": True}
        if self.is_sqlite:
            if (create or make_directory) and parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = {"timeout": 5, "check_same_thread": False}
        else:
            options.update(
                pool_pre_ping=True,
                pool_size=8,
                max_overflow=8,
                pool_timeout=5,
                connect_args={"connect_timeout": 5},
            )
        self.engine: Engine = create_engine(url, **options)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if create:
            self.create_schema()

    def create_schema(self) -> None:
        """Create an empty store at the newest schema revision; refuse one at another revision."""
        with self.guard():
            open_schema(self.engine, shown_url(self.url))

    @contextmanager
    def schema_change(self) -> Iterator[Connection]:
        """A connection in a transaction that holds the schema, for creating tables or indexes.

        Replicas starting together on an empty store take turns, so none trips over a table
        another is creating at that moment.
        """
        with self.guard(), self.engine.begin() as connection:
            if self.is_sqlite:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK_KEY)))
            yield connection

    def missing_core_tables(self) -> list[str]:
        """Which of checkd's core tables the database lacks (all of them: not a checkd store)."""
        with self.guard():
            present = set(inspect(self.engine).get_table_names())
        return [name for name in CORE_TABLES if name not in present]

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

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A pooled connection for the per-request lookups (feedback, GetCheck, a replayed answer).

        They run statements built once, without the Session: its begin, commit and a statement
        built for each call cost some 200 us of Python per lookup, several times the lookup's own.
        Reads only: the connection's transaction is rolled back when it goes back to the pool.
        """
        with self.guard(), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def chain_transaction(self) -> Iterator[Session]:
        """A transaction that holds the chain head until it ends: one ledger writer at a time, store-wide.

        Every process on the store (replicas, `checkd import`) appends through one of these, so the
        head it reads inside is the head it commits on. PostgreSQL: a transaction-scoped advisory
        lock; SQLite: BEGIN IMMEDIATE, the file's write lock taken before the first read.
        """
        with self.transaction() as session:
            if self.is_sqlite:
                # pysqlite opens its transaction lazily at the first write; beginning it ourselves
                # takes the write lock now (it waits busy_timeout for another process to commit).
                session.execute(text("BEGIN IMMEDIATE"))
            else:
                session.execute(text(f"SET LOCAL lock_timeout = '{CHAIN_LOCK_WAIT}'"))
                session.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
            yield session

    @contextmanager
    def driver_chain_transaction(self) -> Iterator[Any]:
        """SQLite only: `chain_transaction` on the raw sqlite3 connection, for the ledger writer's batches.

        The same lock (BEGIN IMMEDIATE), the same commit and the same pooled connection (with its
        pragmas), without the Session: its begin, execute and commit cost some 200-400 us of
        Python per batch, more than the batch's own rows at the sizes group commit forms. The
        driver's errors are raised as SQLAlchemy's (IntegrityError, OperationalError, ...) so
        callers and `guard` treat them as on the Session path.
        """
        assert self.is_sqlite, "the raw chain transaction is SQLite's"
        with self.guard(), self.engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            error = self.engine.dialect.loaded_dbapi.Error
            try:
                driver.execute("BEGIN IMMEDIATE")
                yield driver
                driver.commit()
            except BaseException as exc:
                with suppress(error):  # a failed commit may have ended the transaction already
                    driver.rollback()
                if isinstance(exc, error):
                    raise DBAPIError.instance(None, None, exc, error) from exc
                raise

    def get_meta(self, key: str) -> str | None:
        """A store-wide setting, or None."""
        with self.transaction() as session:
            return session.scalar(select(MetaRow.value).where(MetaRow.key == key))

    def get_metas(self, keys: tuple[str, ...]) -> dict[str, str]:
        """Several store-wide settings read together (one consistent snapshot); absent keys are left out."""
        with self.transaction() as session:
            rows = session.execute(select(MetaRow.key, MetaRow.value).where(MetaRow.key.in_(keys)))
            return {key: value for key, value in rows}

    def set_meta_if_absent(self, key: str, value: str) -> str:
        """Set a setting unless present; return the value in force (another process's, if it was first)."""
        try:
            with self.transaction() as session:
                row = session.get(MetaRow, key)
                if row is None:
                    session.add(MetaRow(key=key, value=value))
                    return value
                return row.value
        except IntegrityError:  # a replica starting beside us stored it between our read and write
            found = self.get_meta(key)
            assert found is not None  # it was just stored, and settings are never deleted
            return found

    def writable(self) -> str | None:
        """None when the store takes a write now, else why not (for readiness; nothing is changed).

        A write statement that matches no row still takes the write lock, so a SQLite file locked
        by another process or a PostgreSQL that is unreachable or read-only is seen as unwritable;
        a trivial SELECT would pass in both cases.
        """
        try:
            with self.transaction() as session:
                session.execute(update(MetaRow).where(MetaRow.key == _PROBE_KEY).values(value=MetaRow.value))
        except Exception as exc:
            return str(getattr(exc, "message", exc))
        return None

    def close(self) -> None:
        """Release all connections."""
        self.engine.dispose()


def shown_url(url: str) -> str:
    """The URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def open_url(url: str) -> Database:
    """Open a database as it is, changing nothing; a SQLite file that does not exist is refused.

    SQLite would create the file on connect, so its existence is checked first.
    """
    parsed, shown = _parsed_url(url), shown_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise StoreMissing(f"{shown} is an in-memory database: it holds no checkd store")
        if not Path(parsed.database).is_file():
            raise StoreMissing(f"no checkd store at {shown}: the file does not exist (nothing was created)")
    return Database(url, create=False)


def open_existing(url: str) -> Database:
    """Open a store that must already exist and hold checkd's schema, for the commands that read one.

    An audit (`ledger verify`), a report or a re-keying pointed at a wrong URL must say so, not
    create an empty store and report on nothing: SQLite would create the file on connect, so the
    file is checked first; on PostgreSQL the tables are. A store at another schema revision is
    refused like at serve (nothing is changed: `checkd db upgrade` does that).
    """
    shown = shown_url(url)
    database = open_url(url)
    try:
        missing = database.missing_core_tables()
    except StoreUnavailable as exc:
        database.close()
        raise StoreUnavailable(f"{shown}: {exc.message}") from exc
    if missing:
        database.close()
        raise StoreMissing(
            f"{shown} holds no checkd store (no {', '.join(missing)} table); nothing was created"
        )
    try:
        with database.guard():
            require_head(database.engine, shown)
    except BaseException:
        database.close()
        raise
    return database


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single ledger writer; FULL sync makes an acknowledged
    # commit survive power loss, and group commit keeps that cheap.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
