"""The scheduled occurrences of recurring meetings and webinars.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

One row per meeting or webinar and ``occurrence_id`` with its scheduled start, as the
registration webhooks (``occurrences``) or ``GET /webinars/{webinarId}`` listed it: the
started webhook names no occurrence, so a live instance is matched to the one whose
scheduled start is nearest its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "zoom_occurrences"


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        TABLE,
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("meeting_id", sa.BigInteger(), nullable=False),
        sa.Column("occurrence_id", sa.String(32), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "meeting_id", "occurrence_id", name="pk_zoom_occurrences"),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table(TABLE)
