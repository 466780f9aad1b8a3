"""Alembic environment: runs the revisions on the connection checkd hands over (never a URL of its own)."""

from __future__ import annotations

from alembic import context

from checkd.store.tables import Base


def run_migrations() -> None:
    """Run the revisions alembic selected, on checkd.store.migrations.versioning's locked connection."""
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


# Alembic executes this file under a name of its own; an ordinary import (tooling, tests) runs nothing.
if __name__ != "checkd.store.migrations.env":
    run_migrations()
