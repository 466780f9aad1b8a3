"""What 0.2.0 adds: reinstatement columns on entries, request fingerprints on checks, signed checkpoints.

Rows of 0.1.0 stay as they were: an entry never reinstated has empty reinstatement fields, a
check recorded before fingerprints has an empty one (it answers any retry of its request_id as
before), and the ledger is not touched, so its chain and every record in it verify unchanged.
0.1.0's admin records named no digest of the entries they changed; the migration leaves a flag
(meta `entry_baseline_owed`) and `checkd db upgrade` then appends the admin record that names
every entry as it stands, clearing the flag in the same transaction; until then the store is
refused like an old one.

Each step is skipped when the store already has it: stores made by development builds between
0.1.0 and the first versioned release got these columns from `create_all` without a version.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BASELINE_OWED = "entry_baseline_owed"  # checkd.store.entries.ENTRY_BASELINE_KEY, as of this revision
_WHEN = sa.DateTime(timezone=True)
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_ENTRY_COLUMNS = (
    sa.Column("reinstated_at", _WHEN, nullable=True),
    sa.Column("reinstate_reason", sa.Text(), nullable=False, server_default=""),
    sa.Column("reinstate_document_no", sa.String(256), nullable=False, server_default=""),
    sa.Column("reinstate_lifted_at", _WHEN, nullable=True),
    sa.Column("reinstate_lifted_document_no", sa.String(256), nullable=False, server_default=""),
)


def upgrade() -> None:
    """Add the columns and the table 0.1.0 lacks."""
    inspector = sa.inspect(op.get_bind())
    present = {column["name"] for column in inspector.get_columns("list_entries")}
    for column in _ENTRY_COLUMNS:
        if column.name not in present:
            op.add_column("list_entries", column)
    if "request_fingerprint" not in {column["name"] for column in inspector.get_columns("checks")}:
        op.add_column(
            "checks", sa.Column("request_fingerprint", sa.String(64), nullable=False, server_default="")
        )
    if not inspector.has_table("ledger_checkpoints"):
        op.create_table(
            "ledger_checkpoints",
            sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
            sa.Column("seq", sa.BigInteger(), nullable=False),
            sa.Column("head_hash", sa.String(64), nullable=False),
            sa.Column("signed_at", _WHEN, nullable=False),
            sa.Column("key_id", sa.String(64), nullable=False),
            sa.Column("algorithm", sa.String(16), nullable=False),
            sa.Column("chain_algorithm", sa.String(16), nullable=False),
            sa.Column("signature", sa.Text(), nullable=False),
        )
        op.create_index("ix_ledger_checkpoints_seq", "ledger_checkpoints", ["seq"])
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    owed = op.get_bind().execute(sa.select(meta.c.key).where(meta.c.key == _BASELINE_OWED)).first()
    if owed is None:
        op.execute(meta.insert().values(key=_BASELINE_OWED, value=revision))


def downgrade() -> None:
    """Not supported: a store goes forward only (restore a backup to go back)."""
    raise NotImplementedError("checkd stores are upgraded, never downgraded")
