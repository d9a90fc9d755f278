"""Initial schema: inbox, jobs, outbox, ledger, cursors, facts, rate buckets, tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Written out in full rather than imported from ``schema.py``: a migration is frozen history,
while the schema module keeps moving.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def _lease_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    ]


def _queues() -> None:
    op.create_table(
        "inbox",
        _id(),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("dedupe_key", sa.String(500), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("raw_body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("processed_at", TS, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
        sa.UniqueConstraint("dedupe_key", name="uq_inbox_dedupe_key"),
    )
    op.create_index("ix_inbox_status_id", "inbox", ["status", "id"])
    op.create_table(
        "jobs",
        _id(),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("unique_key", sa.String(500), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("run_at", TS, nullable=False),
        *_lease_columns(),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("unique_key", name="uq_jobs_unique_key"),
    )
    op.create_index("ix_jobs_state_run_at", "jobs", ["state", "run_at"])
    op.create_table(
        "outbox",
        _id(),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("coalesce_key", sa.String(500), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        *_lease_columns(),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_coalesce_key", "outbox", ["coalesce_key"])
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    op.create_table(
        "ledger",
        _id(),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ledger"),
        sa.UniqueConstraint("key", name="uq_ledger_key"),
    )
    op.create_table(
        "cursors",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.JSON(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_cursors"),
    )


def _meetings() -> None:
    op.create_table(
        "meeting_instances",
        sa.Column("uuid", sa.String(200), nullable=False),
        sa.Column("meeting_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("account_id", sa.String(100), nullable=True),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("host_id", sa.String(100), nullable=True),
        sa.Column("host_email", sa.String(320), nullable=True),
        sa.Column("start_time", TS, nullable=True),
        sa.Column("end_time", TS, nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("collect_state", sa.String(20), nullable=False),
        sa.Column("collected_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("uuid", name="pk_meeting_instances"),
    )
    op.create_index("ix_meeting_instances_meeting_id", "meeting_instances", ["meeting_id"])
    op.create_index("ix_meeting_instances_start_time", "meeting_instances", ["start_time"])
    op.create_table(
        "attendance_sessions",
        _id(),
        sa.Column("instance_uuid", sa.String(200), nullable=False),
        sa.Column("person_key", sa.String(400), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("join_time", TS, nullable=False),
        sa.Column("leave_time", TS, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_uuid"],
            ["meeting_instances.uuid"],
            name="fk_attendance_sessions_instance_uuid_meeting_instances",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_attendance_sessions"),
        sa.UniqueConstraint(
            "instance_uuid",
            "source",
            "person_key",
            "status",
            "join_time",
            name="uq_attendance_sessions_natural",
        ),
    )
    op.create_index("ix_attendance_sessions_email", "attendance_sessions", ["email"])
    op.create_table(
        "recordings",
        sa.Column("instance_uuid", sa.String(200), nullable=False),
        sa.Column("meeting_id", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("share_url", sa.Text(), nullable=True),
        sa.Column("passcode", sa.Text(), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("completed_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("instance_uuid", name="pk_recordings"),
    )


def _people() -> None:
    op.create_table(
        "registrants",
        _id(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("meeting_id", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("registrant_id", sa.String(100), nullable=True),
        sa.Column("occurrence_id", sa.String(100), nullable=True),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("join_url", sa.Text(), nullable=True),
        sa.Column("tracking_source", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registrants"),
        sa.UniqueConstraint(
            "kind", "meeting_id", "email", name="uq_registrants_kind_meeting_id_email"
        ),
    )
    op.create_index("ix_registrants_email", "registrants", ["email"])
    op.create_table(
        "people",
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("meetings_attended", sa.Integer(), nullable=False),
        sa.Column("total_minutes", sa.Float(), nullable=False),
        sa.Column("last_attended", TS, nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("email", name="pk_people"),
    )
    op.create_table(
        "import_rejections",
        _id(),
        sa.Column("process_id", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_import_rejections"),
    )
    op.create_index("ix_import_rejections_process_id", "import_rejections", ["process_id"])


def _shared_state() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_s", sa.Float(), nullable=False),
        sa.Column("paused_until_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_rate_buckets"),
    )
    op.create_table(
        "oauth_tokens",
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("subject", name="pk_oauth_tokens"),
    )


def upgrade() -> None:
    """Create every table."""
    _queues()
    _meetings()
    _people()
    _shared_state()


def downgrade() -> None:
    """Drop every table (children first)."""
    for table in (
        "oauth_tokens",
        "rate_buckets",
        "import_rejections",
        "people",
        "registrants",
        "recordings",
        "attendance_sessions",
        "meeting_instances",
        "cursors",
        "ledger",
        "outbox",
        "jobs",
        "inbox",
    ):
        op.drop_table(table)
