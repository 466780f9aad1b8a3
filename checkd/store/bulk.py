"""Bulk inserts on the hot path: one multi-row statement per chunk on SQLite, executemany elsewhere."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

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


@functools.cache
def _processors(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[Callable[[Any], Any] | None, ...]:
    """Each column's bind processor (how SQLAlchemy stores a datetime in SQLite, for one)."""
    return tuple(table.c[column].type.dialect_impl(dialect).bind_processor(dialect) for column in columns)


@functools.lru_cache(maxsize=256)
def _statement(table: str, columns: tuple[str, ...], rows: int) -> str:
    one = "(" + ", ".join("?" * len(columns)) + ")"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([one] * rows)
