"""Bulk inserts on the hot path: one multi-row statement per chunk on SQLite, executemany elsewhere."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from checkd.store.tables import Base

# Rows per SQLite statement: well under its 32,766 bound parameters for the widest table.
SQLITE_ROWS = 500


def insert_rows(session: Session, mapped: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows of a mapped table that all carry the same columns, in the session's transaction."""
    if not rows:
        return
    table = Base.metadata.tables[mapped.__tablename__]
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        connection.execute(insert(table), list(rows))  # psycopg pipelines an executemany
        return
    # sqlite3 gives up the GIL around every row of an executemany and must win it back from the
    # busy request threads each time (up to the 5 ms switch interval per row under load); a
    # single multi-row statement pays that once per chunk.
    columns = tuple(rows[0])
    processors = _processors(table, columns, dialect)
    for start in range(0, len(rows), SQLITE_ROWS):
        chunk = rows[start : start + SQLITE_ROWS]
        values = [
            process(row[column]) if process else row[column]
            for row in chunk
            for column, process in zip(columns, processors, strict=True)
        ]
        connection.exec_driver_sql(_statement(table.name, columns, len(chunk)), tuple(values))


def insert_driver_rows(
    driver: Any, table: str, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert rows given as tuples in `columns` order, already bound, through a raw sqlite3 connection.

    The ledger writer's path: values are what SQLAlchemy's bind processors would store (see
    `stamper`), so the stored bytes are those `insert_rows` stores. A conflict (a retried
    request_id stored meanwhile) rolls back the whole transaction, as the writer does with any
    failure: so SQLite keeps no statement journal to undo one statement alone, which it wrote to a
    temporary file it created and deleted in every commit (strace of a serving daemon).
    """
    for start in range(0, len(rows), SQLITE_ROWS):
        chunk = rows[start : start + SQLITE_ROWS]
        values = [value for row in chunk for value in row]
        driver.execute(_statement(table, columns, len(chunk), "ROLLBACK"), values)


def stamper(mapped: type[Base], column: str, dialect: Dialect) -> Callable[[Any], Any]:
    """A column's bind processor that converts each distinct value once, for the raw path.

    The records of one batch share their instant: formatting it per row cost more than the rest
    of the row.
    """
    table = Base.metadata.tables[mapped.__tablename__]
    process = _processors(table, (column,), dialect)[0]
    last: list[Any] = [None, None]

    def stamp(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, (process(value) if process else value)
        return last[1]

    return stamp


@functools.cache
def _processors(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[Callable[[Any], Any] | None, ...]:
    """Each column's bind processor (how SQLAlchemy stores a datetime in SQLite, for one)."""
    return tuple(table.c[column].type.dialect_impl(dialect).bind_processor(dialect) for column in columns)


@functools.lru_cache(maxsize=256)
def _statement(
    table: str, columns: tuple[str, ...], rows: int, conflict: Literal["ABORT", "ROLLBACK"] = "ABORT"
) -> str:
    """A multi-row INSERT; `conflict` is SQLite's resolution (ABORT, its default, undoes one statement)."""
    one = "(" + ", ".join("?" * len(columns)) + ")"
    return f"INSERT OR {conflict} INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([one] * rows)
