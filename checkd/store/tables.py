"""SQLAlchemy table definitions (Mapped[] models); used only inside checkd.store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of checkd's tables."""


class EntryRow(Base):
    """A list entry; persons are keyed by a keyed hash, never by the clear number."""

    __tablename__ = "list_entries"

    entry_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    subject_key: Mapped[str] = mapped_column(String(64), index=True)
    display_id: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_name: Mapped[str] = mapped_column(String(256))
    list_id: Mapped[str] = mapped_column(String(64))
    authority: Mapped[str] = mapped_column(String(256))
    document_no: Mapped[str] = mapped_column(String(256))
    level: Mapped[str] = mapped_column(String(16))
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(32), default="")
    org_code: Mapped[str] = mapped_column(String(16), default="", index=True)
    registration_no: Mapped[str] = mapped_column(String(16), default="", index=True)
    related: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of related persons
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    revoke_document_no: Mapped[str] = mapped_column(String(256), default="")
    revoke_kind: Mapped[str] = mapped_column(String(16), default="")
    # The last explicit reinstatement and the revocation it lifted (a feed import never sets these).
    reinstated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reinstate_reason: Mapped[str] = mapped_column(Text, default="")
    reinstate_document_no: Mapped[str] = mapped_column(String(256), default="")
    reinstate_lifted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reinstate_lifted_document_no: Mapped[str] = mapped_column(String(256), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class RelatedRow(Base):
    """A person tied to a listed organisation's entry in a role (for GetSubject by person)."""

    __tablename__ = "entry_relations"

    entry_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class MetaRow(Base):
    """Store-wide settings and counters (data version, key fingerprint)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LedgerRow(Base):
    """One hash-chained evidence record: a check, a feedback or an administrative act."""

    __tablename__ = "ledger"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class CheckRow(Base):
    """Lookup row of a check: by id, and by (department, request_id) for idempotency."""

    __tablename__ = "checks"
    __table_args__ = (
        UniqueConstraint("department", "request_id", name="uq_checks_request"),
        Index("ix_checks_department_recorded", "department", "recorded_at"),
        # Statistics over all departments scan by time; the index carries every figure they add
        # up, so a year's report reads the index alone instead of a million scattered rows.
        Index(
            "ix_checks_stats",
            "recorded_at",
            "department",
            "has_penalty",
            "subjects",
            "subjects_hit_penalty",
            "subjects_hit_reward",
            "measures_mandatory",
            "measures_discretionary",
            "check_id",
        ),
        # The overdue follow-up: penalty checks by time.
        Index("ix_checks_penalty_recorded", "has_penalty", "recorded_at"),
    )

    check_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    department: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    matter: Mapped[str] = mapped_column(String(256))
    scene: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    seq: Mapped[int] = mapped_column(BigInteger)
    # Figures for the closed-loop statistics, fixed at check time.
    subjects: Mapped[int] = mapped_column(default=0)
    subjects_hit_penalty: Mapped[int] = mapped_column(default=0)
    subjects_hit_reward: Mapped[int] = mapped_column(default=0)
    measures_mandatory: Mapped[int] = mapped_column(default=0)
    measures_discretionary: Mapped[int] = mapped_column(default=0)
    has_penalty: Mapped[bool] = mapped_column(default=False)
    # sha256 of the canonical request: a request_id reused for another request is refused.
    request_fingerprint: Mapped[str] = mapped_column(String(64), default="")


class FeedbackOutcomeRow(Base):
    """One reported outcome of one measure for one subject (for statistics)."""

    __tablename__ = "feedback_outcomes"
    __table_args__ = (Index("ix_feedback_outcomes_check", "check_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    feedback_id: Mapped[str] = mapped_column(String(64))
    check_id: Mapped[str] = mapped_column(String(64))
    measure_id: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FeedbackRow(Base):
    """Lookup row of a feedback, unique per check and content so a resend is stored once."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("check_id", "digest", name="uq_feedback_digest"),)

    feedback_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    check_id: Mapped[str] = mapped_column(String(64), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    seq: Mapped[int] = mapped_column(BigInteger)


class CheckpointRow(Base):
    """A signed statement that the chain reached `seq` with `head_hash`, by a key kept off the store."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    key_id: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(16))  # signature: ed25519 | sm2
    chain_algorithm: Mapped[str] = mapped_column(String(16))  # chain hash: sha256 | sm3
    signature: Mapped[str] = mapped_column(Text)  # base64
