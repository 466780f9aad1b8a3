"""The schema of release 0.1.0: list entries, relations, meta, the ledger, checks and feedback.

Written out here rather than taken from checkd.store.tables, so that it stays the 0.1.0 schema
whatever the tables become.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite's rowid needs INTEGER


def upgrade() -> None:
    """Create the tables of 0.1.0 with their indexes."""
    op.create_table(
        "list_entries",
        sa.Column("entry_id", sa.String(128), primary_key=True),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("display_id", sa.String(32), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_name", sa.String(256), nullable=False),
        sa.Column("list_id", sa.String(64), nullable=False),
        sa.Column("authority", sa.String(256), nullable=False),
        sa.Column("document_no", sa.String(256), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("org_code", sa.String(16), nullable=False),
        sa.Column("registration_no", sa.String(16), nullable=False),
        sa.Column("related", sa.Text(), nullable=False),
        sa.Column("revoked_at", _WHEN, nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=False),
        sa.Column("revoke_document_no", sa.String(256), nullable=False),
        sa.Column("revoke_kind", sa.String(16), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
    )
    for column in ("subject_key", "org_code", "registration_no"):
        op.create_index(f"ix_list_entries_{column}", "list_entries", [column])
    op.create_table(
        "entry_relations",
        sa.Column("entry_id", sa.String(128), primary_key=True),
        sa.Column("person_key", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(32), primary_key=True),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "ledger",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref_id", sa.String(64), nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    _create_checks()
    op.create_table(
        "feedback_outcomes",
        sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
        sa.Column("feedback_id", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(64), nullable=False),
        sa.Column("measure_id", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
    )
    op.create_index("ix_feedback_outcomes_check", "feedback_outcomes", ["check_id"])
    op.create_table(
        "feedback",
        sa.Column("feedback_id", sa.String(64), primary_key=True),
        sa.Column("check_id", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("check_id", "digest", name="uq_feedback_digest"),
    )
    op.create_index("ix_feedback_check_id", "feedback", ["check_id"])


def _create_checks() -> None:
    op.create_table(
        "checks",
        sa.Column("check_id", sa.String(64), primary_key=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("matter", sa.String(256), nullable=False),
        sa.Column("scene", sa.String(64), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("subjects_hit_penalty", sa.Integer(), nullable=False),
        sa.Column("subjects_hit_reward", sa.Integer(), nullable=False),
        sa.Column("measures_mandatory", sa.Integer(), nullable=False),
        sa.Column("measures_discretionary", sa.Integer(), nullable=False),
        sa.Column("has_penalty", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("department", "request_id", name="uq_checks_request"),
    )
    op.create_index("ix_checks_department_recorded", "checks", ["department", "recorded_at"])
    op.create_index(
        "ix_checks_stats",
        "checks",
        [
            "recorded_at",
            "department",
            "has_penalty",
            "subjects",
            "subjects_hit_penalty",
            "subjects_hit_reward",
            "measures_mandatory",
            "measures_discretionary",
            "check_id",
        ],
    )
    op.create_index("ix_checks_penalty_recorded", "checks", ["has_penalty", "recorded_at"])


def downgrade() -> None:
    """Not supported: a store goes forward only (restore a backup to go back)."""
    raise NotImplementedError("checkd stores are upgraded, never downgraded")
