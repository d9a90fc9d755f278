"""Index attendance sessions by (instance_uuid, source, email).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

``gather.people_of`` walks an instance's final attendees in e-mail order, a page at a
time (``instance_uuid = ? AND source = 'final' AND email > ? ORDER BY email LIMIT n``).
Without this index each page sorted all of the instance's sessions again, which made
deriving a 200,000-person webinar superlinear.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX = "ix_attendance_sessions_instance_uuid_source_email"


def upgrade() -> None:
    """Create the index."""
    op.create_index(INDEX, "attendance_sessions", ["instance_uuid", "source", "email"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index(INDEX, table_name="attendance_sessions")
