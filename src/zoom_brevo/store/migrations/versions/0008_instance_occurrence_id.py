"""Meeting instances: the occurrence of a recurring meeting or webinar they were.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

``occurrence_id`` is Zoom's id of the occurrence an instance held (the scheduled start in
milliseconds since the epoch, as ``GET /webinars/{webinarId}`` lists it); ``NULL`` for an
instance of a meeting or webinar that does not recur, and for rows stored before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column (nullable: not every instance is an occurrence)."""
    op.add_column("meeting_instances", sa.Column("occurrence_id", sa.String(32)))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("meeting_instances") as batch:
        batch.drop_column("occurrence_id")
