"""Inbox: a webhook's failed tries are counted in the database, not in a process's memory.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

``attempts`` counts the tries whose handler raised; ``retry_at`` is when the row may be
tried again (``NULL``: at once). A poison webhook is marked ``failed`` once ``attempts``
reaches the budget, across every worker process and restart (``retrying.decide``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns (rows stored before have no failed try)."""
    op.add_column(
        "inbox", sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    op.add_column("inbox", sa.Column("retry_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    """Drop the columns."""
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("retry_at")
        batch.drop_column("attempts")
