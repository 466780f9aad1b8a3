"""The schema version of a store: create a new store at the head, upgrade an old one, refuse a mismatch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, create_engine, event, inspect, text
from sqlalchemy.engine import Engine

from checkd.errors import FailedPrecondition
from checkd.store.tables import Base

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

# The newest revision in versions/ (a test holds the two together). Opening a store at the head
# compares with this constant and never imports alembic, which costs a CLI command a second.
HEAD = "0002"

# The revision every store without an alembic_version table but with checkd's tables is at:
# releases before 0.2.0 made their schema with create_all and recorded no version.
FIRST_REVISION = "0001"
FIRST_RELEASE = "0.1.0"
CORE_TABLES = ("meta", "ledger", "list_entries")  # every checkd store has had them from the start
UPGRADE_COMMAND = "checkd db upgrade"
# Set by the upgrade from 0.1.0, whose admin records named no entry digests; cleared by the admin
# record that names every entry as it stood then (EntryRepository.baseline_change).
BASELINE_KEY = "entry_baseline_owed"
_LOCK_KEY = 0x636865636B64  # "checkd": one PostgreSQL advisory lock for schema changes


class SchemaMismatch(FailedPrecondition):
    """The store's schema is not the one this checkd is written for: older (upgrade it) or newer."""


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a store stands: empty, or at a revision (FIRST_REVISION when it predates versioning)."""

    empty: bool
    revision: str | None
    versioned: bool
    baseline_owed: bool = False  # upgraded from 0.1.0, its entries not yet named in the ledger

    def describe(self) -> str:
        """The state in words, as `checkd db current` prints it."""
        if self.empty:
            return "empty (no checkd tables)"
        if not self.versioned:
            return f"{FIRST_REVISION} (release {FIRST_RELEASE}, no version recorded)"
        return f"{self.revision}{' (head)' if self.revision == head() else ''}"


def _alembic(connection: Connection | None = None) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic())


def head() -> str:
    """The revision this checkd is written for."""
    return HEAD


def newest_script_revision() -> str | None:
    """The head of the revision files themselves (what HEAD must equal)."""
    return _scripts().get_current_head()


def _known(revision: str) -> bool:
    return any(script.revision == revision for script in _scripts().walk_revisions())


def state_of(connection: Connection) -> SchemaState:
    """The schema state of the store behind an open connection."""
    present = set(inspect(connection).get_table_names())
    if not any(name in present for name in CORE_TABLES):
        return SchemaState(empty=True, revision=None, versioned=False)
    revision = None
    if "alembic_version" in present:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if revision is None:
        return SchemaState(empty=False, revision=FIRST_REVISION, versioned=False)
    owed = connection.execute(text("SELECT 1 FROM meta WHERE key = :key"), {"key": BASELINE_KEY}).first()
    return SchemaState(empty=False, revision=revision, versioned=True, baseline_owed=owed is not None)


def mismatch(state: SchemaState, shown_url: str) -> SchemaMismatch | None:
    """None when a store in this state can be used as it is, else the refusal saying what to do."""
    wanted = head()
    if state.revision == wanted and state.baseline_owed:
        return SchemaMismatch(
            f"the upgrade of the store {shown_url} is not finished (its list entries are not yet "
            f"recorded in the ledger): run `{UPGRADE_COMMAND} --db URL` again"
        )
    if state.empty or state.revision == wanted:
        return None
    if state.revision is not None and not _known(state.revision):
        return SchemaMismatch(
            f"the store {shown_url} has schema revision {state.revision}, newer than this checkd "
            f"knows (its newest is {wanted}); `{UPGRADE_COMMAND}` cannot go back: run the checkd "
            "release that upgraded it, or restore a backup taken before"
        )
    return SchemaMismatch(
        f"the store {shown_url} has schema revision {state.describe()}, this checkd needs {wanted}: "
        f"back it up, then run `{UPGRADE_COMMAND} --db URL` (with the same --db or --config as serve)"
    )


def _ddl_engine(engine: Engine) -> Engine:
    """An engine for schema changes that runs each in one real transaction.

    Python's sqlite3 commits before DDL on its own, so a failed upgrade would leave half of it;
    BEGIN IMMEDIATE makes SQLite's DDL transactional like PostgreSQL's and takes the write lock
    first, so two processes opening one new store do not both create it.
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return engine
    ddl = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(ddl, "connect")
    def _manual(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(ddl, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return ddl


@contextmanager
def _schema_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction holding the store's schema lock: concurrent openers and upgraders wait."""
    ddl = _ddl_engine(engine)
    try:
        with ddl.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            yield connection
    finally:
        if ddl is not engine:
            ddl.dispose()


def _create_at_head(connection: Connection) -> None:
    # A new store gets today's tables directly and is stamped at the head: replaying every revision
    # would give the same schema (a test compares them) at more cost.
    from alembic import command

    Base.metadata.create_all(connection)
    command.stamp(_alembic(connection), "head")


def open_schema(engine: Engine, shown_url: str) -> SchemaState:
    """Create an empty store at the head; refuse (SchemaMismatch) one at another revision."""
    with _schema_transaction(engine) as connection:
        state = state_of(connection)
        if state.empty:
            _create_at_head(connection)
            return SchemaState(empty=False, revision=head(), versioned=True)
    problem = mismatch(state, shown_url)
    if problem is not None:
        raise problem
    return state


def require_head(engine: Engine, shown_url: str) -> None:
    """Refuse a store that is not at the head (for the commands that only read a store)."""
    with engine.connect() as connection:
        state = state_of(connection)
    problem = mismatch(state, shown_url)
    if problem is not None:
        raise problem


def upgrade(engine: Engine, shown_url: str) -> tuple[SchemaState, SchemaState]:
    """Bring the store to the head in one transaction; (state before, state after)."""
    with _schema_transaction(engine) as connection:
        before = state_of(connection)
        if before.empty:
            _create_at_head(connection)
        else:
            problem = mismatch(before, shown_url)
            if problem is not None and before.revision is not None and not _known(before.revision):
                raise problem
            from alembic import command

            config = _alembic(connection)
            if not before.versioned:
                command.stamp(config, FIRST_REVISION)
            command.upgrade(config, "head")
        after = state_of(connection)
    return before, after


def current(engine: Engine) -> SchemaState:
    """The store's schema state, changing nothing."""
    with engine.connect() as connection:
        return state_of(connection)
