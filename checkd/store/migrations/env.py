"""Alembic environment: runs the revisions on the connection checkd hands over (never a URL of its own)."""

from __future__ import annotations

from alembic import context

from checkd.store.tables import Base

# checkd.store.migrations.versioning opens the connection (with its lock) and passes it here.
connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
