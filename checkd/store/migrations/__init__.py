"""The store's schema history (alembic): the environment, the revisions and the versioning of a store."""
