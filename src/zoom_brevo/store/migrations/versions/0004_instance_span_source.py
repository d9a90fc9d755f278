"""Meeting instances: where their span came from.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

``span_source`` (``live`` | ``event`` | ``report``) ranks the observation that set an
instance's start and end (``store.facts``): a participant webhook can no longer overwrite
the span that ``meeting.ended`` or Zoom's final report established. Rows stored before
this revision have none; the next observation of any source sets it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column (nullable: earlier rows stay without a source)."""
    op.add_column("meeting_instances", sa.Column("span_source", sa.String(20)))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("meeting_instances") as batch:
        batch.drop_column("span_source")
